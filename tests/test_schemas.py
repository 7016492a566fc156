"""Tables outside the current schema (issue 9): ``db.table("schema.table")`` on PostgreSQL; views, triggers, locks
and state are scoped by schema and table, so two tables of one name never meet; nothing is left after a rollback."""

from __future__ import annotations

import pytest

import labkit as lk
from labkit import lab
from tests.conftest import db_rename_plan


@pytest.fixture
def two_users(pg):
    """``public.users`` and ``billing.users``: the same name and shape, different rows."""
    pg.execute("DROP SCHEMA IF EXISTS billing CASCADE")
    pg.execute("CREATE SCHEMA billing")
    public = pg.import_table(lab.make_users(20, seed=1))
    pg.execute("CREATE TABLE billing.users (id bigint PRIMARY KEY, name text, email text)")
    pg.execute("INSERT INTO billing.users SELECT i, 'billing ' || i, 'b' || i || '@x.io' FROM generate_series(1, 30) i")
    yield public, pg.table("billing.users")
    pg.execute("DROP SCHEMA IF EXISTS billing CASCADE")


def labkit_objects(db):
    """Every schema, function and trigger labkit made, anywhere in the database."""
    schemas = db.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'labkit%%' ORDER BY 1")
    functions = db.query("SELECT oid::regprocedure::text FROM pg_proc WHERE proname LIKE 'labkit%%' ORDER BY 1")
    triggers = db.query("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'labkit%%' ORDER BY 1")
    return schemas + functions + triggers


def test_a_table_in_another_schema_is_migrated_and_its_namesake_is_untouched(pg, two_users):
    public, billing = two_users
    assert (billing.name, billing.qualified, billing.row_count) == ("users", "billing.users", 30)
    public_before, public_rows = public.catalog(), public.rows()
    names = billing.column("name")
    result = lk.MigrationRunner(billing).execute_plan(db_rename_plan(billing))
    assert result.ok, result.summary()
    assert billing.column("full_name") == names and billing.catalog().schema == "billing"
    assert public.catalog() == public_before and public.rows() == public_rows  # its namesake: not touched
    assert billing.views == ('"labkit_billing_v2"."users"', '"labkit_billing_v3"."users"') and public.views == ()
    assert pg.query('SELECT count(*), min(full_name) FROM "labkit_billing_v3"."users"') == [(30, "billing 1")]
    assert [m["table_name"] for m in pg.migrations()] == ["billing.users"]
    assert labkit_objects(pg) == [("labkit_billing_v2",), ("labkit_billing_v3",)]


def test_a_rollback_in_another_schema_leaves_nothing_of_labkit(pg, two_users):
    _, billing = two_users
    before, rows = billing.catalog(), billing.rows()
    result = lk.MigrationRunner(billing, fail_at="stop_dual_write").execute_plan(db_rename_plan(billing))
    assert result.status == "rolled_back", result.summary()
    assert billing.catalog() == before and billing.rows() == rows
    assert labkit_objects(pg) == []


def test_locks_are_per_table_so_namesakes_migrate_side_by_side(pg, pg_url, two_users):
    public, billing = two_users

    class MigrateTheNamesake:  # while billing.users is mid-backfill, public.users migrates on its own connection
        done = None

        def on_tick(self, event, apps):
            if event.kind == "batch" and event.batch == 1 and self.done is None:
                with lk.connect(pg_url) as other:
                    users = other.table("users")
                    self.done = lk.MigrationRunner(users).execute_plan(db_rename_plan(users)).ok

    namesake = MigrateTheNamesake()
    assert lk.MigrationRunner(billing, observers=[namesake]).execute_plan(db_rename_plan(billing)).ok
    assert namesake.done is True
    assert "full_name" in public.column_names and "full_name" in billing.column_names


def test_a_production_table_in_another_schema_keeps_every_property(pg):
    pg.execute("DROP SCHEMA IF EXISTS shop CASCADE")
    pg.execute("CREATE SCHEMA shop")
    pg.execute("SET search_path TO shop")
    try:
        lab.make_orders(pg)
    finally:
        pg.execute("SET search_path TO public")
    try:
        orders = pg.table("shop.orders")
        before = orders.catalog()
        plan = lk.build_rename_column_migration(orders, "account_id", "payer_id", batch_size=7)
        assert lk.MigrationRunner(orders).execute_plan(plan).ok
        after = orders.catalog()
        fk = next(c for c in after.constraints if c.name == "orders_account_id_fkey")
        assert fk.definition == "FOREIGN KEY (payer_id) REFERENCES shop.accounts(id) ON DELETE CASCADE"
        assert len(after.constraints) == len(before.constraints) and len(after.indexes) == len(before.indexes)
        assert after.column("payer_id").comment == "who pays" and after.column("payer_id").not_null
    finally:
        pg.execute("DROP SCHEMA shop CASCADE")


def test_names_of_tables_in_schemas_are_checked(pg, tmp_path):
    pg.import_table(lab.make_users(3))
    assert pg.table("public.users").qualified == "users"  # the current schema: the same table as "users"
    with pytest.raises(lk.TableNotFoundError):
        pg.table("nowhere.users")
    with pytest.raises(lk.InvalidNameError):
        pg.table("Bad-Schema.users")
    with lk.connect(f"sqlite:///{tmp_path}/lab.db") as db:
        db.import_table(lab.make_users(3))
        with pytest.raises(lk.InvalidNameError, match="sqlite has no schemas"):
            db.table("main.users")
