"""One migration, one plan (issue 33, part 1): the statements of a migration file on one table become one plan whose
app versions know every change (`labkit.compose`), run under the app's writes, ending where the file as written
ends; changes that cannot share a plan stay apart, said why."""

from __future__ import annotations

import contextlib
import io

import pytest

import labkit as lk
from labkit.cli import main
from labkit.compose import compose
from labkit.convert import convert_sql, plans_by_table
from labkit.course.workload import AppWorkload
from labkit.stops import deploy_stops
from tests.conftest import complete_plan, reset_database
from tests.test_corpus import _unordered

# a Django 5.1 migration of an Order model (sqlmigrate's SQL): a field renamed, one added with a default (and the
# default dropped again, as Django does), a NOT NULL on a column with NULLs, a wider numeric, an index
ORDER_MIGRATION = """BEGIN;
--
-- Rename field status on order to state
--
ALTER TABLE "shop_order" RENAME COLUMN "status" TO "state";
--
-- Add field priority to order
--
ALTER TABLE "shop_order" ADD COLUMN "priority" integer DEFAULT 0 NOT NULL;
ALTER TABLE "shop_order" ALTER COLUMN "priority" DROP DEFAULT;
--
-- Alter field note on order
--
ALTER TABLE "shop_order" ALTER COLUMN "note" SET NOT NULL;
--
-- Alter field total on order
--
ALTER TABLE "shop_order" ALTER COLUMN "total" TYPE numeric(14, 2);
CREATE INDEX "shop_order_state_idx" ON "shop_order" ("state");
COMMIT;
"""


def _orders(db: lk.Database, rows: int = 600) -> lk.DbTable:
    db.execute("CREATE TABLE shop_order (id bigserial PRIMARY KEY, status varchar(20) NOT NULL, "
               "note text, total numeric(10, 2) NOT NULL DEFAULT 0)")  # fmt: skip
    db.execute("INSERT INTO shop_order (status, note, total) SELECT 's' || (g % 4), CASE WHEN g % 9 = 0 THEN NULL "
               f"ELSE 'n' || g END, g * 1.5 FROM generate_series(1, {rows}) g")  # fmt: skip
    return db.table("shop_order")


def _convert(db: lk.Database) -> list[lk.MigrationPlan]:
    conversions = convert_sql(ORDER_MIGRATION, db, fill={"note": lk.SQL("''")}, in_catalog=["total"])
    assert all(c.plan is not None or c.noted for c in conversions), [str(c) for c in conversions]
    return plans_by_table(conversions)


def test_a_django_migration_of_five_changes_is_one_plan_whose_new_version_knows_every_column(pg):
    reset_database(pg)
    _orders(pg)
    (plan,) = _convert(pg)  # one plan, not four
    last = plan.apps[-1]
    assert {"state", "priority", "note", "total"} <= set(last.reads) & set(last.writes), last.describe()
    assert "status" not in last.reads + last.writes
    # fewest deploys: the version that never writes NULL into note before its fill; the renamed field's before the
    # contract; the one that stops writing status before the drop
    stops = deploy_stops(plan)
    assert [s.versions for s in stops] == [("v3",), ("v4",)], stops
    assert "fill_note" in plan.steps[stops[0].index].name and plan.app("v3").never_null == ("note",)
    assert plan.steps[stops[1].index].name == "drop_column" and "status" not in plan.app("v4").columns
    assert all({"priority", "state"} <= plan.app(v).columns for s in stops for v in s.versions)
    drop_default = next(s for s in plan.steps if s.kind == "set_default_at_contract")  # Django's DROP DEFAULT:
    assert plan.steps.index(drop_default) > stops[1].index  # once every version writes priority


def test_the_one_plan_runs_under_the_apps_writes_and_ends_where_the_file_as_written_ends(pg):
    reset_database(pg)
    _orders(pg)
    pg.execute("BEGIN")
    try:
        pg.execute(ORDER_MIGRATION.replace("BEGIN;", "").replace("COMMIT;", "").replace(
            'ALTER TABLE "shop_order" ALTER COLUMN "note" SET NOT NULL;',
            "UPDATE shop_order SET note = '' WHERE note IS NULL; ALTER TABLE shop_order ALTER note SET NOT NULL;"))
        expected = _unordered(pg.table("shop_order").catalog())
    finally:
        pg.execute("ROLLBACK")
    (plan,) = _convert(pg)
    table = pg.table("shop_order")
    # (total changes in the catalog, as the user chose: an app whose driver prepares its statements on the server
    # would see each one that returns total fail once, as convert says; this app does not)
    with AppWorkload(table, plan, threads=2, seed=3, rollout_requests=3, insert_ratio=0.2, prepared=False) as load:
        assert load.wait_for_writes(5)
        result = lk.MigrationRunner(table, observers=[load]).execute_plan(plan)
        assert load.wait_for_writes(5)
    assert result.status == "completed", result.summary()
    assert [r.error for r in load.failed] == []
    assert load.audit(table) == 0 and load.lost_writes == 0, load.ledger.mismatches
    assert _unordered(pg.table("shop_order").catalog()) == expected
    reset_database(pg)


def test_convert_writes_one_plan_file_and_start_complete_run_it_from_the_cli(pg, pg_url, tmp_path):
    reset_database(pg)
    _orders(pg, rows=200)
    (tmp_path / "0002.sql").write_text(ORDER_MIGRATION)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["convert", str(tmp_path / "0002.sql"), "--db", pg_url, "-o", str(tmp_path / "p.json"),
                     "--fill", "note=''", "--in-catalog", "total"]) == 0  # fmt: skip
        assert main(["start", str(tmp_path / "p.json"), "--db", pg_url]) == 0
    assert not (tmp_path / "p.rest.sql").exists(), out.getvalue()  # nothing left for a second round
    deployed: list[str] = []
    with contextlib.redirect_stdout(out):
        assert complete_plan(pg_url, deploy=deployed.extend) == 0
    columns = pg.table("shop_order").column_names
    assert {"state", "priority"} <= set(columns) and "status" not in columns
    assert pg.table("shop_order").catalog().column("note").not_null
    assert len(deployed) >= 1
    reset_database(pg)


def test_two_changes_of_one_column_stay_two_plans_and_say_why(pg):
    reset_database(pg)
    _orders(pg, rows=20)
    a = convert_sql('ALTER TABLE shop_order RENAME COLUMN "note" TO "remark"', pg)[0].plan
    b = convert_sql("ALTER TABLE shop_order ALTER COLUMN note TYPE varchar(50)", pg)[0].plan
    assert a is not None and b is not None
    with pytest.raises(lk.InvalidPlanError, match="run one plan, then the other"):
        compose([a, b], pg.table("shop_order").data_columns)
    reset_database(pg)


def test_two_migrations_in_a_row_on_one_table_need_no_retire(pg, pg_url, tmp_path):
    """The second migration's plan numbers its versions after the views the first one left (for its app, which
    may still run): it starts, deploys and completes with no `labkit retire` between."""
    reset_database(pg)
    _orders(pg, rows=100)
    (tmp_path / "0002.sql").write_text('ALTER TABLE "shop_order" RENAME COLUMN "status" TO "state";\n')
    (tmp_path / "0003.sql").write_text('ALTER TABLE "shop_order" ADD COLUMN "priority" integer NULL;\n'
                                       'ALTER TABLE "shop_order" RENAME COLUMN "note" TO "remark";\n')  # fmt: skip
    out = io.StringIO()
    for name in ("0002", "0003"):
        with contextlib.redirect_stdout(out):
            assert main(["convert", str(tmp_path / f"{name}.sql"), "--db", pg_url, "-o", str(tmp_path / f"{name}.json")
                         ]) == 0, out.getvalue()  # fmt: skip
            assert main(["start", str(tmp_path / f"{name}.json"), "--db", pg_url]) == 0, out.getvalue()
            assert complete_plan(pg_url) == 0, out.getvalue()
        if name == "0002":
            left = pg.table("shop_order").views
            assert left == ('"labkit_v2"."shop_order"', '"labkit_v3"."shop_order"')
    second = lk.load_plan(tmp_path / "0003.json")
    assert [a.name for a in second.apps] == ["v4", "v5", "v6"]
    assert {"priority", "state", "remark"} <= second.apps[-1].columns
    assert {"state", "remark", "priority"} <= set(pg.table("shop_order").column_names)
    reset_database(pg)
