"""Self-checks for the notebooks' exercises: each says clearly whether the learner's answer works."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .data import make_products, make_users, split_name
from .errors import LabkitError
from .faults import fault_matrix
from .plan import MigrationPlan
from .runner import MigrationRunner
from .safety import validate_migration_safety
from .table import Table, TableSnapshot
from .traffic import simulate_traffic

PlanBuilder = Callable[[Table], MigrationPlan]

# Text marks, not emoji (white heavy check mark, cross mark): without an emoji font those are empty boxes.
PASS_MARK = "✓"
FAIL_MARK = "✗"


@dataclass
class CheckResult:
    """The verdict of a self-check, with one line per thing checked."""

    exercise: str
    passed: bool
    lines: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        verdict = f"{PASS_MARK} {self.exercise}: your answer works." if self.passed else None
        head = verdict or f"{FAIL_MARK} {self.exercise}: not yet."
        return "\n".join([head, *(f"   {line}" for line in self.lines)])

    def __bool__(self) -> bool:
        return self.passed


def check_plan(
    exercise: str,
    build: PlanBuilder | None,
    make_table: Callable[[], Table],
    *,
    final_columns: list[str],
    expected: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> CheckResult:
    """Run the learner's plan builder through every test a reviewer would: safety, traffic, failures, values.

    Args:
        final_columns: the data columns the table must have at the end.
        expected: from an original row, the values the new columns must hold at the end.
    """
    r = CheckResult(exercise, False)
    if build is None or not callable(build):
        r.lines.append("Write the function first (it takes the table and returns a MigrationPlan).")
        return r
    try:
        table = make_table()
        originals = {row["id"]: row for row in table.rows()}
        plan = build(table)
    except LabkitError as exc:
        r.lines.append(f"Building the plan raised {type(exc).__name__}: {exc}")
        return r
    if plan is None:
        r.lines.append("Your function returned None: write the plan, then run this cell again.")
        return r
    if not isinstance(plan, MigrationPlan):
        r.lines.append(f"The function must return a MigrationPlan, it returned {type(plan).__name__}.")
        return r
    errors = [f for f in validate_migration_safety(plan, table) if f.severity == "error"]
    if errors:
        r.lines += ["The safety checks found errors:", *(f"  {f.rule} at {f.step}: {f.message}" for f in errors)]
        return r
    r.lines.append("passes the safety checks")
    if expected is not None:
        result = MigrationRunner(table).execute_plan(plan)
        if not result.ok:
            r.lines.append(f"Without any fault the plan did not complete: {result.summary()}")
            return r
        if table.data_columns != final_columns:
            r.lines.append(f"At the end the columns are {table.data_columns}; expected {final_columns}.")
            return r
        wrong = [rid for rid, row in originals.items() if any(table.get(rid)[c] != v for c, v in expected(row).items())]
        if wrong:
            sample = table.get(wrong[0])
            r.lines.append(f"{len(wrong)} row(s) hold wrong values, e.g. row {wrong[0]}: {sample}")
            return r
        r.lines.append(f"every row ends right ({len(originals)} rows)")
    t = make_table()
    report = simulate_traffic(t, build(t), seed=0)
    if report.result.status != "completed" or report.failed_requests or report.lost_writes or report.stale_reads:
        r.lines.append(f"Under traffic: {report.summary()}.")
        return r
    r.lines.append(f"under traffic: {report.requests} requests, 0 failed, 0 lost writes")
    points = fault_matrix(build(make_table()), make_table().row_count)
    for point in points:
        t = make_table()
        before: TableSnapshot = t.snapshot()
        result = MigrationRunner(t, fail_at=point).execute_plan(build(t))
        if result.status != "rolled_back" or t.snapshot() != before:
            r.lines.append(f"A failure at {point!r} is not rolled back exactly ({result.status}).")
            return r
    r.lines.append(f"survives a failure at each of {len(points)} points (every step; first, middle, last batch)")
    r.passed = True
    return r


def check_split_name(build: PlanBuilder | None) -> CheckResult:
    """Capstone 1: split ``users.name`` into ``first_name`` and ``last_name``, then drop ``name``."""

    def expected(row: dict[str, Any]) -> dict[str, Any]:
        first, last = split_name(row)
        return {"first_name": first, "last_name": last}

    return check_plan(
        "split name into first_name / last_name",
        build,
        lambda: make_users(30, seed=1),
        final_columns=["email", "first_name", "last_name"],
        expected=expected,
    )


def check_price_to_decimal(build: PlanBuilder | None) -> CheckResult:
    """Capstone 2: replace the integer ``price_cents`` with a ``price`` Decimal in currency units."""
    return check_plan(
        "price_cents -> price (Decimal)",
        build,
        lambda: make_products(30, seed=2),
        final_columns=["title", "price"],
        expected=lambda row: {"price": Decimal(row["price_cents"]) / 100},
    )


def check_email_domain_by_hand(build: PlanBuilder | None) -> CheckResult:
    """Notebook 02: build the add-column plan for ``email_domain`` from steps, by hand."""
    from .data import email_domain

    return check_plan(
        "email_domain, by hand",
        build,
        lambda: make_users(30, seed=3),
        final_columns=["name", "email", "email_domain"],
        expected=lambda row: {"email_domain": email_domain(row)},
    )


def check_rename_in_order(build: PlanBuilder | None) -> CheckResult:
    """Notebook 03: rename ``email`` to ``contact_email`` with steps in the right order."""
    return check_plan(
        "rename email -> contact_email",
        build,
        lambda: make_users(30, seed=4),
        final_columns=["name", "contact_email"],
        expected=lambda row: {"contact_email": row["email"]},
    )


def check_table_restored(table: Table, before: TableSnapshot) -> CheckResult:
    """Notebook 04: after a failed rollback, is the table exactly as it was?"""
    r = CheckResult("clean up after rollback_failed", table.snapshot() == before)
    if r.passed:
        r.lines.append("schema, column order, row ids and values all equal the starting snapshot")
    else:
        now = table.column_names
        was = list(before.column_names)
        if now != was:
            r.lines.append(f"columns are {now}; they were {was}")
        else:
            r.lines.append("the columns match, but some values or row ids differ")
    return r


def check_fixed_plan(build: PlanBuilder | None) -> CheckResult:
    """Notebook 05: fix the broken rename so that it has no finding at all and still renames."""
    r = check_plan(
        "fix the broken plan",
        build,
        lambda: make_users(30, seed=5),
        final_columns=["email", "full_name"],
        expected=lambda row: {"full_name": row["name"]},
    )
    if r.passed and build is not None:
        t = make_users(30, seed=5)
        warnings = validate_migration_safety(build(t), t)
        if warnings:
            r.passed = False
            r.lines.append("Warnings left: " + ", ".join(f.rule for f in warnings))
    return r


def make_users_with_legacy(rows: int = 30, *, seed: int = 6) -> Table:
    """``users`` with an unused ``legacy_flag`` column, for the capstone's third exercise."""
    t = make_users(rows, seed=seed)
    t.add_column("legacy_flag", default=False)
    return t


def check_survives_any_failure(build: PlanBuilder | None) -> CheckResult:
    """Capstone 3: add ``email_domain`` and drop ``legacy_flag`` so that any failure rolls back exactly."""
    from .data import email_domain

    return check_plan(
        "add email_domain and drop legacy_flag, surviving any failure",
        build,
        make_users_with_legacy,
        final_columns=["name", "email", "email_domain"],
        expected=lambda row: {"email_domain": email_domain(row)},
    )
