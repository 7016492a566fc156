"""A plan against a real database from a terminal, with pgroll's lifecycle.

    labkit start PLAN.json --db URL     # expand + migrate: up to where the new app version can deploy
    (deploy the new app version: it reads and writes through its own view)
    labkit complete --db URL            # contract: the old structure goes
    labkit rollback --db URL            # or: undo what start did
    labkit status --db URL              # where each plan on this database stands

``start`` runs the plan with ``until_phase="contract"``; ``complete`` and ``rollback`` find the plan where ``start``
left it (the plan file is kept with the run's state in ``labkit_migrations``), so they need only the database (and
``--table`` where several plans are under way). Ctrl-C stops after the batch in progress, undoing nothing: ``start``
(or ``complete``) again carries on from there.

Exit status: 0 done; 1 a step failed and the plan was rolled back; 2 the rollback failed too (what is left is
printed); 3 refused before any change (a safety error, the preflight, another run holds the table, nothing to
complete); 64 bad arguments or plan file; 130 stopped by Ctrl-C (resumable).
"""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

from ._common import mask_url
from .backends import state
from .backends.db import Database, DbTable
from .backends.engine import connect
from .backends.postgresql import LOCK_TIMEOUT_MS, MAX_ATTEMPTS
from .backends.sql import fingerprint as plan_fingerprint
from .backends.sql import live_versions, migration_running
from .backends.state import UNFINISHED
from .errors import CommandRefusedError, ConnectionLostError, LabkitError, RollbackUnderWayError
from .plan import MigrationPlan
from .plan_sql import plan_sql
from .planfile import load_plan, plan_from_dict
from .progress import TerminalProgress
from .runner import MigrationResult, MigrationRunner
from .steps import RenameInView
from .stops import DeployStop, deploy_stops, first_contract_step, next_stop
from .validate import validate_migration_safety
from .verify import verify_copy

EXIT = {"completed": 0, "rolled_back": 1, "rollback_failed": 2, "stopped": 130}
EX_STOPPED_AT_FAILURE = 4  # complete stopped where a step failed: nothing undone, run it again (or rollback)
EX_REFUSED = 3
EX_CONNECTION_LOST = 5  # the connection went mid-command: nothing is lost, the same command again carries on
EX_USAGE = 64
SUMMARY = {
    "start": "Run a plan's expand and migrate phases, up to where the new app version can deploy.",
    "complete": "Run the rest of a started plan: the contract phase.",
    "rollback": "Undo what a started (or cut-off) plan did.",
    "status": "Show where each plan on this database stands.",
    "retire": "Drop the versioned views a completed plan kept for app versions that no longer run.",
    "verify": "Compare a started plan's new column with what its source says, row by row, changing nothing.",
}
COMMANDS = tuple(SUMMARY)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not argparse's usage block
        self.exit(EX_USAGE, f"labkit: error: {message}\n")


def _parser(command: str) -> argparse.ArgumentParser:
    what = SUMMARY[command]
    p = _Parser(prog=f"labkit {command}", description=what)
    if command == "start":
        p.add_argument("plan", help="the plan file (JSON; see labkit.planfile)")
        p.add_argument("--dry-run", action="store_true", help="print the SQL the plan runs, change nothing")
    elif command in ("complete", "rollback", "verify"):
        p.add_argument("plan", nargs="?", help="the plan file (default: the one start kept in the database)")
    p.add_argument("--db", required=True, help="the database URL: sqlite:///file.db or postgresql://...")
    if command in ("start", "complete", "rollback"):
        p.add_argument(
            "--lock-timeout",
            type=_milliseconds,
            default=None,
            metavar="MS",
            help=f"PostgreSQL: how long each DDL statement waits for its lock before it is tried again, "
            f"{MAX_ATTEMPTS} tries in all (default {LOCK_TIMEOUT_MS} ms, as pgroll's; 0 waits forever)",
        )
    if command == "status":
        p.add_argument(
            "--json",
            action="store_true",
            help="one JSON document for a script or a CI job (its schema: docs/status.schema.json)",
        )
    if command == "retire":
        p.add_argument("--table", required=True, help="the table whose versioned views to drop")
        p.add_argument(
            "--keep",
            action="append",
            default=[],
            metavar="VERSION",
            help="an app version whose view stays (repeat for several); by default every view goes",
        )
    elif command != "start":
        p.add_argument("--table", help="the table (needed when plans on several tables are under way)")
    return p


def _milliseconds(text: str) -> int:
    try:
        value = int(text.strip().removesuffix("ms"))
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"a whole number of milliseconds >= 0, e.g. 500 or 2000ms; got {text!r}")
    return value


@contextmanager
def _ctrl_c_stops(runner: MigrationRunner) -> Iterator[None]:
    """The first Ctrl-C asks the run to stop after the batch in progress; a second one interrupts at once."""

    def handler(signum: int, frame: Any) -> None:
        print("\nlabkit: stopping after the batch in progress (Ctrl-C again to interrupt at once)", file=sys.stderr)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        runner.request_stop()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _under_way(db: Database, table: str | None) -> list[dict[str, Any]]:
    rows = state.unfinished(db)
    return [m for m in rows if table is None or m["table_name"] in _spellings(db, table)]


def _started_plan(db: Database, table: str | None, plan_path: str | None
                  ) -> tuple[MigrationPlan, DbTable, dict[str, Any] | None]:  # fmt: skip
    """The plan a command acts on, its table and its newest run there: the plan file given, else the one kept with
    the run under way (``--table`` says which of several), else the newest run's (to say it is done already)."""
    if plan_path is not None:
        plan = load_plan(plan_path)
        handle = db.table(table or plan.table)
        return plan, handle, _row(db, handle.qualified, plan.name)
    rows = _under_way(db, table)
    if not rows:
        newest = _newest([m for m in db.migrations() if table is None or m["table_name"] in _spellings(db, table)])
        rows = [newest] if newest is not None else []
        if not rows or not rows[0].get("plan_json") or rows[0]["status"] in UNFINISHED:
            where = f" on table {table!r}" if table else ""
            raise CommandRefusedError(
                f"no plan is under way{where} in {db.dialect.display}: start one with labkit start PLAN"
            )
    if len(rows) > 1:
        listed = ", ".join(f"{m['table_name']} ({m['plan']!r})" for m in rows)
        raise CommandRefusedError(f"several plans are under way ({listed}): say which with --table")
    row = rows[0]
    if not row.get("plan_json"):
        raise CommandRefusedError(f"plan {row['plan']!r} was started from Python, not from a file: give its plan file")
    return plan_from_dict(json.loads(row["plan_json"])), db.table(row["table_name"]), row


def _spellings(db: Database, table: str) -> tuple[str, ...]:
    """How the state table may name the table ``--table`` gives: bare (``users``) or ``schema.users``; a name given
    with the current schema (``public.users``) is the bare one (the state row of a plan started on ``users``)."""
    schema, _, bare = table.rpartition(".")
    current = db.dialect.current_schema(db) if db.dialect.has_schemas else ""
    if schema and schema == current:
        table = bare
    return (table, f"{current}.{table}") if current else (table,)


def _run(runner: MigrationRunner, plan: MigrationPlan) -> MigrationResult:
    with _ctrl_c_stops(runner):
        return runner.execute_plan(plan)


def _report(result: MigrationResult, command: str, args: argparse.Namespace, table: DbTable, plan: MigrationPlan,
            stop: DeployStop | None) -> int:  # fmt: skip
    """What a run ended in, and the one next command: at a deploy stop, the versions to roll out and how each
    reaches its schema; after a failure, carry on or undo; at the end, what views may go."""
    again = _again(args, table)
    if result.status == "stopped" and result.error is None and stop is not None and not _asked_to_stop(result, stop):
        print(
            f"{plan.name}: {_done_so_far(plan, stop)}; stopped {result.stopped_at}"
            + (f", for {_versions(stop)} to roll out first ({stop.reason})" if stop.versions else f" ({stop.reason})")
        )
        for version in stop.versions:
            print(_deploy_advice(plan, table, version))
        undo = f"    To undo instead: labkit rollback {again}" if _undoable(plan, stop.index) else ""
        print(f"Then: labkit complete {again}{undo}")
        return 0
    print(result.summary())
    if result.status == "completed" and table.views:
        print(f"The views of the app versions that may still run stay: {', '.join(table.views)} (the one deployed "
              f"after start no longer shows the dropped column). Deploy the newest everywhere; once no app uses "
              f"the others: labkit retire {again} --keep {live_versions(plan)[-1]}")  # fmt: skip
    if result.status == "completed":
        last = deploy_stops(plan)
        if last and last[-1].index == len(plan.steps):
            for version in last[-1].versions:
                print(_deploy_advice(plan, table, version))
    if result.status == "stopped" and result.error is not None:
        print(f"Nothing was undone: what the deployed app version uses is still there. Fix the cause and carry on: "
              f"labkit {command} {again}    Undo instead: labkit rollback {again}")  # fmt: skip
        return EX_STOPPED_AT_FAILURE
    if result.status == "stopped":
        print(f"Stopped on request. Carry on: labkit {command} {again}    Undo: labkit rollback {again}")
    elif result.status == "rollback_failed":
        print(f"Still applied: {', '.join(result.left_behind)}. The rollback stays under way: once the cause is "
              f"fixed (a lock released, the server back), run it again: labkit rollback {again}")  # fmt: skip
    return EXIT[result.status]


def _again(args: argparse.Namespace, table: DbTable) -> str:
    return f"--db {args.shown} --table {shlex.quote(table.qualified)}"


def _asked_to_stop(result: MigrationResult, stop: DeployStop) -> bool:
    """Did the run stop short of ``stop`` (Ctrl-C), rather than at it?"""
    return result.stopped_at is not None and result.stopped_at.split(" batch ")[0] != f"before {stop.step_name}"


def _versions(stop: DeployStop) -> str:
    names = [f"app {v}" for v in stop.versions]
    return names[0] if len(names) == 1 else ", then ".join(names) + " (each everywhere before the next)"


def _done_so_far(plan: MigrationPlan, stop: DeployStop) -> str:
    phases = list(dict.fromkeys(s.phase for s in plan.steps[: stop.index]))
    if not phases:
        return "nothing to run before the deploy"
    return (" and ".join(phases) + " done") if stop.index <= first_contract_step(plan) else "contract under way"


def _undoable(plan: MigrationPlan, position: int) -> bool:
    """Can a rollback from ``position`` undo every step before it (no dropped data among them)?"""
    return all(s.reversible for s in plan.steps[:position])


def _deploy_advice(plan: MigrationPlan, table: DbTable, version: str) -> str:
    """How the version to deploy reaches its schema, per engine: PostgreSQL by its view (named, or by search_path);
    SQLite by the table itself when every column it names is there, since a write through a SQLite view (INSTEAD OF
    triggers) reports no row count and loses the table's defaults, which an ORM does not survive."""
    d = table.db.dialect
    view = d.view_name(table.qualified, version)
    if d.name == "postgresql":
        return (f"Now deploy app {version} (it reads and writes through the view {view}: name it, or set its "
                f"search_path = {_search_path(table, view)}).")  # fmt: skip
    # (start refused a plan whose version could only write through a SQLite view: see _sqlite_view_route)
    return (f"Now deploy app {version} on the table itself: every column it uses is there (a write through "
            f"SQLite's view {view} would report no row count to an ORM).")  # fmt: skip


def _search_path(table: DbTable, view: str) -> str:
    """PostgreSQL: the search_path that finds a version's view first, then the rest of the app's tables (no space:
    libpq's ``options`` are split on spaces, and an app passes it there)."""
    schema = view.split(".")[0].strip('"')  # labkit_<version>: plain identifiers, no dot in either part
    return f"{schema},{table.schema or table.db.dialect.current_schema(table.db)}"


def _sqlite_view_route(plan: MigrationPlan, table: DbTable) -> None:
    """Refuse, before any change, a plan whose new version could reach its columns only through a SQLite view
    (approach B): SQLite counts no row an INSTEAD OF trigger writes, so an ORM's UPDATE reads as a vanished row
    (SQLAlchemy's StaleDataError), and an INSERT through the view passes NULL for what it leaves out, so the
    table's DEFAULTs never apply. The runner still runs it from Python, for the lessons that show approach B."""
    views = [s for s in plan.steps if isinstance(s, RenameInView)]
    if table.db.dialect.name == "sqlite" and views:
        s = views[0]
        raise CommandRefusedError(
            f"on SQLite app {s.version} would write {s.new!r} through a view, which reports 0 rows changed to an "
            f"ORM and drops the table's DEFAULTs; rename by copy instead (build_rename_column_migration(table, "
            f"{s.old!r}, {s.new!r}), approach A): app {s.version} then writes the table itself. Nothing changed"
        )


def _start(args: argparse.Namespace, db: Database) -> int:
    plan = load_plan(args.plan)
    table = db.table(plan.table)
    if args.dry_run:
        print(plan_sql(plan, table), end="")
        return 0
    denied = state.missing_access(db)  # another role's state table: all this run needs of it, in one line
    if denied is not None:
        raise denied
    row = _row(db, table.qualified, plan.name)
    first = next_stop(plan, 0, fresh=True)
    status = row["status"] if row is not None and row["fingerprint"] == plan_fingerprint(plan) else None
    if status == "rolling_back":
        raise RollbackUnderWayError(plan.name, row["step"])  # type: ignore[index]
    if status == "completed" or (status == "running" and first is not None and _past(row, first.index)):
        how = "and the plan completed" if status == "completed" else "up to its deploy stop"
        print(
            f"{plan.name}: already done: start ran {how} on {table.qualified}; {_next_command(plan, row, args, table)}"
        )
        return 0
    if status == "running":
        print(f"{plan.name}: under way already; carrying on where it stopped", file=sys.stderr)  # checked then
    else:
        _sqlite_view_route(plan, table)
        findings = validate_migration_safety(plan, table)
        for f in findings:
            print(str(f), file=sys.stderr)
        errors = [f for f in findings if f.severity == "error"]
        if errors:
            raise CommandRefusedError(f"{len(errors)} safety error(s) above: nothing changed")
    runner = MigrationRunner(table, observers=[TerminalProgress()], until_step=first.index if first else None)
    return _report(_run(runner, plan), "start", args, table, plan, first)


def _row(db: Database, table: str, plan: str | None = None) -> dict[str, Any] | None:
    """The newest run on ``table`` (of ``plan``, if given), whatever its status."""
    return _newest([m for m in db.migrations() if m["table_name"] == table and plan in (None, m["plan"])])


def _newest(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The run last changed, of ``rows``."""
    return max(rows, key=lambda m: (str(m["updated_at"]), m["plan"])) if rows else None


def _past(row: dict[str, Any] | None, index: int) -> bool:
    """Has the run in ``row`` got to position ``index`` (or beyond)?"""
    return row is not None and (row["step_index"] > index or (row["step_index"] == index and not row["batch"]))


def _next_command(plan: MigrationPlan, row: dict[str, Any] | None, args: argparse.Namespace, table: DbTable) -> str:
    """What to do next with the run in ``row``, as one sentence."""
    again = _again(args, table)
    if row is None or row["status"] == "rolled_back":
        return f"nothing is under way: labkit start PLAN {again.split(' --table')[0]}"
    if row["status"] == "completed":
        return "nothing is left to run"
    stop = next_stop(plan, row["step_index"]) if _past(row, row["step_index"]) else None
    at = next((s for s in deploy_stops(plan) if s.index == row["step_index"] and not row["batch"]), None)
    deploy = f"deploy {_versions(at)} if not yet done, then " if at is not None and at.versions else ""
    then = f" (it runs up to {stop.step_name})" if stop is not None else " (it runs to the end)"
    return f"next: {deploy}labkit complete {again}{then}"


def _complete(args: argparse.Namespace, db: Database) -> int:
    plan, table, row = _started_plan(db, args.table, args.plan)
    if row is None:
        raise CommandRefusedError(f"plan {plan.name!r} has not run on {table.qualified}: start it first")
    if row["status"] == "completed":
        print(f"{plan.name}: already done: completed on {table.qualified}; nothing is left to run")
        return 0
    if row["status"] == "rolled_back":
        raise CommandRefusedError(f"plan {plan.name!r} was rolled back on {table.qualified}: nothing to complete; "
                                  f"start it again with labkit start PLAN")  # fmt: skip
    if row["status"] == "rolling_back":
        raise RollbackUnderWayError(plan.name, row["step"])
    first, position = next_stop(plan, 0, fresh=True), row["step_index"]
    if first is not None and not _past(row, first.index):  # start was cut off: finish it, stop for the deploy
        print(f"{plan.name}: start did not finish; carrying it on up to the deploy first", file=sys.stderr)
        runner = MigrationRunner(table, observers=[TerminalProgress()], until_step=first.index)
        return _report(_run(runner, plan), "start", args, table, plan, first)
    stop = next_stop(plan, position)
    contract = first_contract_step(plan)
    if position <= contract < (stop.index if stop else len(plan.steps)):  # this leg drops the source: a right copy?
        checked = verify_copy(table, plan)
        if not checked.ok:
            raise CommandRefusedError(
                f"the copy is not what its source says, so nothing is dropped: {checked.summary()}. Find the cause "
                "(a trigger of the app's, a write around the dual write), put the rows right, and run labkit verify; "
                "or labkit rollback")  # fmt: skip
        if checked.columns:
            print(f"{plan.name}: {checked.summary()}", file=sys.stderr)
    # the new app version is deployed on what start built: a failure stops here, it never takes that away
    runner = MigrationRunner(table, observers=[TerminalProgress()], on_failure="stop",
                             until_step=stop.index if stop else None)  # fmt: skip
    return _report(_run(runner, plan), "complete", args, table, plan, stop)


def _verify(args: argparse.Namespace, db: Database) -> int:
    plan, table, _ = _started_plan(db, args.table, args.plan)
    checked = verify_copy(table, plan)
    print(f"{plan.name}: {checked.summary()}")
    return 0 if checked.ok else EX_REFUSED


def _rollback(args: argparse.Namespace, db: Database) -> int:
    plan, table, row = _started_plan(db, args.table, args.plan)
    if row is not None and row["status"] == "rolled_back":
        print(f"{plan.name}: already done: rolled back on {table.qualified}; nothing is left to undo")
        return 0
    if row is not None and row["status"] == "completed":
        raise CommandRefusedError(f"plan {plan.name!r} completed on {table.qualified}: its contract cannot be undone "
                                  "(what it dropped is gone); write a plan that changes it back")  # fmt: skip
    runner = MigrationRunner(table, observers=[TerminalProgress()], resume="rollback")
    result = _run(runner, plan)
    if result.status == "rolled_back":  # asked for: the "failure" it reports is the request itself
        print(f"{plan.name}: rolled back; {table.qualified} is as it was before the plan")
        return 0
    return _report(result, "rollback", args, table, plan, None)


def _retire(args: argparse.Namespace, db: Database) -> int:
    """Drop the labkit views of ``--table`` but those of ``--keep`` versions, once no app uses them (the user says so
    by running it): ``complete`` keeps the view of the version deployed after ``start`` and the newest one's."""
    table = db.table(args.table)
    if _under_way(db, table.qualified):
        raise CommandRefusedError(f"a plan is under way on {table.qualified}: its views are in use; complete it or "
                                  "roll it back first")  # fmt: skip
    keep = {db.dialect.view_name(table.qualified, v) for v in args.keep}
    unknown = [v for v in args.keep if db.dialect.view_name(table.qualified, v) not in table.views]
    if unknown:  # a typo would drop the view the app runs on
        raise CommandRefusedError(f"--keep {', '.join(unknown)}: no such app version has a view on {table.qualified} "
                                  f"(its views: {', '.join(table.views) or 'none'}); nothing dropped")  # fmt: skip
    gone = [v for v in table.views if v not in keep]
    kept = [v for v in table.views if v in keep]
    with db.transaction():
        for view in gone:
            db.execute(db.dialect.drop_view_sql(view))
        for statement in db.dialect.empty_view_homes(db):
            db.execute(statement)
    print(f"dropped {', '.join(gone) if gone else 'nothing'}; kept {', '.join(kept) if kept else 'none'}")
    return 0


def _status(args: argparse.Namespace, db: Database) -> int:
    rows = db.migrations()
    if args.table:
        rows = [m for m in rows if m["table_name"] in _spellings(db, args.table)]
    if args.json:
        print(json.dumps(status_document(db, rows, args), indent=2))
        return 0
    if not rows:
        print(f"no labkit plan has run on {db.dialect.display}" + (f" for {args.table}" if args.table else ""))
        return 0
    for m in rows:
        state = m["status"]
        if state in ("running", "rolling_back"):
            busy = migration_running(db, m["table_name"])
            where = f"at step {m['step_index'] + 1} ({m['step']})" if m["step"] else "after its last step"
            batch = f", batch {m['batch']} committed" if m["batch"] else ""
            who = "a process is running it now" if busy else "no process is running it: carry on, or roll back"
            state = f"{'under way' if state == 'running' else 'rolling back'} {where}{batch}; {who}"
        print(f"{m['table_name']}: {m['plan']!r}: {state} (since {m['started_at']}, last change {m['updated_at']})")
        if db.dialect.table_exists(db, m["table_name"]) and m["status"] != "rolled_back":  # a rollback leaves none
            views = _plan_views(db, m)
            print(f"  app versions' views: {', '.join(views) if views else 'none'}")
    return 0


def status_document(db: Database, rows: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    """``labkit status --json``: every run on record, each with where it stands and the one next thing to do, for a
    script to act on (its JSON Schema: ``docs/status.schema.json``; ``format`` changes only with that file)."""
    return {"format": 1, "database": mask_url(args.db), "engine": db.dialect.name,
            "plans": [_plan_status(db, m, args) for m in rows]}  # fmt: skip


def _plan_status(db: Database, row: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    status, position, batch = row["status"], int(row["step_index"]), int(row["batch"] or 0)
    out: dict[str, Any] = {
        "table": row["table_name"], "plan": row["plan"], "status": status,
        "process_running": status in UNFINISHED and migration_running(db, row["table_name"]),
        "started_at": str(row["started_at"]), "updated_at": str(row["updated_at"]),
        "phase": None, "step": None, "next": None, "versions": [],
    }  # fmt: skip
    if not row.get("plan_json"):  # run from Python: its steps are not on record
        return out
    plan = plan_from_dict(json.loads(row["plan_json"]))
    steps = plan.steps
    done = status == "completed"
    at = min(position, len(steps) - 1)
    out["phase"] = "done" if done else ("rolled back" if status == "rolled_back" else steps[at].phase)
    out["step"] = {"index": position, "of": len(steps), "name": None if done else steps[at].name, "batch": batch}
    stops = deploy_stops(plan)
    waiting = None if status != "running" else next((s for s in stops if s.index == position and not batch), None)
    passed = [s for s in stops if s.index < position or done]
    live = ([plan.apps[0].name] if plan.apps else []) + [v for s in passed for v in s.versions]
    table = db.table(row["table_name"]) if db.dialect.table_exists(db, row["table_name"]) else None
    out["versions"] = [_version(db, table, a.name, a.name == (live[-1] if live else None)) for a in plan.apps]

    def shell(command: str) -> str:
        return f"labkit {command} --db {args.shown} --table {shlex.quote(row['table_name'])}"

    if status == "running" and not out["process_running"]:
        first = next_stop(plan, 0, fresh=True)
        command = "start" if first is not None and not _past(row, first.index) else "complete"
        run_to = next_stop(plan, position, fresh=command == "start")
        out["next"] = {
            "deploy": list(waiting.versions) if waiting else [],
            "reason": waiting.reason if waiting else None,
            "command": command,
            "shell": shell(command if command == "complete" else "start PLAN.json"),
            "runs_until": run_to.step_name if run_to else None,
            "can_roll_back": _undoable(plan, position),
        }  # fmt: skip
    elif status == "rolling_back" and not out["process_running"]:
        out["next"] = {"deploy": [], "reason": "a rollback was cut off: run it again", "command": "rollback",
                       "shell": shell("rollback"), "runs_until": None, "can_roll_back": True}  # fmt: skip
    return out


def _version(db: Database, table: DbTable | None, name: str, live: bool) -> dict[str, Any]:
    """An app version: its view if it exists (PostgreSQL: and the search_path that finds it), and whether the
    plan expects it to be the one running everywhere now."""
    view = db.dialect.view_name(table.qualified, name) if table is not None else None
    view = view if table is not None and view in table.views else None
    path = _search_path(table, view) if table is not None and view is not None and db.dialect.name == "postgresql" \
        else None  # fmt: skip
    use = "view" if path is not None else "table"  # SQLite: the table itself (see _deploy_advice)
    return {"name": name, "use": use, "view": view, "search_path": path, "live": live}


def _plan_views(db: Database, row: dict[str, Any]) -> list[str]:
    """The views of this plan's app versions that exist (every labkit view of the table, for a plan run from
    Python, whose versions are not on record)."""
    table = db.table(row["table_name"])
    if not row.get("plan_json"):
        return list(table.views)
    apps = plan_from_dict(json.loads(row["plan_json"])).apps
    mine = {db.dialect.view_name(table.qualified, a.name) for a in apps}
    return [v for v in table.views if v in mine]


def main(command: str, argv: Sequence[str]) -> int:
    args = _parser(command).parse_args(argv)
    args.shown = shlex.quote(mask_url(args.db))  # never print a password; a URL with ? or & pasted back as one word
    try:
        with connect(args.db, existing=True, lock_timeout_ms=getattr(args, "lock_timeout", None)) as db:
            run = {"start": _start, "complete": _complete, "rollback": _rollback, "status": _status, "retire": _retire,
                   "verify": _verify}  # fmt: skip
            try:
                return run[command](args, db)
            except (LabkitError, KeyboardInterrupt):
                raise
            except Exception as exc:  # the server went away between steps (reading the state, the catalog)
                if db.dialect.lost(db.conn):
                    raise _Lost(f"{type(exc).__name__}: {exc}") from exc
                raise
    except CommandRefusedError as exc:
        print(f"labkit: refused: {exc}", file=sys.stderr)
        return EX_REFUSED
    except ConnectionLostError as exc:
        return _connection_lost(command, args, f"at step {exc.step!r} of plan {exc.plan!r} ({exc.reason})")
    except LabkitError as exc:
        refused = ("PreflightError", "MigrationLockedError", "RollbackUnderWayError", "PrivilegeError")
        code = EX_REFUSED if type(exc).__name__ in refused else EX_USAGE
        print(f"labkit: {'refused' if code == EX_REFUSED else 'error'}: {exc}", file=sys.stderr)
        return code
    except _Lost as exc:
        return _connection_lost(command, args, str(exc))


class _Lost(Exception):
    """The connection went outside a run (the runner raises ``ConnectionLostError`` within one)."""


def _connection_lost(command: str, args: argparse.Namespace, what: str) -> int:
    table = getattr(args, "table", None)
    again = f"labkit {command} --db {args.shown}" + (f" --table {shlex.quote(table)}" if table else "")
    print(f"labkit: connection lost {mask_url(what).strip()}. Every committed change is consistent and recorded; "
          f"nothing is lost. Run the same command again: {again}", file=sys.stderr)  # fmt: skip
    return EX_CONNECTION_LOST
