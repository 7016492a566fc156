"""``validate_migration_safety``: every finding for a plan, labkit's rules and squawk's reading of its SQL."""

from __future__ import annotations

from .backends.db import DbTable
from .plan import MigrationPlan
from .safety import Finding, has_sql, labkit_findings, squawk
from .table import TableLike


def validate_migration_safety(plan: MigrationPlan, table: TableLike | None = None) -> list[Finding]:
    """Every finding for ``plan``, in step order; empty for a safe plan.

    With ``table`` the checks also know the engine, its row count (for batch sizes) and its columns. On a
    PostgreSQL table squawk also reads the plan's SQL (``labkit.safety.squawk``): its findings come with
    ``source="squawk"``, except those the plan answers by design (``squawk.review`` lists them with the reason).

    WHY: the mistakes that cause downtime are visible in the plan before it runs (a backfill with no dual write,
    a column dropped while a live version still reads it, an unbatched backfill, a rename in place), and a
    finding costs nothing while an outage costs users. Each rule is one function with an id, a severity and a
    help line (squawk's shape); squawk itself reads the SQL, which labkit's rules do not duplicate. It returns
    findings rather than raising, so a notebook can show all of them; the runner refuses only the blocking ones.
    """
    findings, engine = labkit_findings(plan, table)
    # squawk reads the plan's SQL, which a plan that is refused, or has a step that does not fit, does not have
    if engine == "postgresql" and has_sql(findings):
        assert isinstance(table, DbTable)
        findings += [r.finding for r in squawk.review(plan, table, findings) if r.expected is None]
    order = {s.name: i for i, s in enumerate(plan.steps)}
    return sorted(findings, key=lambda f: (order.get(f.step or "", -1), f.source != "labkit", f.rule))


__all__ = ["validate_migration_safety"]
