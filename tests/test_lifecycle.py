"""`labkit start / complete / rollback / status` from a terminal, end to end on SQLite and PostgreSQL.

Each command is a real process (``python -m labkit ...``) against a real database; Ctrl-C is a real SIGINT sent to
it mid-backfill. After each command the rows and the catalog are read back from the database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import labkit as lk
from labkit import lab
from tests.conftest import labkit, reset_database


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> Any:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/app.db"
        return
    pg_url = request.getfixturevalue("pg_url")
    with lk.connect(pg_url) as db:
        reset_database(db)
    yield pg_url


def _setup(url: str, tmp_path: Path, rows: int = 60, batch_size: int = 10, pause: float = 0.0) -> dict[Any, str]:
    """A users table and a plan file renaming name -> full_name; returns the names by id."""
    with lk.connect(url) as db:
        users = db.import_table(lab.make_users(rows, seed=5))
        plan = lk.build_rename_column_migration(users, "name", "full_name", batch_size=batch_size, pause=pause)
        lk.save_plan(plan, tmp_path / "plan.json")
        return {r["id"]: r["name"] for r in users.rows()}


def _rows(url: str, column: str) -> dict[Any, str]:
    with lk.connect(url) as db:
        return {r["id"]: r[column] for r in db.table("users").rows()}


def test_start_then_complete_renames_every_row_with_the_new_version_deployable_in_between(url, tmp_path):
    names = _setup(url, tmp_path)
    started = labkit("start", "plan.json", "--db", url, cwd=tmp_path)
    assert started.returncode == 0, started.stderr
    assert "expand and migrate done; stopped before stop_dual_write" in started.stdout
    assert "Now deploy app v2" in started.stdout and "labkit complete --db" in started.stdout
    if url.startswith("sqlite"):  # an ORM cannot write through a SQLite view: the copy's v2 uses the table itself
        assert "Now deploy app v2 on the table itself" in started.stdout
    else:
        view = 'through the view "labkit_v2"."users": name it, or set its search_path = labkit_v2,public'
        assert view in started.stdout
    with lk.connect(url) as db:  # both columns, both views: v1 and v2 can both run now
        users = db.table("users")
        assert {"name", "full_name"} <= set(users.column_names) and len(users.views) == 2
    assert _rows(url, "full_name") == names
    busy = labkit("retire", "--db", url, "--table", "users", cwd=tmp_path)
    assert busy.returncode == 3 and "its views are in use" in busy.stderr  # nothing retired mid-plan
    status = labkit("status", "--db", url, cwd=tmp_path)
    assert "under way at step 5 (stop_dual_write); no process is running it" in status.stdout
    again = labkit("start", "plan.json", "--db", url, cwd=tmp_path)  # run twice: nothing more, said so
    assert again.returncode == 0 and "already done: start ran up to its deploy stop" in again.stdout, again.stderr
    assert "next: deploy app v2 if not yet done, then labkit complete" in again.stdout
    # v2 still writes name (and full_name): the first complete stops the dual write and stops before the drop,
    # for v3 (which writes full_name alone) to roll out everywhere first
    leg = labkit("complete", "--db", url, cwd=tmp_path)
    assert leg.returncode == 0, leg.stderr
    assert "stopped before drop_column, for app v3 to roll out first" in leg.stdout
    assert "Now deploy app v3" in leg.stdout
    with lk.connect(url) as db:
        users = db.table("users")
        assert "name" in users.column_names  # nothing v2 writes is gone yet
        v3 = db.dialect.view_name(users.qualified, "v3")
        assert v3 in users.views and "name" not in db.dialect.view_columns(db, v3)  # v3's, before its deploy
    done = labkit("complete", "--db", url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "completed" in done.stdout
    assert "once no app uses the others: labkit retire --db" in done.stdout and "--keep v3" in done.stdout
    with lk.connect(url) as db:
        users = db.table("users")
        assert "name" not in users.column_names and len(users.views) == 2  # v2's, without name, and v3's
        assert all("name" not in db.dialect.view_columns(db, v) for v in users.views)
        v3 = db.dialect.view_name(users.qualified, "v3")
    typo = labkit("retire", "--db", url, "--table", "users", "--keep", "V3", cwd=tmp_path)
    assert typo.returncode == 3 and "no such app version has a view" in typo.stderr, typo.stderr
    retired = labkit("retire", "--db", url, "--table", "users", "--keep", "v3", cwd=tmp_path)
    assert retired.returncode == 0, retired.stderr
    with lk.connect(url) as db:
        assert db.table("users").views == (v3,)  # v2's went; v3's, which the app uses, stayed
    assert _rows(url, "full_name") == names
    assert "completed" in labkit("status", "--db", url, cwd=tmp_path).stdout
    for command in ("complete", "start"):  # run again after it succeeded: exit 0, and said so
        again = labkit(command, *(["plan.json"] if command == "start" else []), "--db", url, cwd=tmp_path)
        assert again.returncode == 0 and "already done" in again.stdout, again.stderr
    undo = labkit("rollback", "--db", url, cwd=tmp_path)
    assert undo.returncode == 3 and "its contract cannot be undone" in undo.stderr


def test_start_then_rollback_leaves_the_table_as_it_was(url, tmp_path):
    names = _setup(url, tmp_path)
    with lk.connect(url) as db:
        before = db.table("users").catalog()
    assert labkit("start", "plan.json", "--db", url, cwd=tmp_path).returncode == 0
    undone = labkit("rollback", "--db", url, cwd=tmp_path)
    assert undone.returncode == 0, undone.stderr
    assert "rolled back" in undone.stdout
    twice = labkit("rollback", "--db", url, cwd=tmp_path)
    assert twice.returncode == 0 and "already done: rolled back" in twice.stdout, twice.stderr
    nothing = labkit("complete", "--db", url, cwd=tmp_path)
    assert nothing.returncode == 3 and "was rolled back" in nothing.stderr
    with lk.connect(url) as db:
        users = db.table("users")
        assert users.catalog() == before and users.views == ()
    assert _rows(url, "name") == names
    # a plan of another table, run from a file and stopped before its contract, keeps its views: status shows them
    # under that plan alone, and none under the rolled-back one
    with lk.connect(url) as db:
        other = db.import_table(lab.make_users(6, seed=9), name="members")
        lk.save_plan(lk.build_rename_column_migration(other, "email", "mail", batch_size=3), tmp_path / "m.json")
    assert labkit("start", "m.json", "--db", url, cwd=tmp_path).returncode == 0
    lines = labkit("status", "--db", url, cwd=tmp_path).stdout.splitlines()
    users_at = next(i for i, line in enumerate(lines) if line.startswith("users"))
    members_at = next(i for i, line in enumerate(lines) if line.startswith("members"))
    assert "rolled_back" in lines[users_at] and not lines[users_at + 1].startswith("  app versions' views")
    assert lines[members_at + 1].startswith("  app versions' views:") and "members" in lines[members_at + 1]
    assert "users" not in lines[members_at + 1].replace("members", "")


def _committed_batches(url: str) -> int:
    with lk.connect(url) as db:
        rows = [m for m in db.migrations() if m["status"] == "running"]
        return int(rows[0]["batch"]) if rows else 0


def test_ctrl_c_mid_backfill_stops_after_the_batch_and_start_carries_on(url, tmp_path):
    names = _setup(url, tmp_path, rows=3000, batch_size=50, pause=0.03)  # 60 batches, at least 1.8 s
    proc = subprocess.Popen([sys.executable, "-m", "labkit", "start", "plan.json", "--db", url], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while _committed_batches(url) < 3:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                out, err = proc.communicate()
                pytest.fail(f"the backfill never got going (exit {proc.returncode}):\n{out}\n{err}")
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "stopping after the batch in progress" in err
    assert "Stopped on request" in out and "labkit rollback" in out
    committed = _committed_batches(url)
    assert 3 <= committed < 60
    status = labkit("status", "--db", url, cwd=tmp_path)
    assert f"at step 3 (backfill), batch {committed} committed" in status.stdout
    filled = {k: v for k, v in _rows(url, "full_name").items() if v is not None}
    assert len(filled) >= committed * 50 and all(names[k] == v for k, v in filled.items())  # nothing half-written
    carried = labkit("start", "plan.json", "--db", url, cwd=tmp_path)
    assert carried.returncode == 0, carried.stderr
    assert "expand and migrate done" in carried.stdout
    for _ in range(2):  # up to v3's deploy, then the drop
        assert labkit("complete", "--db", url, cwd=tmp_path).returncode == 0
    assert _rows(url, "full_name") == names


def test_a_dry_run_prints_the_sql_and_changes_nothing(url, tmp_path):
    _setup(url, tmp_path)
    with lk.connect(url) as db:
        before = db.table("users").catalog()
    dry = labkit("start", "plan.json", "--db", url, "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0 and dry.stdout.startswith("-- plan 'rename users.name to full_name' on users")
    with lk.connect(url) as db:
        assert db.table("users").catalog() == before and "labkit_migrations" not in db.tables()


def test_refusals_change_nothing_and_say_why(tmp_path):
    url = f"sqlite:///{tmp_path}/app.db"
    with lk.connect(url) as db:
        users = db.import_table(lab.make_users(10, seed=1))
        lk.save_plan(lk.build_naive_rename_migration(users, "name", "full_name"), tmp_path / "naive.json")
        before = users.catalog()
    naive = labkit("start", "naive.json", "--db", url, cwd=tmp_path)
    assert naive.returncode == 3 and "rename-in-place" in naive.stderr and "nothing changed" in naive.stderr
    (tmp_path / "bad.json").write_text('{"labkit_plan": 1, "name": "x", "steps": [{"op": "add_colum"}]}')
    bad = labkit("start", "bad.json", "--db", url, cwd=tmp_path)
    assert bad.returncode == 64 and "steps[0].op: unknown operation 'add_colum'" in bad.stderr
    nothing = labkit("rollback", "--db", url, cwd=tmp_path)
    assert nothing.returncode == 3 and "no plan is under way" in nothing.stderr
    usage = labkit("start", "--db", url, cwd=tmp_path)
    assert usage.returncode == 64 and len(usage.stderr.strip().splitlines()) == 1
    with lk.connect(url) as db:
        assert db.table("users").catalog() == before
