"""Fixing the data before the constraint (issue 23.6): a NOT NULL change on a column that holds NULLs, with the app
writing. ``build_set_not_null_migration(fill=...)`` deploys the version that never writes NULL, fixes the NULLs in
journaled batches (``FixRows``), then CHECK NOT VALID, VALIDATE, SET NOT NULL; every acknowledged write survives,
every rollback gives the table back exactly, a terminal's ``labkit start`` stops for the deploy."""

from __future__ import annotations

import json

import pytest

import labkit as lk
from labkit import lab
from labkit.cli import main
from labkit.faults import fault_matrix
from labkit.planfile import plan_from_dict, plan_to_dict
from labkit.steps import FixRows


def _users(db, dirt: str, *, rows: int = 120, seed: int = 3):
    """A fresh users table (whatever was there, dropped), then ``dirt``: the SQL that makes its data as production's."""
    for t in db.tables():
        db.drop_table(t)
    db.import_table(lab.make_users(rows, seed=seed))
    db.execute(dirt)
    return db.table("users")


def _dirty(db):
    """users with a NULL name in every seventh row."""
    return _users(db, "UPDATE users SET name = NULL WHERE id % 7 = 0")


def _plan(table, **kw):
    return lk.build_set_not_null_migration(table, "name", fill="unknown", batch_size=kw.pop("batch_size", 25), **kw)


def test_the_plain_plan_fails_on_nulls_and_the_fill_plan_is_safe(pg):
    users = _dirty(pg)
    before = users.snapshot()
    plain = lk.MigrationRunner(users).execute_plan(lk.build_set_not_null_migration(users, "name"))
    assert plain.status == "rolled_back" and "violated by some row" in plain.summary()
    assert users.snapshot() == before
    plan = _plan(users)
    assert lk.validate_migration_safety(plan, users) == []
    assert [s.kind for s in plan.steps] == ["add_column", "guard_fix", "fix_rows", "add_constraint",
                                            "validate_constraint", "set_not_null", "drop_journals"]  # fmt: skip
    assert plan.apps[1].never_null == ("name",) and plan.steps[1].deploy == "v2"  # out before the fix


def test_under_traffic_nothing_is_lost_and_the_column_ends_not_null(pg):
    users = _dirty(pg)
    report = lab.simulate_traffic(users, _plan(users), seed=4)
    assert report.result.status == "completed", report.result.summary()
    assert (report.failed_requests, report.lost_writes, report.stale_reads) == (0, 0, 0), report.mismatches
    assert users.catalog().column("name").not_null and users.column_names == ["id", "name", "email"]
    assert pg.query("SELECT count(*) FROM users WHERE name IS NULL")[0][0] == 0
    assert pg.query("SELECT count(*) FROM users WHERE name = 'unknown'")[0][0] > 0  # the NULLs the app left alone


def test_a_failure_anywhere_gives_back_every_null_and_the_catalog(pg):
    users = _dirty(pg)
    points = fault_matrix(_plan(users), users.row_count)
    assert "fill_name:1" in points and "drop_journals" in points
    for point in points:
        users = _dirty(pg)
        before, catalog = users.snapshot(), users.catalog()
        result = lk.MigrationRunner(users, fail_at=point).execute_plan(_plan(users))
        assert result.status == "rolled_back", (point, result.summary())
        assert users.snapshot() == before and users.catalog() == catalog, point


def test_the_undo_keeps_what_the_app_wrote_after_the_fix(pg):
    """The journal says what the fix wrote: a rollback puts a NULL back only where that value is still there."""
    users = _dirty(pg)
    plan = _plan(users)
    lk.MigrationRunner(users, until_phase="contract").execute_plan(
        lk.MigrationPlan(plan.name, plan.steps[:3], apps=plan.apps))  # fmt: skip
    users.update(7, {"name": "Grace Hopper"})  # the app, after the fix reached row 7
    undo = lk.plan_sql(lk.MigrationPlan("u", [plan.steps[2].reverse()]), users).units[0]
    assert undo.batch is not None and undo.batch_size == 25  # batch by batch, as the fix went
    with pg.transaction():
        pg.execute(undo.batch, [1, 120])  # one batch over every key
    assert users.get(7)["name"] == "Grace Hopper" and users.get(14)["name"] is None


def test_a_real_app_writing_through_it_loses_nothing(pg_url):
    """Two app threads on their own connections (AppWorkload): v1 writes NULLs until v2, which never does, is out."""
    from labkit.course.scenarios import run_scenario

    run = run_scenario(pg_url, lambda t: _plan(t, batch_size=200), name="fill", rows=3000, rollout_ticks=2,
                       dwell=0.05, prepare=lambda db: db.execute("UPDATE users SET name = NULL WHERE id % 7 = 0"),
                       rate=150, open_loop=True)  # fmt: skip
    assert run.result.status == "completed", run.result.summary()
    assert (run.failed_requests, run.lost_writes) == (0, 0)


def test_labkit_start_stops_for_the_version_that_never_writes_null(pg, pg_url, tmp_path, capsys):
    users = _dirty(pg)
    lk.save_plan(_plan(users), tmp_path / "fill.json")
    assert main(["start", str(tmp_path / "fill.json"), "--db", pg_url]) == 0
    out = capsys.readouterr().out
    assert "stopped before fill_name, for app v2 to roll out first" in out and "Now deploy app v2" in out
    assert "Then: labkit complete" in out
    assert pg.query("SELECT count(*) FROM users WHERE name IS NULL")[0][0] > 0  # nothing fixed before the deploy
    assert main(["start", str(tmp_path / "fill.json"), "--db", pg_url]) == 0  # again: nothing more, said so
    assert "already done" in capsys.readouterr().out
    assert main(["complete", "--db", pg_url]) == 0  # no other deploy: the fill, the check and the contract
    assert "completed" in capsys.readouterr().out
    users = pg.table("users")
    assert users.catalog().column("name").not_null and "name_labkit_was" not in users.column_names


def test_the_plan_travels_as_a_file_and_refuses_what_it_cannot_do(tmp_path, pg):
    users = _dirty(pg)
    plan = _plan(users)
    data = json.loads(json.dumps(plan_to_dict(plan)))
    assert data["apps"][1]["never_null"] == ["name"] and plan_from_dict(data) == plan
    with pytest.raises(lk.StepDoesNotFitError, match="is not one SQL expression"):
        FixRows("users", "name", "name IS NULL; DROP TABLE users", "'x'", "j")
    with pytest.raises(lk.LabkitError, match="fill=None fills nothing"):
        lk.build_set_not_null_migration(users, "name", fill=lk.SQL("NULL"))
    with pytest.raises(lk.LabkitError, match="does not write"):
        lk.AppVersion("v2", ["name"], ["email"], never_null=["name"])
    with lk.connect(f"sqlite:///{tmp_path}/a.db") as db:
        small = db.import_table(lab.make_users(10))
        with pytest.raises(lk.StepDoesNotFitError):
            lk.MigrationRunner(small).execute_plan(_plan(small))


def _duplicated(db):
    """users whose every tenth row repeats the email of the row before it."""
    return _users(db, "UPDATE users AS u SET email = p.email FROM users AS p WHERE p.id = u.id - 1 AND u.id % 10 = 0",
                  seed=5)  # fmt: skip


def _dedupe(table, **kw):
    return lk.build_add_index_migration(table, "email", unique=True, dedupe=lk.SQL("email || '+dup' || id"),
                                        batch_size=kw.pop("batch_size", 25), **kw)  # fmt: skip


def test_duplicates_are_fixed_before_the_unique_index_and_a_rollback_puts_them_back(pg):
    users = _duplicated(pg)
    dupes = pg.query("SELECT count(*) FROM users u WHERE EXISTS (SELECT 1 FROM users p WHERE p.email = u.email "
                     "AND p.id < u.id)")[0][0]  # fmt: skip
    assert dupes == 12
    plain = lk.MigrationRunner(users).execute_plan(lk.build_add_index_migration(users, "email", unique=True))
    assert plain.status == "rolled_back" and "could not create unique index" in plain.summary()
    plan = _dedupe(users)
    assert lk.validate_migration_safety(plan, users) == []
    report = lab.simulate_traffic(users, plan, seed=6)
    assert report.result.status == "completed", report.result.summary()
    assert (report.failed_requests, report.lost_writes, report.stale_reads) == (0, 0, 0), report.mismatches
    unique = [i for i in users.catalog().indexes if i.unique and i.columns == ("email",)]
    assert unique and unique[0].valid and users.column_names == ["id", "name", "email"]
    assert 0 < pg.query("SELECT count(*) FROM users WHERE email LIKE '%+dup%'")[0][0] <= 12  # (some the app rewrote)
    assert pg.query("SELECT count(*) - count(DISTINCT email) FROM users")[0][0] == 0
    users = _duplicated(pg)
    for point in fault_matrix(_dedupe(users), users.row_count):
        users = _duplicated(pg)
        before, catalog = users.snapshot(), users.catalog()
        result = lk.MigrationRunner(users, fail_at=point).execute_plan(_dedupe(users))
        assert result.status == "rolled_back" and users.snapshot() == before and users.catalog() == catalog, point
    with pytest.raises(lk.LabkitError, match="needs unique=True"):
        lk.build_add_index_migration(users, "email", dedupe=lk.SQL("email || id"))


def test_the_cli_path_with_an_old_version_writing_nulls_and_a_new_one_that_never_does(pg_url, tmp_path):
    """The path the lesson teaches, from a terminal, with unkind apps: v1 (plain SQL) writes NULLs and leaves the
    column out of its INSERTs; start stops for v2; v2 (SQLAlchemy's ORM, row counts checked, through its view)
    rolls out while v1 still writes, then v1 goes; start again fixes the NULLs and adds the constraint; complete.
    Every acknowledged write is there (a NULL as the fill value), none failed, no NULL is left."""

    from tests import apps
    from tests.apps import Driver, Writer, lost
    from tests.conftest import reset_database
    from tests.test_lifecycle_harness import SHAPES, _column, _create, _snapshot

    with lk.connect(pg_url) as db:
        reset_database(db)
        table = _create(db, SHAPES["plain"])  # t(id, c text, note), 300 rows
        db.execute("UPDATE t SET c = NULL WHERE id % 7 = 0")
        lk.save_plan(lk.build_set_not_null_migration(table, "c", fill="unknown", batch_size=50),
                     tmp_path / "plan.json")  # fmt: skip
    rows = _snapshot(pg_url)[1]
    run = Driver("in-process", pg_url, tmp_path)

    def writer(version: str, ref: str, part: int, client: str, nulls: bool) -> Writer:
        def pick(rng, n):
            return None if nulls and rng.random() < 0.15 else rng.choice(apps.TEXTS)

        w = Writer(pg_url, version, ref, "c", pick, seed=part, omit=nulls, client=client)
        w.acked = {i: r["c"] for i, r in rows.items() if i % 4 == part}
        return w.start()

    try:
        v1 = writer("v1", '"t"', 0, "sql", nulls=True).wrote(20)
        assert "for app v2 to roll out first" in run.start()
        with lk.connect(pg_url) as db:
            ref = db.dialect.view_name("t", "v2")
        v2 = writer("v2", ref, 1, "orm", nulls=False)
        v1.wrote(), v2.wrote()  # both at once: the rolling deploy
        v1.finish()  # the deploy is done: no version that writes NULL is left
        assert "completed" in run.complete()  # the fill, the check, the contract: no other deploy is needed
        v2.wrote()
        v2.finish()
    finally:
        apps.stop_all()
    final = _column(pg_url, "c")
    assert (v1.failed, v2.failed) == ([], [])
    assert None in v1.acked.values()  # v1 did write NULLs
    for w in (v1, v2):  # a NULL acknowledged before the fix is the fill value now: the fix, not a loss
        w.acked = {i: "unknown" if v is None else v for i, v in w.acked.items()}
    assert lost([v1, v2], final) == []
    assert None not in final.values()
    with lk.connect(pg_url) as db:
        assert db.table("t").catalog().column("c").not_null
        reset_database(db)


# (type, the fill, a value the rows that are not NULL hold): columns whose values `=` cannot compare (json, point),
# arrays (a journal of the column's own array type made a 2-D array whose element 1 is not the value), -0
FILLED = [
    ("text[]", "'{}'", "{a,b}"),
    ("integer[]", "'{{0}}'", "{{1,2},{3,4}}"),
    ("json", "'{}'", '{"a":  1}'),
    ("jsonb", "'{}'", '{"a": [1, 2]}'),
    ("point", "'(0,0)'", "(1,2.5)"),
    ("box", "'(0,0),(0,0)'", "(8,8),(7,7)"),
    ("double precision", "0", "-0"),
    ("numeric(8,3)", "0", "1.500"),
]


@pytest.mark.parametrize("kind,fill,value", FILLED, ids=[k for k, _, _ in FILLED])
def test_a_fill_on_any_column_type_rolls_back_exactly_in_batches(pg, kind, fill, value):
    """Issue 34: a NOT NULL fill on a text[], json or point column could never be rolled back (`operator does not
    exist`, or the element of a 2-D journal put back instead of the value), leaving the filled rows and the plan
    stuck rolling back. The journal keeps each value's text form; the undo compares and restores those, batch by
    batch like the fill (each batch its own transaction: the restored rows carry one transaction id per batch)."""
    for t in pg.tables():
        pg.drop_table(t)
    pg.execute(f"CREATE TABLE things (id bigint PRIMARY KEY, c {kind})")
    pg.execute(f"INSERT INTO things SELECT g, CASE WHEN g % 3 = 0 THEN NULL ELSE '{value}'::{kind} END "
               "FROM generate_series(1, 2500) g")  # fmt: skip
    table = pg.table("things")
    before = pg.query("SELECT id, c::text FROM things ORDER BY id")
    catalog = table.catalog()
    plan = lk.build_set_not_null_migration(table, "c", fill=lk.SQL(fill), batch_size=300)
    done = lk.MigrationRunner(table, fail_at="drop_journals").execute_plan(plan)
    assert done.status == "rolled_back", done.summary()
    assert pg.query("SELECT id, c::text FROM things ORDER BY id") == before and table.catalog() == catalog
    batches = pg.query("SELECT count(DISTINCT xmin::text) FROM things WHERE c IS NULL")[0][0]
    assert batches == 9, batches  # 833 NULLs put back over the 2,500 rows, 300 rows of the table a batch: 9
    completed = lk.MigrationRunner(table).execute_plan(lk.build_set_not_null_migration(table, "c", fill=lk.SQL(fill)))
    assert completed.status == "completed" and table.catalog().column("c").not_null, completed.summary()


def test_a_plan_whose_journal_is_the_columns_own_array_type_still_rolls_back(pg):
    """Plans built before the text journals (a plan file, a run under way when labkit is upgraded) add a journal of
    the column's own array type: the fix still writes it, the undo still reads it (compared by text form)."""
    import dataclasses

    for t in pg.tables():
        pg.drop_table(t)
    pg.execute("CREATE TABLE things (id bigint PRIMARY KEY, c double precision)")
    pg.execute("INSERT INTO things SELECT g, CASE WHEN g % 4 = 0 THEN NULL ELSE -0.0 END FROM generate_series(1, 90) g")
    table = pg.table("things")
    before, catalog = pg.query("SELECT id, c::text FROM things ORDER BY id"), table.catalog()
    plan = lk.build_set_not_null_migration(table, "c", fill=lk.SQL("0"), batch_size=40)
    old = [dataclasses.replace(s, sql_type="double precision[]") if isinstance(s, lk.AddColumn) else s
           for s in plan.steps]  # fmt: skip
    assert any(isinstance(s, lk.AddColumn) and s.sql_type == "double precision[]" for s in old)
    done = lk.MigrationRunner(table, fail_at="drop_journals").execute_plan(lk.MigrationPlan(plan.name, old,
                                                                                            apps=plan.apps))
    assert done.status == "rolled_back", done.summary()
    assert pg.query("SELECT id, c::text FROM things ORDER BY id") == before and table.catalog() == catalog


def test_a_row_the_app_saved_after_the_fix_keeps_the_value_it_saved_even_the_one_it_read(pg):
    """Issue 34: an ORM saving the whole row writes back the filled value it read; the rollback put NULL over that
    acknowledged write (the value was still the fix's). The guard's trigger (UPDATE OF the column) clears the row's
    journal entry on any app write of the column; a write of another column leaves it, and the rollback puts the
    NULL back there."""
    users = _dirty(pg)
    plan = _plan(users)
    assert [s.kind for s in plan.steps[:3]] == ["add_column", "guard_fix", "fix_rows"]

    class App:  # at the first event after the fix: the app's writes on rows 7 and 14 (both NULL before the fix)
        done = False

        def on_tick(self, event, apps):
            if event.kind == "complete" and event.step == "fill_name" and not self.done:
                self.done = True
                pg.execute("UPDATE users SET name = name, email = email WHERE id = 7")  # the whole row, as read
                pg.execute("UPDATE users SET email = 'new@mail.org' WHERE id = 14")  # another column only

    result = lk.MigrationRunner(users, fail_at="drop_journals", observers=[App()]).execute_plan(plan)
    assert result.status == "rolled_back", result.summary()
    assert users.get(7)["name"] == "unknown"  # the app's write, kept
    assert users.get(14)["name"] is None and users.get(14)["email"] == "new@mail.org"
    assert pg.query("SELECT count(*) FROM users WHERE name = 'unknown'") == [(1,)]  # every other fixed row put back
    assert users.triggers == () and "name_labkit_was" not in users.column_names


def test_a_sparse_fix_sizes_its_batches_by_the_rows_it_walks_not_the_few_it_writes(pg):
    """A fill where one row in a thousand is NULL writes one row of each 1,000 it walks. Its time-sized batches were
    sized from the rows written (one row in a few ms: a few hundred rows a second), so they shrank to the smallest
    batch: about 200 batches (and transactions) for 20,000 rows. Sized by the rows walked, they grow as a backfill's
    do."""
    users = _users(pg, "UPDATE users SET name = NULL WHERE id % 1000 = 0", rows=20_000)
    plan = lk.build_set_not_null_migration(users, "name", fill="unknown", batch_size="auto")
    runner = lk.MigrationRunner(users)
    assert runner.execute_plan(plan).status == "completed"
    batches = [e for e in runner.history if e.kind == "batch" and e.step == "fill_name"]
    assert sum(e.rows for e in batches) == 20 and len(batches) <= 20, [e.detail for e in batches]


def test_a_fill_on_another_schemas_table_and_a_column_named_timestamp_loses_nothing_under_writers(pg):
    """The guard's trigger and the text journal on names as projects write them: a table in another schema, the
    fixed column a reserved word, a mixed-case column beside it; app writers (inserts leaving columns to their
    defaults, updates whose row count is checked) through a rollback and then a completed run. The writers query
    that schema's table (they queried the current schema's namesake before)."""
    from labkit.course.workload import AppWorkload

    for t in pg.tables():
        pg.drop_table(t)
    pg.execute("DROP SCHEMA IF EXISTS shop CASCADE")
    pg.execute("CREATE SCHEMA shop")
    pg.execute('CREATE TABLE shop.orders (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "timestamp" text, '
               '"Note" text)')  # fmt: skip
    pg.execute("INSERT INTO shop.orders (\"timestamp\", \"Note\") SELECT CASE WHEN g % 5 = 0 THEN NULL ELSE 't' || g "
               "END, 'n' FROM generate_series(1, 3000) g")  # fmt: skip
    for fail_at, status in (("drop_journals", "rolled_back"), (None, "completed")):
        table = pg.table("shop.orders")
        plan = lk.build_set_not_null_migration(table, "timestamp", fill=lk.SQL("'unknown'"), batch_size=500)
        with AppWorkload(table, plan, threads=2, seed=1) as load:
            assert load.wait_for_writes(10)
            result = lk.MigrationRunner(table, fail_at=fail_at, observers=[load]).execute_plan(plan)
            assert load.wait_for_writes(10)
        assert result.status == status, result.summary()
        assert [r.error for r in load.failed] == []
        assert load.audit(pg.table("shop.orders")) == 0 and load.lost_writes == 0, load.ledger.mismatches
        # every row, written by the app or not, holds what the ledger says (the app's writes; the fix's value, or
        # after the rollback the NULL back, where the app left the row alone)
        rows = dict(pg.query('SELECT id, "timestamp" FROM shop.orders'))
        assert [k for k, v in rows.items() if k in load.ledger.truth and v != load.ledger.expected(k, "timestamp")
                ] == [], status  # fmt: skip
        if status == "rolled_back":
            assert pg.query('SELECT count(*) FROM shop.orders WHERE "timestamp" IS NULL')[0][0] >= 500
    assert pg.table("shop.orders").catalog().column("timestamp").not_null and pg.table("shop.orders").triggers == ()
    pg.execute("DROP SCHEMA shop CASCADE")
