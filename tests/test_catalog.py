"""The catalog reader (issue 9): a production-shaped table read back whole, on SQLite and PostgreSQL 18."""

from __future__ import annotations

import pytest

from labkit import sqltext
from labkit.errors import ColumnNotFoundError
from tests.shapes import make_orders


def test_the_whole_table_is_read_from_the_catalog(db):
    cat = make_orders(db).catalog()
    pg = db.dialect.name == "postgresql"
    assert cat.key == ("id",)
    assert cat.column_names == ["id", "account_id", "code", "region", "amount", "note", "touched"]
    amount = cat.column("amount")
    assert amount.type == ("numeric(12,2)" if pg else "NUMERIC(12,2)")
    assert amount.not_null and amount.default == "0"
    assert amount.comment == ("in euros" if pg else None)  # SQLite has no comments
    assert cat.column("region").default == ("'eu'::text" if pg else "'eu'")
    assert cat.column("note").type == ("character varying(80)" if pg else "VARCHAR(80)")
    assert not cat.column("note").not_null and cat.column("note").default is None
    assert cat.column("id").identity == ("by default" if pg else None)
    kinds = sorted((c.kind, c.columns) for c in cat.constraints)
    assert kinds == [
        ("check", ("account_id",)),
        ("check", ("amount",)),
        ("check", ("note",)),
        ("foreign_key", ("account_id",)),
        ("primary_key", ("id",)),
        ("unique", ("code",)),
    ]
    fk = next(c for c in cat.constraints if c.kind == "foreign_key")
    assert (fk.ref_table, fk.ref_columns) == ("accounts", ("id",)) and "ON DELETE CASCADE" in fk.definition
    assert sorted((f.table, f.columns, f.ref_columns) for f in cat.incoming) == [
        ("refunds", ("order_code",), ("code",)),
        ("refunds", ("order_id",), ("id",)),
    ]
    unique = next(i for i in cat.indexes if i.name == "orders_account_region")
    assert unique.unique and unique.columns == ("account_id", "region") and not unique.partial
    partial = next(i for i in cat.indexes if i.name == "orders_big")
    assert partial.partial and not partial.unique and partial.columns == ("amount",)
    assert [t.name for t in cat.triggers] == ["orders_touch"]
    assert [(v.name, v.kind, sorted(v.columns)) for v in cat.views] == [("eu_orders", "view", ["id", "region"])]


def test_what_involves_one_column(db):
    cat = make_orders(db).catalog()
    payer = cat.about("account_id")
    assert sorted(c.kind for c in payer.constraints) == ["check", "foreign_key"]
    assert [i.name for i in payer.indexes] == ["orders_account_region"]
    assert not payer.incoming and not payer.views and not payer.in_key
    code = cat.about("code")
    assert [c.kind for c in code.constraints] == ["unique"] and not code.indexes  # its index backs the constraint
    assert [f.columns for f in code.incoming] == [("order_code",)]
    assert [v.name for v in cat.about("region").views] == ["eu_orders"]
    assert [i.name for i in cat.about("amount").indexes] == ["orders_big"]
    assert cat.about("id").in_key and cat.about("id").incoming
    touched = cat.about("touched")
    assert not (touched.constraints or touched.indexes or touched.incoming or touched.views)


def test_the_catalog_prints_one_property_per_line(db):
    cat = make_orders(db).catalog()
    text = str(cat)
    assert "column amount" in text and "referenced by refunds" in text and "view eu_orders" in text
    assert len(cat.lines()) == 1 + 7 + len(cat.constraints) + len(cat.indexes) + 2 + 1 + 1
    with pytest.raises(ColumnNotFoundError, match="column 'nope' does not exist on table 'orders'"):
        cat.column("nope")


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("CHECK ((amount >= 0))", "CHECK ((total >= 0))"),
        ("CHECK (\"amount\" > 'amount')", "CHECK (\"total\" > 'amount')"),  # a string is not a name
        ("lower(amount_x) = amount -- amount", "lower(amount_x) = total -- amount"),
        ("orders.amount + `amount`", "orders.total + `total`"),
    ],
)
def test_renaming_a_name_in_sql_text_leaves_strings_and_comments(sql, expected):
    assert sqltext.rename(sql, "amount", "total") == expected
    assert sqltext.mentions(sql, "amount") and not sqltext.mentions(expected.replace("amount", "x"), "amount")


def test_a_catalog_read_while_a_column_is_dropped_sees_its_snapshot_and_does_not_fail(pg, pg_url):
    """The columns came with pg_get_serial_sequence(table, column name), which looks the column up again, outside
    the query's snapshot: an app reading the catalog while the contract dropped a column got 'column "status" of
    relation "shop_order" does not exist' (tests/test_compose.py failed one run in three). Read from a snapshot taken
    before the drop, the catalog is that snapshot's, serial sequence and all."""
    import labkit as lk

    pg.execute("DROP TABLE IF EXISTS snap")
    pg.execute("CREATE TABLE snap (id bigserial PRIMARY KEY, gone text, n serial)")
    with lk.connect(pg_url) as reader:
        table = reader.table("snap")
        reader.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        reader.query("SELECT 1")  # the snapshot, taken now (no lock on the table: the drop below goes through)
        pg.execute("ALTER TABLE snap DROP COLUMN gone")
        try:
            catalog = table.catalog()
        finally:
            reader.execute("ROLLBACK")
    assert catalog.column_names == ["id", "gone", "n"]
    assert (catalog.column("id").sequence, catalog.column("n").sequence) == ("snap_id_seq", "snap_n_seq")
    assert pg.table("snap").column_names == ["id", "n"]
    pg.execute("DROP TABLE snap")
