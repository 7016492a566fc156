"""Every deploy is a stop: `labkit start` runs to a plan's first deploy stop, each `complete` to the next, and a
script drives any plan from `labkit status --json` alone (issue 33, part 3).

- the stops of the plans the builders make, read from their steps (`labkit.stops`);
- every plan kind of the operation contract, on each engine it runs on, driven by a loop that reads nothing but
  `status --json` (validated against `docs/status.schema.json` at every turn) and runs the command line it names:
  the end catalog is a straight run's, and the versions it was told to roll out are the plan's, in order;
- the same through a real shell, `labkit start P && deploy && labkit complete && deploy && labkit complete`, where
  a command run once more than a plan needs says "already done" and exits 0.
"""

from __future__ import annotations

import contextlib
import io
import json
import shlex
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

import labkit as lk
from labkit import lab
from labkit.cli import main
from labkit.stops import deploy_stops, first_contract_step
from tests.conftest import reset_database, status_json
from tests.test_operation_contract import CASES

SCHEMA = json.loads((Path(__file__).parent.parent / "docs" / "status.schema.json").read_text())
# (start refuses a rename through views on SQLite, before any change: tests/test_unkind_app.py)
SAFE = [(name, engine) for name, case in CASES.items() if case.safe for engine in case.engines
        if (name, engine) != ("rename through views", "sqlite")]  # fmt: skip


def test_the_stops_of_a_rename_are_v2_before_the_contract_and_v3_before_the_drop(users):
    plan = lk.build_rename_column_migration(users, "name", "full_name")
    stops = deploy_stops(plan)
    assert [(s.step_name, s.versions) for s in stops] == [("stop_dual_write", ("v2",)), ("drop_column", ("v3",))]
    assert stops[0].index == first_contract_step(plan)


def test_a_version_that_never_writes_null_stops_the_run_before_the_fill_and_no_bare_stop_follows(pg):
    users = pg.import_table(lab.make_users(20, seed=1))
    plan = lk.build_set_not_null_migration(users, "name", fill="unknown")
    stops = deploy_stops(plan)
    assert len(stops) == 1 and stops[0].versions == ("v2",)  # the contract needs no other deploy: no stop there
    fixing = plan.steps[stops[0].index]
    assert getattr(fixing, "column", None) == "name" and fixing.phase == "migrate"


def test_two_versions_due_at_one_position_are_rolled_out_in_order_each_everywhere_first():
    v1, v2, v3 = (lk.AppVersion(v, ["a", "b"], ["a", "b"]) for v in ("v1", "v2", "v3"))
    plan = lk.MigrationPlan("two at once", [
        lk.AddColumn("t", "b", deploy="v2"),  # expand, then v2 (needed by nothing before the contract)
        lk.DropColumn("t", "a", deploy="v3"),  # v3 before the drop
    ], apps=[v1, v2, v3])  # fmt: skip
    assert [(s.index, s.versions) for s in deploy_stops(plan)] == [(1, ("v2", "v3"))]


def _status(url: str) -> dict:
    document = status_json(url)
    jsonschema.validate(document, SCHEMA)
    return document


def _drive(url: str, plan_file: Path) -> list[str]:
    """A CI job that knows only the plan file and `labkit status --json`: start, then while a plan waits, roll out
    what it names and run the command line it gives. The versions rolled out, in order."""
    said = io.StringIO()
    with contextlib.redirect_stdout(said):
        assert main(["start", str(plan_file), "--db", url]) == 0, said.getvalue()
    rolled: list[str] = []
    for _ in range(10):
        waiting = [p["next"] for p in _status(url)["plans"] if p["next"] is not None]
        if not waiting:
            return rolled
        rolled += waiting[0]["deploy"]
        argv = shlex.split(waiting[0]["shell"].replace("PLAN.json", str(plan_file)))
        assert argv[0] == "labkit"
        with contextlib.redirect_stdout(said):
            assert main(argv[1:]) == 0, said.getvalue()
    pytest.fail(f"still waiting after 10 commands:\n{said.getvalue()}")


@pytest.mark.parametrize(("case", "engine"), SAFE, ids=[f"{c}-{e}" for c, e in SAFE])
def test_a_script_reading_only_status_json_drives_every_plan_kind_to_a_straight_runs_end(
    case, engine, tmp_path, request
):
    url = f"sqlite:///{tmp_path}/app.db" if engine == "sqlite" else request.getfixturevalue("pg_url")
    spec = CASES[case]
    with lk.connect(url) as db:
        if engine == "postgresql":
            reset_database(db)
            db.execute("DROP TABLE IF EXISTS accounts CASCADE")
        table = spec.make(db)
        plan = spec.build(table)
        assert lk.MigrationRunner(table).execute_plan(plan).status == "completed"  # the twin: a straight run
        expected = db.table(table.qualified).catalog()
        reset_database(db)
        db.execute("DROP TABLE IF EXISTS accounts CASCADE") if engine == "postgresql" else None
        table = spec.make(db)
    lk.save_plan(plan, tmp_path / "plan.json")
    try:
        rolled = _drive(url, tmp_path / "plan.json")
        with lk.connect(url) as db:
            assert db.table(table.qualified).catalog() == expected
            (row,) = [p for p in _status(url)["plans"] if p["plan"] == plan.name]
            assert row["status"] == "completed" and row["phase"] == "done" and row["next"] is None
            assert [v["name"] for v in row["versions"] if v["live"]] == [plan.apps[-1].name] if plan.apps else True
        wanted = [v for s in deploy_stops(plan) if s.index < len(plan.steps) for v in s.versions]
        assert rolled == wanted
        if case.startswith("rename by copy"):
            assert rolled == ["v2", "v3"]
    finally:
        if engine == "postgresql":
            with lk.connect(url) as db:
                reset_database(db)
                db.execute("DROP TABLE IF EXISTS accounts CASCADE")


PIPELINE = """
set -e
deploy() {  # the roll-out: here, only what labkit status --json says to roll out, logged
  "$PY" -m labkit status --json --db "$DB" | "$PY" -c '
import json, sys
for p in json.load(sys.stdin)["plans"]:
    if p["next"]:
        print(*p["next"]["deploy"])' >> deployed.log
}
"$PY" -m labkit start plan.json --db "$DB" && deploy && "$PY" -m labkit complete --db "$DB" && deploy && \
  "$PY" -m labkit complete --db "$DB"
"""


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_shell_pipeline_start_deploy_complete_deploy_complete_runs_a_rename_and_a_plan_of_one_stop(
    engine, tmp_path, request
):
    url = f"sqlite:///{tmp_path}/app.db" if engine == "sqlite" else request.getfixturevalue("pg_url")
    builds = {"rename": lambda t: lk.build_rename_column_migration(t, "name", "full_name", batch_size=7),
              "add column": lambda t: lk.build_add_column_migration(t, "nickname")}  # fmt: skip
    for what, build in builds.items():
        with lk.connect(url) as db:
            reset_database(db)
            lk.save_plan(build(db.import_table(lab.make_users(30, seed=2))), tmp_path / "plan.json")
        (tmp_path / "deployed.log").unlink(missing_ok=True)
        done = subprocess.run(["bash", "-c", PIPELINE], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                              env={"PY": sys.executable, "DB": url, "PATH": "/usr/bin:/bin"})  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        log = (tmp_path / "deployed.log").read_text().split("\n")
        with lk.connect(url) as db:
            columns = db.table("users").column_names
        if what == "rename":  # two stops: v2, then v3 before the drop
            assert log[:2] == ["v2", "v3"] and "full_name" in columns and "name" not in columns, done.stdout
        else:  # a plan with nothing to stop for finishes in start; each complete after it says so
            assert "nickname" in columns and done.stdout.count("already done") == 2, done.stdout
    with lk.connect(url) as db:
        reset_database(db)
