"""Safety checks: one rule per module, each a ``Rule`` with its id, severity, engines, Problem and Solution.

Rule ids echo squawk and strong_migrations where the idea is the same. The plan is walked once
(``walk.py``) and the engine's facts are read once (``Backend.facts``); every rule reads only those.
"""

from __future__ import annotations

from ..backends import backend_for
from ..plan import MigrationPlan
from ..table import TableLike
from . import (
    add_required_column_without_default,
    adding_field_with_volatile_default,
    another_plan_cut_off,
    app_uses_missing_column,
    backfill_fires_user_triggers,
    backfill_without_dual_write,
    copy_loses_column_property,
    drop_column_blocked,
    drop_column_rewrites_table,
    drop_column_still_read,
    irreversible_step_before_contract,
    missing_privilege,
    rename_in_place,
    require_lock_timeout,
    step_does_not_fit,
    switch_before_backfill,
    table_without_key,
    unbatched_backfill,
)
from .finding import Finding, Severity
from .rule import Rule
from .walk import walk

_ORDER = (
    step_does_not_fit,
    missing_privilege,
    table_without_key,
    another_plan_cut_off,
    copy_loses_column_property,
    drop_column_blocked,
    rename_in_place,
    drop_column_still_read,
    backfill_without_dual_write,
    switch_before_backfill,
    unbatched_backfill,
    add_required_column_without_default,
    irreversible_step_before_contract,
    app_uses_missing_column,
    require_lock_timeout,
    adding_field_with_volatile_default,
    drop_column_rewrites_table,
    backfill_fires_user_triggers,
)
RULES: dict[str, Rule] = {m.RULE.id: m.RULE for m in _ORDER}


def validate_migration_safety(plan: MigrationPlan, table: TableLike | None = None) -> list[Finding]:
    """Every finding for ``plan``, in step order; empty for a safe plan.

    With ``table`` the checks also know the engine, its row count (for batch sizes) and its columns.
    """
    if not isinstance(plan, MigrationPlan):
        raise TypeError(f"validate_migration_safety takes a MigrationPlan, got {type(plan).__name__}")
    facts = backend_for(table).facts(plan) if table is not None else None
    states = walk(plan, facts.columns if facts is not None else None)
    order = {s.name: i for i, s in enumerate(plan.steps)}
    findings = [f for rule in RULES.values() for f in rule.run(states, facts)]
    return sorted(findings, key=lambda f: (order.get(f.step or "", -1), f.rule))


def preflight(plan: MigrationPlan, table: TableLike) -> list[Finding]:
    """The findings that make the runner refuse ``plan`` on ``table`` before any change (rules that block)."""
    return [f for f in validate_migration_safety(plan, table) if RULES[f.rule].blocks]


__all__ = ["RULES", "Finding", "Rule", "Severity", "preflight", "validate_migration_safety"]
