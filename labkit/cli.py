"""``python -m labkit`` / ``labkit``: run a migration on a generated table and print what happens.

Exit status: 0 completed, 1 rolled back, 2 rollback failed, 64 bad arguments (one line on stderr).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

from .builders import build_add_column_migration, build_naive_rename_migration, build_rename_column_migration
from .data import email_domain, make_users
from .errors import LabkitError
from .progress import TerminalProgress
from .runner import MigrationRunner
from .safety import validate_migration_safety
from .table import TableLike
from .traffic import simulate_traffic

EXIT = {"completed": 0, "rolled_back": 1, "rollback_failed": 2}
EX_USAGE = 64


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not argparse's usage block
        self.exit(EX_USAGE, f"labkit: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="labkit", description="Run a zero-downtime migration on a generated users table.")
    p.add_argument(
        "migration",
        choices=["rename", "add-column", "naive-rename"],
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


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    try:
        if args.rows < 0:
            raise ValueError(f"--rows must be >= 0, got {args.rows}")
        table = make_users(args.rows, seed=args.seed)
        if args.migration == "rename":
            plan = build_rename_column_migration(table, "name", "full_name", batch_size=args.batch_size)
        elif args.migration == "add-column":
            plan = build_add_column_migration(
                table, "email_domain", backfill=email_domain, source="email", batch_size=args.batch_size
            )
        else:
            plan = build_naive_rename_migration(table, "name", "full_name")
        MigrationRunner(table, fail_at=args.fail_at).check(plan)  # refuse a bad --fail-at before printing
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
        else:
            report = None
            result = MigrationRunner(table, fail_at=args.fail_at, observers=[TerminalProgress()]).execute_plan(plan)
    except (LabkitError, ValueError) as exc:
        print(f"labkit: error: {exc}", file=sys.stderr)
        return EX_USAGE
    print("History:")
    for e in result.history:
        print("  " + e.line())
    print()
    print("Progress by step:")
    for s in plan.steps:
        print(f"  {s.name:<24} [{s.phase:<8}] {result.progress.get(s.name, 0.0):5.1f}%")
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
