"""A rename by copy on a production-shaped table (issue 9): every property of the column is kept, or the plan is
refused before any change. The whole catalog (of the table and of the table that references it) and every row
are compared before, during (after each step) and after the run, and after a rollback from every step."""

from __future__ import annotations

from dataclasses import replace

import pytest

import labkit as lk
from labkit.catalog import ColumnInfo
from tests.shapes import make_orders

PG_COPY = ("account_id", "payer_id")  # NOT NULL, DEFAULT, CHECK, outgoing FK, multi-column UNIQUE, comment
SQLITE_COPY = ("note", "remark")  # a column CHECK and an index: what SQLite can rebuild on another column


def renamed_rows(rows, old, new):
    return sorted(({(new if k == old else k): v for k, v in r.items()} for r in rows), key=lambda r: r["id"])


def rows_of(table):
    return sorted(table.rows(), key=lambda r: r["id"])


class CatalogWatch:
    """An observer: after each step, the old column still has every property it had, and no row changed."""

    def __init__(self, table, old, before, rows):
        self.table, self.old, self.rows = table, old, rows
        self.expected = before.about(old)
        self.checked: list[str] = []

    def on_tick(self, event, apps):
        if event.kind != "complete" or event.step in ("drop_column",):
            return
        now = self.table.catalog().about(self.old)
        relaxed = event.step == f"drop_not_null_{self.old}" or f"drop_not_null_{self.old}" in self.checked
        want = replace(self.expected.column, not_null=False) if relaxed else self.expected.column
        assert now.column == want, event.step
        assert (now.constraints, now.indexes, now.incoming) == (
            self.expected.constraints,
            self.expected.indexes,
            self.expected.incoming,
        ), event.step
        current = [{k: v for k, v in r.items() if k in self.rows[0]} for r in rows_of(self.table)]
        assert current == self.rows, f"a row changed during {event.step}"
        self.checked.append(event.step)


def test_postgres_copy_keeps_not_null_default_check_foreign_keys_unique_index_and_comment(pg):
    orders = make_orders(pg)
    old, new = PG_COPY
    before, refunds_before, rows = orders.catalog(), pg.table("refunds").catalog(), rows_of(orders)
    plan = lk.build_rename_column_migration(orders, old, new, batch_size=7)
    assert [f for f in lk.validate_migration_safety(plan, orders) if f.severity == "error"] == []
    watch = CatalogWatch(orders, old, before, rows)
    result = lk.MigrationRunner(orders, observers=[watch]).execute_plan(plan)
    assert result.ok, result.summary()
    assert len(watch.checked) == len(plan.steps) - 1  # every step but the drop was watched

    after = orders.catalog()
    assert after.column(new) == ColumnInfo(new, "bigint", not_null=True, default="1", comment="who pays")
    assert after.column_names == ["id", "code", "region", "amount", "note", "touched", new]  # a copy goes last
    defs = {c.name: c.definition for c in after.constraints}
    assert defs["orders_account_id_check"] == "CHECK ((payer_id > 0))"  # the original names are taken back
    assert defs["orders_account_id_fkey"] == "FOREIGN KEY (payer_id) REFERENCES accounts(id) ON DELETE CASCADE"
    index = next(i for i in after.indexes if i.name == "orders_account_region")
    assert index.unique and index.columns == (new, "region") and index.valid
    # everything else is exactly as it was: other columns, constraints, indexes, triggers, views, incoming keys
    untouched = [c for c in before.columns if c.name != old]
    assert [c for c in after.columns if c.name != new] == untouched
    others = lambda cat, col: [c for c in cat.constraints if col not in c.columns]  # noqa: E731
    assert others(after, new) == others(before, old)
    assert [i for i in after.indexes if new not in i.columns] == [i for i in before.indexes if old not in i.columns]
    assert (after.triggers, after.views, after.incoming, after.key) == (
        before.triggers,
        before.views,
        before.incoming,
        before.key,
    )
    assert pg.table("refunds").catalog() == refunds_before
    assert rows_of(orders) == renamed_rows(rows, old, new)  # `touched`: the user's trigger did not fire
    assert orders.triggers == ()
    assert orders.views == tuple(f'"labkit_{v}".{pg.dialect.quote("orders")}' for v in ("v2", "v3"))

    # and the table rejects what it rejected before
    def insert(**values):
        names = ", ".join(values)
        marks = ", ".join(["%s"] * len(values))
        with pg.transaction():
            pg.execute(f"INSERT INTO orders ({names}) VALUES ({marks})", list(values.values()))

    for bad, why in [
        ({new: -1}, "check"),
        ({new: 99}, "foreign key"),
        ({new: None}, "null value"),
        ({new: 2, "region": "r1"}, "duplicate key"),  # (2, r1) is taken: the multi-column UNIQUE index
    ]:
        with pytest.raises(Exception, match=why):
            insert(code=f"x-{why}", **bad)
    insert(code="x-default")  # the default
    assert pg.query("SELECT payer_id FROM orders WHERE code = 'x-default'") == [(1,)]
    pg.execute("DELETE FROM accounts WHERE id = 2")  # ON DELETE CASCADE
    assert pg.query("SELECT count(*) FROM orders WHERE payer_id = 2") == [(0,)]


def test_sqlite_copy_keeps_the_column_check_and_the_index(tmp_path):
    with lk.connect(f"sqlite:///{tmp_path}/lab.db") as db:
        orders = make_orders(db)
        old, new = SQLITE_COPY
        before, rows = orders.catalog(), rows_of(orders)
        plan = lk.build_rename_column_migration(orders, old, new, batch_size=7)
        result = lk.MigrationRunner(orders, observers=[CatalogWatch(orders, old, before, rows)]).execute_plan(plan)
        assert result.ok, result.summary()
        after = orders.catalog()
        assert after.column(new) == ColumnInfo(new, "VARCHAR(80)")
        check = next(c for c in after.constraints if c.name == "note_short")
        assert check.definition == "CHECK (length(remark) < 60)" and check.owner == new
        (index,) = [i for i in after.indexes if new in i.columns]
        assert index.name == "orders_remark" and not index.unique  # SQLite cannot rename it back to orders_note
        assert rows_of(orders) == renamed_rows(rows, old, new)
        with pytest.raises(Exception, match="CHECK"):
            db.execute("INSERT INTO orders (code, remark) VALUES ('x', ?)", ["y" * 70])


def test_a_fault_at_every_step_and_batch_rolls_back_to_the_exact_catalog_and_rows(db):
    orders = make_orders(db)
    old, new = PG_COPY if db.dialect.name == "postgresql" else SQLITE_COPY
    before, refunds_before, rows = orders.catalog(), db.table("refunds").catalog(), rows_of(orders)
    plan = lk.build_rename_column_migration(orders, old, new, batch_size=7)
    faults = [s.name for s in plan.steps] + ["backfill:2"]
    for fault in faults:
        result = lk.MigrationRunner(orders, fail_at=fault).execute_plan(plan)
        assert result.status == "rolled_back", f"{fault}: {result.summary()}"
        assert "as it was before the plan" in result.summary()
        assert orders.catalog() == before, fault
        assert db.table("refunds").catalog() == refunds_before, fault
        assert rows_of(orders) == rows, fault
        assert orders.triggers == () and orders.views == (), fault


REFUSED = {  # engine -> (column, a part of the reason given)
    "postgresql": [("code", "refunds.refunds_order_code_fkey references 'code'"), ("region", "eu_orders reads")],
    "sqlite": [
        ("code", "references 'code'"),
        ("region", "the view eu_orders reads 'region'"),
        ("account_id", "'account_id' is NOT NULL: SQLite cannot"),
        ("amount", "'amount' has DEFAULT 0"),
    ],
}


def test_a_copy_that_cannot_finish_is_refused_before_any_change(db):
    orders = make_orders(db)
    before, rows = orders.catalog(), rows_of(orders)
    for column, reason in REFUSED[db.dialect.name]:
        plan = lk.build_rename_column_migration(orders, column, f"{column}_v2", batch_size=7)
        errors = [f for f in lk.validate_migration_safety(plan, orders) if f.severity == "error"]
        assert errors and all(f.rule == "copy-loses-column-property" for f in errors)
        assert any(reason in f.message for f in errors), [f.message for f in errors]
        assert all("approach B" in f.message for f in errors)
        with pytest.raises(lk.PreflightError, match="refused before any change") as caught:
            lk.MigrationRunner(orders).execute_plan(plan)
        assert caught.value.findings == tuple(errors)
        assert orders.catalog() == before and rows_of(orders) == rows
        assert db.migrations() == []  # not even a run was recorded


@pytest.mark.parametrize("column", ["code", "region"])
def test_the_view_approach_renames_what_the_copy_cannot(db, column):
    orders = make_orders(db)
    before, rows = orders.catalog(), rows_of(orders)
    plan = lk.build_rename_column_migration(orders, column, f"{column}_v2", approach="view")
    result = lk.MigrationRunner(orders).execute_plan(plan)
    assert result.ok, result.summary()
    after = orders.catalog()
    assert after.column_names == [f"{column}_v2" if c == column else c for c in before.column_names]
    assert len(after.constraints) == len(before.constraints) and len(after.incoming) == len(before.incoming)
    assert rows_of(orders) == renamed_rows(rows, column, f"{column}_v2")


def test_a_plain_drop_of_a_column_others_depend_on_is_refused(db):
    orders = make_orders(db)
    for column, reason in [("code", "references 'code'"), ("region", "reads 'region'")]:
        plan = lk.MigrationPlan("drop", [lk.DropColumn("orders", column)])
        findings = [f for f in lk.validate_migration_safety(plan, orders) if f.rule == "drop-column-blocked"]
        assert findings and reason in findings[0].message and findings[0].severity == "error"
        with pytest.raises(lk.PreflightError):
            lk.MigrationRunner(orders).execute_plan(plan)
    ok = lk.MigrationPlan("drop", [lk.DropColumn("orders", "note")])  # its index and CHECK go with it
    assert "drop-column-blocked" not in {f.rule for f in lk.validate_migration_safety(ok, orders)}
    assert lk.MigrationRunner(orders).execute_plan(ok).ok and "note" not in orders.column_names
    if db.dialect.name == "sqlite":  # SQLite refuses to drop a column its trigger names
        plan = lk.MigrationPlan("drop", [lk.DropColumn("orders", "touched")])
        with pytest.raises(lk.PreflightError, match="trigger orders_touch names 'touched'"):
            lk.MigrationRunner(orders).execute_plan(plan)


def test_a_hand_built_copy_that_leaves_properties_behind_is_refused(pg):
    orders = make_orders(pg)
    steps = [
        lk.AddColumn("orders", "payer_id", sql_type="bigint"),
        lk.StartDualWrite("orders", "account_id", "payer_id", both_ways=True),
        lk.Backfill("orders", "payer_id", source="account_id", batch_size=7),
        lk.DropColumn("orders", "account_id"),
    ]
    findings = lk.validate_migration_safety(lk.MigrationPlan("bare copy", steps), orders)
    lost = [f.message for f in findings if f.rule == "copy-loses-column-property"]
    for what in ("comment on column payer_id", "CHECK ((payer_id > 0))", "REFERENCES accounts(id)",
                 "NOT NULL", "set the default of payer_id to 1", "index orders_account_region"):  # fmt: skip
        assert any(what in m for m in lost), (what, lost)


def test_a_failed_concurrent_index_build_leaves_no_invalid_index_and_a_leftover_one_is_rebuilt(pg):
    pg.execute("CREATE TABLE t (id bigint PRIMARY KEY, a int)")
    pg.execute("INSERT INTO t SELECT i, i % 5 FROM generate_series(1, 20) AS s(i)")  # duplicates in a
    t = pg.table("t")
    step = lk.CreateIndex("t", "a", "t_a_unique", "(a)", unique=True)
    result = lk.MigrationRunner(t).execute_plan(lk.MigrationPlan("unique a", [step]))
    assert result.status == "rolled_back" and "could not create unique index" in str(result.error)
    assert [i.name for i in t.catalog().indexes] == ["t_pkey"]  # the INVALID build was dropped
    with pytest.raises(Exception, match="could not create unique index"):
        pg.execute("CREATE UNIQUE INDEX CONCURRENTLY t_a_unique ON t (a)")  # leaves an INVALID index behind
    assert [(i.name, i.valid) for i in t.catalog().indexes] == [("t_a_unique", False), ("t_pkey", True)]
    pg.execute("UPDATE t SET a = id")  # the duplicates are gone; the leftover is still INVALID
    assert lk.MigrationRunner(t).execute_plan(lk.MigrationPlan("unique a", [step])).ok
    assert [(i.name, i.valid, i.unique) for i in t.catalog().indexes] == [
        ("t_a_unique", True, True),
        ("t_pkey", True, True),
    ]


def test_postgres_copy_rebuilds_a_partial_index_and_a_named_check(pg):
    orders = make_orders(pg)
    before, rows = orders.catalog(), rows_of(orders)
    result = lk.MigrationRunner(orders).execute_plan(lk.build_rename_column_migration(orders, "amount", "total"))
    assert result.ok, result.summary()
    after = orders.catalog()
    assert after.column("total") == replace(before.column("amount"), name="total")  # numeric(12,2), NOT NULL, ...
    big = next(i for i in after.indexes if i.name == "orders_big")
    assert big.partial and big.columns == ("total",) and "WHERE (total > (1000)::numeric)" in big.definition
    check = next(c for c in after.constraints if c.name == "amount_positive")
    assert check.definition == "CHECK ((total >= (0)::numeric))"
    assert rows_of(orders) == renamed_rows(rows, "amount", "total")


def test_postgres_copy_rebuilds_a_unique_constraint_as_a_constraint(pg):
    pg.execute("CREATE TABLE people (id bigint PRIMARY KEY, email text CONSTRAINT people_email_key UNIQUE)")
    pg.execute("INSERT INTO people SELECT i, 'p' || i || '@x.io' FROM generate_series(1, 25) i")
    people = pg.table("people")
    result = lk.MigrationRunner(people).execute_plan(lk.build_rename_column_migration(people, "email", "mail"))
    assert result.ok, result.summary()
    after = people.catalog()
    unique = next(c for c in after.constraints if c.kind == "unique")
    assert (unique.name, unique.columns, unique.definition) == ("people_email_key", ("mail",), "UNIQUE (mail)")
    assert [i.constraint for i in after.indexes if i.columns == ("mail",)] == ["people_email_key"]
    with pytest.raises(Exception, match="duplicate key"):
        pg.execute("INSERT INTO people VALUES (99, 'p1@x.io')")


def test_a_hand_built_copy_with_the_same_sql_passes_and_a_different_one_says_what_differs(tmp_path):
    """Issue 23: 07's hand-built copy (identical SQL; only sql_type spelled differently: none, which is TEXT) got
    "'contact_email' would not get what 'email' has: add column contact_email", which cannot be acted on."""
    from labkit import exercises

    with lk.connect(f"sqlite:///{tmp_path}/a.db") as db:
        users = db.import_table(exercises.users_for_check(seed=4))
        built = lk.build_rename_column_migration(users, "email", "contact_email", batch_size=10)

        def by_hand(add):
            return lk.MigrationPlan("by hand", [add, *built.steps[1:]], apps=built.apps)

        rules = lambda plan: [f for f in lk.validate_migration_safety(plan, users)  # noqa: E731
                              if f.rule == "copy-loses-column-property"]  # fmt: skip
        for spelling in (None, "text", " Text ", "TEXT"):
            assert rules(by_hand(lk.AddColumn("users", "contact_email", sql_type=spelling, label="add it"))) == []
        found = rules(by_hand(lk.AddColumn("users", "contact_email", sql_type="INTEGER")))
        assert len(found) == 1, found
        assert "your add_column of 'contact_email' has sql_type='integer' where the copy needs 'text'" in str(found[0])
