"""The same plans on real SQLite and PostgreSQL: fault matrix, values, safety of names, locks, triggers."""

from __future__ import annotations

import pytest

import labkit as lk
from labkit import lab
from labkit.faults import fault_matrix
from tests.conftest import db_add_plan, db_rename_plan

BUILDERS = {"rename": db_rename_plan, "add_column": db_add_plan}
MATRIX = [(k, p) for k, b in BUILDERS.items() for p in fault_matrix(b(lab.make_users(20)), 20)]


@pytest.mark.parametrize(("kind", "fail_at"), MATRIX, ids=[f"{k}-{p}" for k, p in MATRIX])
def test_rollback_on_a_real_database_restores_every_row_and_the_schema(db, kind, fail_at):
    users = db.import_table(lab.make_users(20))
    before = users.snapshot()
    result = lk.MigrationRunner(users, fail_at=fail_at).execute_plan(BUILDERS[kind](users))
    assert result.status == "rolled_back", result.summary()
    assert users.snapshot() == before
    assert users.triggers == () and users.views == ()
    assert db.migrations()[-1]["status"] == "rolled_back"


def test_rename_completes_with_every_value_and_the_views_of_the_versions_that_may_still_run(db):
    users = db.import_table(lab.make_users(23))
    names = users.column("name")
    result = lk.MigrationRunner(users).execute_plan(db_rename_plan(users))
    assert result.ok, result.summary()
    assert users.column_names == ["id", "email", "full_name"]
    assert users.column("full_name") == names
    assert users.triggers == ()
    # the views of the versions that may still run: v2 (deployed after start, without name now) and v3
    assert len(users.views) == 2 and "v2" in users.views[0] and "v3" in users.views[1]
    assert all("name" not in db.dialect.view_columns(db, v) for v in users.views)
    state = db.migrations()[-1]
    assert (state["status"], state["step_index"]) == ("completed", 6)


def test_computed_column_is_filled_by_sql_and_kept_right_by_the_trigger(db):
    users = db.import_table(lab.make_users(12))
    plan = db_add_plan(users)
    runner = lk.MigrationRunner(users, observers=[_Writer(users, at="backfill", batch=1)])
    assert runner.execute_plan(plan).ok
    assert users.column("email_domain") == [lab.email_domain(r) for r in users.rows()]
    assert users.get(12)["email"] == "late@writer.org" and users.get(12)["email_domain"] == "writer.org"


class _Writer:
    """Writes row 12's email (a row the backfill has not reached) right after a given batch."""

    def __init__(self, table, *, at, batch):
        self.table, self.at, self.batch = table, at, batch

    def on_tick(self, event, apps):
        if event.step == self.at and event.batch == self.batch:
            self.table.update(12, {"email": "late@writer.org"})


def test_the_rename_trigger_copies_both_ways(db):
    users = db.import_table(lab.make_users(4))
    plan = db_rename_plan(users)
    lk.MigrationRunner(users, observers=[_BothWays(users)]).execute_plan(plan)
    assert users.get(1)["full_name"] == "from v1" and users.get(2)["full_name"] == "from v2"


class _BothWays:
    def __init__(self, table):
        self.table = table

    def on_tick(self, event, apps):
        if event.step == "start_dual_write" and event.kind == "complete":
            self.table.update(1, {"name": "from v1"})  # v1 writes the old column: copied forward
            self.table.update(2, {"full_name": "from v2"})  # a writer of the new column only: copied back
            assert self.table.get(2)["name"] == "from v2"


@pytest.mark.parametrize(
    "evil",
    ['x"; DROP TABLE users; --', "x`; DROP TABLE users; --", " lead", "a\x00b", "é" * 32, "", "id"],
    ids=["injection", "injection-sqlite", "blank-edge", "nul", "64-bytes", "empty", "id"],
)
def test_hostile_or_invalid_names_are_refused_and_nothing_changes(db, evil):
    users = db.import_table(lab.make_users(3))
    before = users.snapshot()
    with pytest.raises(lk.InvalidNameError):
        lk.build_rename_column_migration(users, "name", evil)
    with pytest.raises(lk.InvalidNameError):
        users.update(1, {evil: "x"}) if evil == "id" else lk.AddColumn("users", evil)
    with pytest.raises((lk.InvalidNameError, lk.TableNotFoundError)):
        db.table(evil)
    assert users.snapshot() == before and "users" in db.tables()


def test_values_are_bound_parameters(db):
    users = db.import_table(lab.make_users(2))
    users.update(1, {"name": "Robert'); DROP TABLE users; --"})
    assert users.get(1)["name"] == "Robert'); DROP TABLE users; --" and users.row_count == 2


def test_a_second_runner_on_the_same_table_is_refused_not_interleaved(db):
    users = db.import_table(lab.make_users(10))
    plan = db_rename_plan(users)
    other = db.clone()
    try:
        second = other.table("users")

        class Intruder:
            def __init__(self):
                self.error = None

            def on_tick(self, event, apps):
                if event.kind == "batch" and event.batch == 1 and self.error is None:
                    try:
                        lk.MigrationRunner(second).execute_plan(db_rename_plan(second))
                    except lk.MigrationLockedError as exc:
                        self.error = exc

        intruder = Intruder()
        assert lk.MigrationRunner(users, observers=[intruder]).execute_plan(plan).ok
        assert isinstance(intruder.error, lk.MigrationLockedError)
        assert users.column_names == ["id", "email", "full_name"]
    finally:
        other.close()


def test_python_only_backfill_is_refused_on_a_database_before_anything_changes(db):
    users = db.import_table(lab.make_users(3))
    before = users.snapshot()
    with pytest.raises(lk.StepDoesNotFitError, match="sql="):  # refused as soon as the plan is built
        lk.build_add_column_migration(users, "d", backfill=lab.email_domain, source="email")
    plan = lk.build_add_column_migration(lab.make_users(3), "d", backfill=lab.email_domain, source="email")
    with pytest.raises(lk.StepDoesNotFitError, match="sql="):  # and by the runner, for a plan built elsewhere
        lk.MigrationRunner(users).execute_plan(plan)
    assert users.snapshot() == before


def test_db_table_has_the_in_memory_interface(db):
    mem = lab.make_users(5)
    users = db.import_table(mem)
    assert users.column_names == mem.column_names and users.row_count == 5
    assert users.rows() == mem.rows()
    new = users.insert({"name": "Z", "email": "z@z.io"})
    assert new == 6 and users.get(6)["name"] == "Z"
    users.delete(6)
    with pytest.raises(lk.RowNotFoundError):
        users.get(6)
    with pytest.raises(lk.ColumnNotFoundError):
        users.update(1, {"nmae": "x"})
    assert list(users.to_frame().columns) == ["name", "email"]
    with pytest.raises(lk.TableNotFoundError):
        db.table("nope")


def test_connect_refuses_unknown_urls():
    with pytest.raises(ValueError, match="unsupported"):
        lk.connect("mysql://x")


def view_plan(table, **kw):
    return lk.build_rename_column_migration(table, "name", "full_name", approach="view")


@pytest.mark.parametrize("fail_at", ["rename_in_view", "rename_column_in_place"])
def test_approach_b_rolls_back_exactly(db, fail_at):
    users = db.import_table(lab.make_users(10))
    before = users.snapshot()
    result = lk.MigrationRunner(users, fail_at=fail_at).execute_plan(view_plan(users))
    assert result.status == "rolled_back"
    assert users.snapshot() == before and users.views == ()


def test_approach_b_renames_without_copying_and_v2_writes_through_its_view(db):
    users = db.import_table(lab.make_users(10))
    plan = view_plan(users)
    assert [s.name for s in plan.steps] == ["rename_in_view", "rename_column_in_place"]
    assert lk.validate_migration_safety(plan, users) == []  # (on SQLite `labkit start` refuses it: an ORM would fail)

    class V2Writes:
        def on_tick(self, event, apps):
            if event.step == "rename_in_view" and event.kind == "complete":
                view = db.dialect.view_ref("users", "v2")
                with db.transaction():
                    db.execute(f"UPDATE {view} SET full_name = {db.dialect.param} WHERE id = 3", ["via view"])

    assert lk.MigrationRunner(users, observers=[V2Writes()]).execute_plan(plan).ok
    assert users.column_names == ["id", "full_name", "email"]  # renamed in place: same position, no copy
    assert users.get(3)["full_name"] == "via view"
    assert len(users.views) == 1


def test_simulated_traffic_goes_through_v2s_view_in_approach_b(db):
    """v2 names full_name, which only its view has until the contract: its reads, updates and inserts go there."""
    users = db.import_table(lab.make_users(12))
    report = lab.simulate_traffic(users, view_plan(users), seed=2, insert_ratio=0.3)
    assert report.result.ok and report.failed_requests == 0, report.summary()
    assert report.lost_writes == report.stale_reads == 0
    v2 = [t for t in report.ticks if "v2" in t.apps]
    assert sum(t.requests for t in v2) > 20  # v2 really served traffic through the view
    view = users.seen_by("v2")  # the newest version's view stays after the contract
    assert view is not None and sorted(view.columns) == ["email", "full_name", "id"]
    assert users.seen_by("v1") is None


def test_approach_b_is_refused_on_the_in_memory_table():
    users = lab.make_users(3)
    plan = view_plan(users)
    with pytest.raises(lk.StepDoesNotFitError, match="no views"):
        lk.MigrationRunner(users).execute_plan(plan)


def test_views_and_plots_take_a_database_table(db):
    from labkit import views

    users = db.import_table(lab.make_users(6))
    before = users.snapshot()
    runner = lk.MigrationRunner(users)
    runner.execute_plan(db_rename_plan(users, batch_size=2))
    frame = views.rows_view(users, before=before, columns=["name", "full_name"]).data
    assert list(frame.columns) == ["name", "full_name"] and set(frame["name"]) == {"(no column)"}
    assert len(views.history_frame(runner.history)) == len(runner.history)


def test_a_query_naming_a_missing_column_fails_instead_of_reading_a_string(tmp_path):
    # SQLite reads SELECT "nope" as the string 'nope' when no column matches: labkit quotes with backticks
    with lk.connect(f"sqlite:///{tmp_path}/lab.db") as db:
        users = db.import_table(lab.make_users(2))
        users.db.execute("ALTER TABLE users RENAME COLUMN name TO full_name")
        with pytest.raises(Exception, match="no such column"):
            db.query(f"SELECT {db.dialect.quote('name')} FROM users")


def test_connecting_while_other_connections_open_and_close_never_meets_a_locked_file(tmp_path):
    """Opening a WAL database runs PRAGMA journal_mode, which can meet another connection's closing checkpoint; with
    busy_timeout 0 that was "database is locked" (seen when a poller opened and closed connections while
    `labkit start` connected)."""
    import multiprocessing
    import sqlite3

    path = tmp_path / "busy.db"
    with lk.connect(f"sqlite:///{path}") as db:
        db.import_table(lab.make_users(3))
    stop = multiprocessing.Event()
    churners = [multiprocessing.Process(target=_churn, args=(str(path), stop)) for _ in range(2)]
    for p in churners:
        p.start()
    try:
        for _ in range(400):
            lk.connect(f"sqlite:///{path}").close()
    finally:
        stop.set()
        for p in churners:
            p.join()
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _churn(path: str, stop) -> None:
    import sqlite3

    while not stop.is_set():
        try:
            c = sqlite3.connect(path, timeout=1, isolation_level=None)
            c.execute("SELECT count(*) FROM users").fetchone()
            c.close()
        except sqlite3.OperationalError:
            pass


@pytest.mark.parametrize("new", ["Full Name", "user", "naïve", "CreatedAt", "x.y", "9lives"])
def test_a_column_may_take_any_name_the_engine_takes_quoted(db, new):
    """Mixed case, a reserved word, non-ASCII, a space, a dot, a leading digit (issue 32): the rename runs on both
    engines, every row keeps its value under the new name, and the table is still there with all its rows."""
    users = db.import_table(lab.make_users(12))
    before = {r["id"]: r["name"] for r in users.rows()}
    result = lk.MigrationRunner(users).execute_plan(lk.build_rename_column_migration(users, "name", new, batch_size=5))
    assert result.status == "completed", result.summary()
    assert new in users.column_names and "name" not in users.column_names
    assert {r["id"]: r[new] for r in users.rows()} == before and users.row_count == 12


def test_the_app_writes_a_sqlite_json_column_as_the_text_it_is(tmp_path):
    """AppWorkload sends a PostgreSQL json/jsonb value as JSON (a bare [] would land as {}); SQLite's json is text,
    sent as it is (psycopg's JSON wrapper means nothing to sqlite3)."""
    from labkit.course.workload import AppWorkload

    db = lk.connect(f"sqlite:///{tmp_path}/x.db")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, doc json, name TEXT)")
    db.execute("""INSERT INTO t (doc, name) VALUES ('{"a": 1}', 'x'), ('[]', 'y')""")
    t = db.table("t")
    with AppWorkload(t, lk.build_add_column_migration(t, "seen", default=0), threads=1, seed=1) as load:
        assert load.wait_for_writes(10)
    assert [r.error for r in load.failed] == [] and load.audit(t) == 0
    db.close()
