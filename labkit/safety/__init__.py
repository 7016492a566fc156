"""Safety checks: one rule per module, each a function from the walked plan to findings.

Rule ids echo squawk and strong_migrations where the idea is the same; each module's docstring gives the
Problem and the Solution.
"""

from __future__ import annotations

from typing import Any

from ..plan import MigrationPlan
from . import (
    add_required_column_without_default,
    app_uses_missing_column,
    backfill_without_dual_write,
    drop_column_still_read,
    engine_rules,
    irreversible_step_before_contract,
    rename_in_place,
    step_does_not_fit,
    switch_before_backfill,
    unbatched_backfill,
)
from .finding import Finding, Severity
from .walk import walk

_MODULES = (
    step_does_not_fit,
    rename_in_place,
    drop_column_still_read,
    backfill_without_dual_write,
    switch_before_backfill,
    unbatched_backfill,
    add_required_column_without_default,
    irreversible_step_before_contract,
    app_uses_missing_column,
    engine_rules,
)
RULES: dict[str, str] = {m.RULE: (m.__doc__ or "").strip() for m in _MODULES if m is not engine_rules}
RULES.update({rule: (engine_rules.__doc__ or "").strip() for rule in engine_rules.RULES})


def validate_migration_safety(plan: MigrationPlan, table: Any = None) -> list[Finding]:
    """Every finding for ``plan``, in step order; empty for a safe plan.

    With ``table`` the checks also know its row count (for batch sizes) and its columns.
    """
    if not isinstance(plan, MigrationPlan):
        raise TypeError(f"validate_migration_safety takes a MigrationPlan, got {type(plan).__name__}")
    states = walk(plan, table)
    order = {s.name: i for i, s in enumerate(plan.steps)}
    findings = [f for m in _MODULES for f in m.check(states, table)]
    return sorted(findings, key=lambda f: (order.get(f.step, -1), f.rule))


__all__ = ["RULES", "Finding", "Severity", "validate_migration_safety"]
