"""``python -m labkit`` / ``labkit``: run a migration on a generated table and print what happens.

    python -m labkit rename --fail-at backfill:3     # run it (in memory), print phases, history, rows
    python -m labkit sql rename                      # print the SQL it runs (a scratch SQLite file)
    python -m labkit sql rename --db postgresql://... --table users   # ... on that table of a real database
    python -m labkit sql plan.json --db URL          # a plan file's SQL (PostgreSQL: with squawk's ignore comments)
    python -m labkit lint plan.json --db URL         # labkit's rules, then squawk over that SQL (exit 1: fix it)
    python -m labkit lint migration.sql --db URL     # the same over a SQL migration as written
    python -m labkit convert migration.sql --db URL -o plan.json   # plain ALTER TABLEs as a labkit plan
    python -m labkit start plan.json --db URL        # a plan file on a real database: start, complete,
                                                     # rollback, status (labkit.lifecycle, exit codes there)
    python -m labkit export alembic plan.json --db URL --dir migrations/versions   # Alembic revisions, a deploy
                                                     # between each two
    python -m labkit db [--standby]                  # a PostgreSQL for your own app, until Ctrl-C

Exit status: 0 completed (or SQL printed), 1 rolled back, 2 rollback failed, 64 bad arguments or a plan the
database refuses (one line on stderr).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

from . import lifecycle
from ._common import SQL
from .backends.engine import connect
from .backends.servers import embedded_postgres, streaming_standby
from .builders import (
    build_add_column_migration,
    build_naive_rename_migration,
    build_rename_column_migration,
    continue_versions,
)
from .convert import alembic_sql, as_sql, convert_sql, django_sql, first_plan
from .course.data import EMAIL_DOMAIN_SQL, email_domain, make_users
from .course.traffic import simulate_traffic
from .errors import DatabaseUnavailableError, InvalidArgumentError, LabkitError
from .export_alembic import wire_env, write_alembic
from .plan import MigrationPlan
from .plan_sql import plan_sql, runnable_sql
from .planfile import load_plan, save_plan
from .progress import TerminalProgress
from .runner import MigrationRunner
from .safety import has_sql, labkit_findings
from .safety.squawk import CHOICES, IGNORE, annotated_sql, pg_version, run_squawk, squawk_path
from .table import TableLike
from .validate import validate_migration_safety

EXIT = {"completed": 0, "rolled_back": 1, "rollback_failed": 2}
MIGRATIONS = ["rename", "add-column", "naive-rename"]
EX_USAGE = 64
COMMANDS = {  # what `labkit --help` lists: every command, each with `labkit COMMAND --help` of its own
    "rename": "Demo: rename users.name to full_name by expand/contract, on a generated table in memory.",
    "add-column": "Demo: add users.email_domain and backfill it, on a generated table in memory.",
    "naive-rename": "Demo: the in-place rename, for contrast (the safety checks flag it).",
    "sql": "Print the SQL of a demo migration or of a plan file on its database, changing nothing.",
    "lint": "labkit's rules and squawk over a plan file (what the plan answers by design passed through squawk's "
    "ignore comments, with the reason) or over a SQL migration as written; exit 1 when something needs a fix.",
    **lifecycle.SUMMARY,
    "export": "Write a plan file as Alembic revisions: start, then one per deploy stop (complete).",
    "db": "Run a PostgreSQL for your own app (the lab's embedded one) in the foreground, its URL printed, until "
    "Ctrl-C; with --standby, a streaming standby beside it.",
    "convert": "Turn a plain SQL migration (ALTER TABLE ..., CREATE INDEX ...) into labkit plans that keep the app "
    "up; say what it cannot infer.",
}
OVERVIEW = (
    "usage: labkit COMMAND [options]    (labkit COMMAND --help for each)\n\n"
    "Zero-downtime schema changes, expand -> migrate -> contract.\n\ncommands:\n"
    + "".join(f"  {name:<13} {what}\n" for name, what in COMMANDS.items())
    + "\nA plan file's format: docs/plan-file.md (every operation and its fields), docs/plan-file.schema.json.\n"
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not argparse's usage block
        self.exit(EX_USAGE, f"labkit: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="labkit", description="Run a zero-downtime migration on a generated users table.")
    p.add_argument(
        "migration",
        choices=MIGRATIONS,
        help="rename name->full_name (expand/contract), add email_domain, or the naive in-place rename",
    )
    p.add_argument("--rows", type=int, default=20, help="rows in the generated table (default 20)")
    p.add_argument("--batch-size", type=int, default=5, help="backfill batch size (default 5)")
    p.add_argument(
        "--fail-at", default=None, help="inject a fault: 'backfill', 'backfill:3', 'backfill:3,rollback:add_column'"
    )
    p.add_argument("--traffic", action="store_true", help="run simulated app traffic during the migration")
    p.add_argument("--seed", type=int, default=0, help="seed for the data and the traffic (default 0)")
    p.add_argument("--show-rows", type=int, default=5, help="rows to print before and after (default 5)")
    p.add_argument("-v", "--verbose", action="store_true", help="also send the runner's log to stderr")
    return p


def _print_rows(table: TableLike, n: int) -> None:
    cols = table.column_names
    print("  " + " | ".join(cols))
    for row in table.rows()[:n]:
        print("  " + " | ".join(str(row[c]) for c in cols))


def _sql_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="labkit sql", description=COMMANDS["sql"])
    p.add_argument("migration", metavar="MIGRATION|PLAN.json", help=f"a demo migration ({', '.join(MIGRATIONS)}: "
                   "the same as `labkit MIGRATION`) or a plan file, whose table is in --db")  # fmt: skip
    p.add_argument("--db", default=None, help="a database URL (sqlite:///file.db, postgresql://...); default: a "
                   "scratch SQLite file holding a generated users table (a plan file needs its database)")  # fmt: skip
    p.add_argument("--table", default=None, help="the table in --db (default: users, or the plan file's table; "
                   "schema.table on PostgreSQL)")  # fmt: skip
    p.add_argument("--rows", type=int, default=20, help="rows in the generated table, without --db (default 20)")
    p.add_argument("--batch-size", type=_batch_size, default="auto", help="backfill batch size in rows, or auto "
                   "(the default: each batch sized to take about 200 ms on a database)")  # fmt: skip
    p.add_argument("--runnable", action="store_true", help="statements to run one by one, e.g. with psql -f: the "
                   "backfill as a procedure that commits each batch (PostgreSQL)")  # fmt: skip
    return p


def _batch_size(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number of rows or auto, not {text!r}") from None


def _build(migration: str, table: TableLike, batch_size: Any) -> MigrationPlan:
    if migration == "rename":
        return build_rename_column_migration(table, "name", "full_name", batch_size=batch_size)
    if migration == "add-column":
        return build_add_column_migration(table, "email_domain", backfill=email_domain, backfill_sql=EMAIL_DOMAIN_SQL,
                                          source="email", batch_size=batch_size)  # fmt: skip
    return build_naive_rename_migration(table, "name", "full_name")


def sql_main(argv: Sequence[str]) -> int:
    """``labkit sql``: the statements ``MigrationRunner`` would send, from the backend's own code (``plan_sql``)."""

    args = _sql_parser().parse_args(argv)
    try:
        if args.rows < 0:
            raise InvalidArgumentError(f"--rows must be >= 0, got {args.rows}")
        from_file = args.migration not in MIGRATIONS
        if from_file and args.db is None:
            raise InvalidArgumentError(f"{args.migration!r} is not one of the demos ({', '.join(MIGRATIONS)}): as a "
                                       "plan file it needs --db URL, the database whose table it changes")  # fmt: skip
        with contextlib.ExitStack() as stack:
            file_plan = load_plan(args.migration) if from_file else None
            if args.db is None:
                scratch = stack.enter_context(tempfile.TemporaryDirectory())
                db = stack.enter_context(connect(f"sqlite:///{scratch}/lab.db"))
                table = db.import_table(make_users(args.rows, seed=0))
            else:
                db = stack.enter_context(connect(args.db, existing=True))
                table = db.table(args.table or (file_plan.table if file_plan else "users"))
            plan = file_plan or _build(args.migration, table, args.batch_size)
            if args.runnable:
                print("".join(f"{s};\n\n" for s in runnable_sql(plan, table)), end="")
            elif db.dialect.name == "postgresql" and has_sql(ours := labkit_findings(plan, table)[0]):
                print(annotated_sql(plan, table, ours), end="")  # squawk's ignore comments where the plan answers
            else:
                print(plan_sql(plan, table), end="")
    except (LabkitError, ValueError) as exc:
        print(f"labkit: error: {exc}", file=sys.stderr)
        return EX_USAGE
    return 0


def lint_main(argv: Sequence[str]) -> int:
    """``labkit lint PLAN.json | MIGRATION.sql --db URL``: labkit's rules, then squawk, as a CI job runs them.

    A plan: labkit's rules over it, then plain squawk over ``labkit sql``'s SQL, where each finding the plan
    answers by design carries squawk's own ``-- squawk-ignore RULE -- expected: reason`` comment, so squawk itself
    passes it over and every other finding stands. A SQL file: what labkit makes of each statement (safe as
    written, brief under a lock timeout, or one that needs a plan: ``labkit convert``), then squawk over the file as
    written. squawk's findings about the schema the user chose (``prefer-text-field``, ``prefer-bigint-over-int``
    ...: ``squawk.CHOICES``) are warnings; ``--strict`` makes them failures. Exit 0 when nothing is left to fix, 1
    when something is, 64 for bad arguments, a plan file or SQL that does not read."""
    p = _Parser(prog="labkit lint", description=COMMANDS["lint"])
    p.add_argument("file", help="a plan file (JSON) or a SQL migration (.sql)")
    p.add_argument("--db", required=True, help="the database it is for (the SQL depends on its catalog)")
    p.add_argument("--table", default=None, help="a plan's table (default: the plan file's)")
    p.add_argument("--sql-out", default=None, metavar="FILE",
                   help="a plan: also keep the SQL squawk read, ignore comments and all, in FILE")  # fmt: skip
    p.add_argument("--strict", action="store_true",
                   help="squawk's findings about the schema you chose (a type, a key's kind) fail too")  # fmt: skip
    args = p.parse_args(argv)
    try:
        with open(args.file, encoding="utf-8") as given:
            text = given.read()
        if not _is_plan_file(args.file, text):
            return _lint_sql(args, text)
        plan = load_plan(args.file)
        with connect(args.db, existing=True) as db:
            table = db.table(args.table or plan.table)
            ours, engine = labkit_findings(plan, table)
            print(f"labkit's rules: {len(ours)} finding(s)")
            for f in ours:
                print("  " + str(f).replace("\n", "\n  "))
            failed = any(f.severity == "error" for f in ours)
            if engine != "postgresql":
                print(f"squawk: not run (it reads PostgreSQL's SQL; this database is {engine})")
                return int(failed)
            if not has_sql(ours):
                print("squawk: not run (labkit refuses this plan before it has any SQL)")
                return 1
            sql, version = annotated_sql(plan, table, ours), pg_version(table)
        kept = "" if args.sql_out is None else f", kept in {args.sql_out}"
        print(f"squawk (the SQL has {sql.count(IGNORE)} ignore comment(s), each with the reason the plan answers "
              f"that finding by design{kept}):", flush=True)  # fmt: skip
        left = _squawk(sql, version, args.sql_out or "plan.sql", keep=args.sql_out is not None)
    except (LabkitError, ValueError, OSError) as exc:
        print(f"labkit: error: {exc}", file=sys.stderr)
        return EX_USAGE
    return 1 if failed or _squawk_fails(left, args.strict) else 0


def _is_plan_file(path: str, text: str) -> bool:
    if path.endswith(".json"):
        return True
    return not path.endswith(".sql") and text.lstrip().startswith("{")


def _squawk(sql: str, version: str | None, name: str, *, keep: bool = False) -> list[dict[str, Any]]:
    """Plain squawk over ``sql`` as a file called ``name`` (kept there with ``keep``), its own report printed (a
    terminal: squawk's; a log or a pipe: a line a finding); the findings, from its JSON reporter."""
    with contextlib.ExitStack() as stack:
        folder = "." if keep else stack.enter_context(tempfile.TemporaryDirectory())
        with open(os.path.join(folder, name), "w", encoding="utf-8") as out:
            out.write(sql)
        reporter = [] if sys.stdout.isatty() else ["--reporter", "gcc"]
        pinned = [f"--pg-version={version}"] if version else []
        done = subprocess.run([squawk_path(), *pinned, *reporter, name], cwd=folder, check=False)  # fmt: skip
    if done.returncode not in (0, 1):
        raise ValueError(f"squawk exited {done.returncode}")
    return run_squawk(sql, pg_version=version)


def _squawk_fails(found: list[dict[str, Any]], strict: bool) -> bool:
    """Print what of squawk's findings are warnings (the user's own choice of schema) and say if the rest fail."""
    chosen = sorted({str(r["rule_name"]) for r in found if r["rule_name"] in CHOICES})
    needs = [r for r in found if strict or r["rule_name"] not in CHOICES]
    if chosen:
        kind = "failures (--strict)" if strict else "warnings (--strict makes them failures)"
        print(f"  {kind}: {', '.join(chosen)}: about the schema you chose, not about how it changes")
    if not found:
        print("  no finding left to fix")
    return bool(needs)


def _lint_sql(args: argparse.Namespace, sql: str) -> int:
    """``labkit lint MIGRATION.sql``: each statement as labkit reads it, then squawk over the file as written."""
    with connect(args.db, existing=True) as db:
        conversions = convert_sql(sql, db)
        engine = db.dialect.name
        version = pg_version(db) if engine == "postgresql" else None
    print(f"labkit, statement by statement ({len(conversions)}):")
    needs = []
    for c in conversions:
        verdict, why = _verdict(c)
        print(f"  {' '.join(c.statement.split())[:100]}\n    {verdict}: {why}")
        if verdict in ("needs a plan", "asked", "refused"):
            needs.append(c)
    if needs:
        print(f"  {len(needs)} statement(s) would lock the table or break the app as written: labkit convert "
              f"{shlex.quote(args.file)} --db URL makes a plan that keeps the app up (or says what it needs)")
    if engine != "postgresql":
        print(f"squawk: not run (it reads PostgreSQL's SQL; this database is {engine})")
        return 1 if needs else 0
    print("squawk, on the file as written:", flush=True)
    left = _squawk(sql, version, os.path.basename(args.file))
    return 1 if _squawk_fails(left, args.strict) or needs else 0


def _verdict(c: Any) -> tuple[str, str]:
    """A statement's verdict for lint: ``ok``, ``brief``, ``needs a plan``, ``asked``, ``refused``, and why."""
    if c.refused:
        return "refused", c.refused
    if c.asked:
        return "asked", "; ".join(c.asked)
    if c.noted:
        return "ok", c.noted
    if c.written:
        return "ok", c.written
    if c.how:
        return "brief", f"as written, under a lock timeout with retries ({c.how}); labkit convert runs it so"
    lock = c.naive_lock or ""
    if c.plan is not None and len(c.plan.steps) == 1 and "for an instant" in lock and "fails" not in lock:
        return "brief", f"{lock}: safe as written under a lock timeout (squawk checks the file sets one)"
    return "needs a plan", f"as written: {c.naive_lock or 'it changes what a running app uses'}"


def db_main(argv: Sequence[str]) -> int:
    """``labkit db [--data DIR] [--standby]``: the embedded PostgreSQL in the foreground for an app of your own (a
    Django or SQLAlchemy project to try labkit on), its URL printed, until Ctrl-C (or SIGTERM), which stops it and
    everything it started. A ``--data`` folder keeps the data between runs; by default it is a temporary one.

    Exit 0 once stopped, 69 when the server cannot start (what it said is printed), 64 for bad arguments."""
    p = _Parser(prog="labkit db", description=COMMANDS["db"])
    p.add_argument("--data", default=None, metavar="DIR", help="keep the server's files here (default: a temporary "
                   "folder, deleted when it stops)")  # fmt: skip
    p.add_argument("--standby", action="store_true", help="also a streaming standby of it (pg_basebackup -R), to "
                   "watch replication lag while a backfill runs")  # fmt: skip
    args = p.parse_args(argv)
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with contextlib.ExitStack() as stack:
            url = stack.enter_context(embedded_postgres(args.data))
            print(f"PostgreSQL is running: {url}")
            print(f"  SQLAlchemy / Alembic: {url.replace('postgresql://', 'postgresql+psycopg://', 1)}")
            host = urlsplit(url).query.partition("host=")[2].split("&")[0]
            print(f"  Django: DATABASES['default'] = {{'ENGINE': 'django.db.backends.postgresql', 'NAME': "
                  f"'postgres', 'USER': 'postgres', 'HOST': '{host}'}}")  # fmt: skip
            if args.standby:
                print(f"  its streaming standby (read-only): {stack.enter_context(streaming_standby(url))}")
            kept = f"its files stay in {args.data}" if args.data else "its files are deleted"
            print(f"Ctrl-C stops it ({kept}).", flush=True)
            stop.wait()
            print("labkit db: stopping", flush=True)
    except DatabaseUnavailableError as exc:
        print(f"labkit: error: {exc}", file=sys.stderr)
        return 69
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    print("labkit db: stopped")
    return 0


def convert_main(argv: Sequence[str]) -> int:
    """``labkit convert MIGRATION.sql --db URL [-o PLAN.json]``: the plain SQL migration as labkit plans.

    Exit 0 when every statement became a plan (written with ``-o``), 3 when one is asked for or refused (what did
    convert is still written), 64 for bad arguments or SQL PostgreSQL's parser refuses."""
    p = _Parser(prog="labkit convert", description=COMMANDS["convert"])
    p.add_argument("migration", nargs="?", help="the SQL file (the migration you would have run)")
    p.add_argument("--alembic", nargs=2, metavar=("PROJECT", "REVISION"), help="instead of a file: an Alembic "
                   "revision, its SQL from Alembic's offline mode (PROJECT: the folder of alembic.ini)")  # fmt: skip
    p.add_argument("--django", nargs=3, metavar=("MANAGE_PY", "APP", "MIGRATION"), help="instead of a file: a Django "
                   "migration, its SQL from the project's own manage.py sqlmigrate (run labkit from the project's "
                   "environment)")  # fmt: skip
    p.add_argument("--db", required=True, help="the PostgreSQL or SQLite it is for (its catalog says what each "
                   "table has)")  # fmt: skip
    p.add_argument("-o", "--out", default=None, metavar="PLAN.json", help="write the plan there (what has to wait "
                   "for it: PLAN.rest.sql, to convert once it has run)")  # fmt: skip
    p.add_argument("--fill", action="append", default=[], metavar="COLUMN=SQL",
                   help="the value the NULLs of COLUMN get before its SET NOT NULL (an SQL expression over the row; "
                   "repeat for several)")  # fmt: skip
    p.add_argument("--dedupe", action="append", default=[], metavar="COLUMN=SQL",
                   help="the value each duplicate in COLUMN gets before its UNIQUE constraint (an SQL expression over "
                   "the row, e.g. email=\"email || '+dup' || id\"; repeat for several)")  # fmt: skip
    p.add_argument("--back", action="append", default=[], metavar="COLUMN=SQL",
                   help="a type change's way back from its USING, an SQL expression over the row (the copy's name in "
                   "it, as asked): the new version writes only the new type, a rollback keeps its writes through it")
    p.add_argument("--copy-as", action="append", default=[], metavar="COLUMN=NEW",
                   help="instead of keeping COLUMN's name, a type change copies into NEW, which the app moves to")
    p.add_argument("--in-catalog", action="append", default=[], metavar="COLUMN",
                   help="a type change PostgreSQL makes in the catalog alone (varchar(50) -> text, a wider varchar or "
                   "numeric): run it as written, instantly, instead of a copy (an app's prepared statements returning "
                   "the column then fail once each)")  # fmt: skip
    p.add_argument("--explain", action="store_true", help="also squawk's finding on each statement as written")
    args = p.parse_args(argv)
    try:
        fill, dedupe = _column_sql(args.fill, "--fill"), _column_sql(args.dedupe, "--dedupe")
        copy_as = {column: new.text for column, new in _column_sql(args.copy_as, "--copy-as").items()}
        if [args.migration, args.alembic, args.django].count(None) != 2:
            raise InvalidArgumentError("give the SQL file, --alembic PROJECT REVISION or --django MANAGE_PY APP "
                                       "MIGRATION (one of the three)")  # fmt: skip
        if args.alembic:
            sql = alembic_sql(*args.alembic)
        elif args.django:
            sql = django_sql(*args.django)
        else:
            with open(args.migration, encoding="utf-8") as f:
                sql = f.read()
        with connect(args.db, existing=True) as db:
            conversions = convert_sql(sql, db, fill=fill, dedupe=dedupe, copy_as=copy_as,
                                      back=_column_sql(args.back, "--back"), in_catalog=args.in_catalog)
            for c in conversions:
                print(c)
                if args.explain and db.dialect.name != "postgresql":
                    print("  squawk on it as written: squawk lints PostgreSQL's migrations only")
                elif args.explain:
                    print(f"  squawk on it as written: {', '.join(c.squawk_rules()) or 'nothing'}")
                print()
            first, rest = first_plan(conversions)
            if first is not None:  # its versions numbered after those an earlier plan left on the table
                first = continue_versions(first, db.table(first.table))
    except (LabkitError, ValueError, OSError) as exc:
        print(f"labkit: error: {exc}", file=sys.stderr)
        return EX_USAGE
    written = [c for c in conversions if c.written]
    if args.out and written:  # new tables and what goes on them: as written, first, each lock brief
        before = args.out.removesuffix(".json") + ".before.sql"
        with open(before, "w", encoding="utf-8") as f:
            f.write("-- run as written, before the plan (new tables: nothing uses them yet)\n"
                    "SET lock_timeout = '2s';\n" + as_sql(written))  # fmt: skip
        print(f"wrote {before}: the {len(written)} statement(s) to run as written first (psql -v ON_ERROR_STOP=1 "
              f"-f {shlex.quote(before)}; a lock timeout: run it again)")  # fmt: skip
    if args.out and first is not None:
        save_plan(first, args.out)
        print(f"wrote {args.out}: {first.name} ({len(first.steps)} steps); run it: labkit start "
              f"{shlex.quote(args.out)} --db URL")  # fmt: skip
        if rest:  # each was read against the catalog as it is now: after the first plan, convert them again
            later = args.out.removesuffix(".json") + ".rest.sql"
            with open(later, "w", encoding="utf-8") as f:
                f.write(as_sql(rest))
            print(f"wrote {later}: the {len(rest)} statement(s) after it, to convert once it has completed (each "
                  f"reads the catalog the plan before it leaves): labkit convert {shlex.quote(later)} "
                  "--db URL")  # fmt: skip
    left = [c for c in conversions if c.plan is None and not c.noted and not c.written]
    if left:
        print(f"{len(left)} statement(s) not converted (asked for or refused above): nothing of theirs is in a plan",
              file=sys.stderr)  # fmt: skip
        return 3
    return 0


def _column_sql(items: list[str], option: str) -> dict[str, SQL]:
    """``COLUMN=SQL`` options as ``{column: SQL(...)}``: each an SQL expression over the row, as --help says."""
    out = {}
    for item in items:
        column, sep, value = item.partition("=")
        if not sep or not column.strip() or not value.strip():
            raise InvalidArgumentError(f"{option} takes COLUMN=SQL, got {item!r}")
        out[column.strip()] = SQL(value.strip())
    return out


def export_main(argv: Sequence[str]) -> int:
    """``labkit export alembic PLAN --db URL --dir VERSIONS``: the plan as Alembic revisions, one per run from a
    terminal (start, then each complete up to the next deploy stop)."""

    p = _Parser(prog="labkit export", description=COMMANDS["export"])
    p.add_argument("tool", choices=["alembic"],
                   help="the migration tool (alembic: start, then a revision per deploy stop)")  # fmt: skip
    p.add_argument("plan", help="the plan file (JSON)")
    p.add_argument("--db", required=True, help="the database the plan is for (the SQL depends on its catalog)")
    p.add_argument("--dir", required=True, help="the versions/ folder of the Alembic project")
    p.add_argument("--down-revision", default=None,
                   help="the revision the first one follows (default: the project head, read by Alembic)")  # fmt: skip
    p.add_argument("--replaces", default=None, metavar="REVISION",
                   help="the naive revision the plan was converted from (labkit convert --alembic): it leaves the "
                   "chain (its file renamed .replaced-by-labkit) and the exported revisions follow what it followed")
    p.add_argument("--wire-env", action="store_true", help="also give both context.configure( calls of the "
                   "project's env.py labkit's include_object (alembic check then leaves labkit's objects out)")
    args = p.parse_args(argv)
    try:
        if args.replaces and args.down_revision:
            raise InvalidArgumentError("--replaces takes the naive revision's place: give it or --down-revision")
        plan = load_plan(args.plan)
        if args.wire_env:  # first: a refusal here leaves the project as it was
            env_py = Path(args.dir).resolve().parent / "env.py"
            wired = wire_env(env_py)
            print(f"{env_py}: " + ("include_object wired into each context.configure( call" if wired else
                                   "labkit's include_object is wired already"))  # fmt: skip
        with connect(args.db, existing=True) as db:
            paths = write_alembic(plan, db.table(plan.table), args.dir, down_revision=args.down_revision,
                                  replaces=args.replaces)  # fmt: skip
    except (LabkitError, ValueError, OSError) as exc:
        print(f"labkit: error: {exc}", file=sys.stderr)
        return EX_USAGE
    if args.replaces:
        print(f"revision {args.replaces} left the chain (its file renamed .replaced-by-labkit, which Alembic does not "
              f"read): the revisions below take its place; a database already at {args.replaces} ran it as written")
    for path in paths:
        print(path)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``labkit`` / ``python -m labkit``: run a demo migration, or dispatch to ``sql``, ``lint``, ``export`` and the
    lifecycle commands (``start``, ``complete``, ``rollback``, ``status``, ``retire``, ``verify``); return the exit
    status. A reader that stops early (``labkit status | head``) ends the output quietly, as a Unix tool does.

    WHY: the lab's ideas must also work where there is no notebook: a terminal, a CI job, a deploy script. So the
    command prints the plan, the safety findings, the history and the rows, and its exit status says how the run
    ended (0 completed, 1 rolled back, 2 rollback failed, 64 refused), which a script can test.
    """
    try:
        code = _main(argv)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the flush at exit does not fail again
        return 128 + 13  # as a process killed by SIGPIPE: the shell's convention


def _main(argv: Sequence[str] | None = None) -> int:
    """The command itself (``main`` adds the quiet end on a closed pipe)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(OVERVIEW, end="", file=sys.stdout if argv else sys.stderr)
        return 0 if argv else EX_USAGE
    if not argv[0].startswith("-") and argv[0] not in COMMANDS:
        print(f"labkit: error: unknown command {argv[0]!r}; the commands: {', '.join(COMMANDS)} (labkit --help)",
              file=sys.stderr)  # fmt: skip
        return EX_USAGE
    if argv[0] in ("sql", "lint", "export", "convert", "db"):
        return {"sql": sql_main, "lint": lint_main, "export": export_main, "convert": convert_main,
                "db": db_main}[argv[0]](argv[1:])  # fmt: skip
    if argv[:1] and argv[0] in lifecycle.COMMANDS:  # a plan file against a real database: start, complete ...
        return lifecycle.main(argv[0], argv[1:])
    args = _parser().parse_args(argv)
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    try:
        if args.rows < 0:
            raise InvalidArgumentError(f"--rows must be >= 0, got {args.rows}")
        table = make_users(args.rows, seed=args.seed)
        plan = _build(args.migration, table, args.batch_size)
        MigrationRunner(table, fail_at=args.fail_at).admit(plan)  # refuse a bad --fail-at before printing
        before = table.snapshot()
        print(plan)
        print()
        findings = validate_migration_safety(plan, table)
        print(f"Safety checks: {len(findings)} finding(s)")
        for f in findings:
            print("  " + str(f).replace("\n", "\n  "))
        print()
        print(f"Table {table.name!r} before ({table.row_count} rows):")
        _print_rows(table, args.show_rows)
        print()
        if args.traffic:
            bar = TerminalProgress()  # drawn on stderr when it is a terminal, silent otherwise
            report = simulate_traffic(table, plan, seed=args.seed, fail_at=args.fail_at, observers=[bar])
            result = report.result
            assert report.runner is not None
            runner = report.runner
        else:
            report = None
            runner = MigrationRunner(table, fail_at=args.fail_at, observers=[TerminalProgress()])
            result = runner.execute_plan(plan)
    except (LabkitError, ValueError) as exc:
        print(f"labkit: error: {exc}", file=sys.stderr)
        return EX_USAGE
    print("History:")
    for e in result.history:
        print("  " + e.line())
    print()
    print("Progress by step:")
    for s in plan.steps:
        print(f"  {s.name:<24} [{s.phase:<8}] {runner.progress_pct(s):5.1f}%")
    print(f"  {'plan':<24} {'':<10} {runner.progress_pct():5.1f}%  complete: {runner.is_complete()}")
    print()
    print(f"Table {table.name!r} after ({table.row_count} rows):")
    _print_rows(table, args.show_rows)
    print()
    if report is not None:
        print(f"Traffic: {report.summary()}")
        if report.failed_by_version:
            print(
                "  failed requests by app version: "
                + ", ".join(f"{k}={v}" for k, v in report.failed_by_version.items())
            )
    elif result.status == "rolled_back":
        same = table.snapshot() == before
        print(f"Table equals its starting snapshot: {same}")
    print(f"Result: {result.summary()}")
    return EXIT[result.status]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
