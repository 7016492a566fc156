"""Safety checks: one rule per module, each a ``Rule`` with its id, severity, engines, Problem and Solution.

Rule ids echo squawk and strong_migrations where the idea is the same. The plan is walked once
(``walk.py``) and the engine's facts are read once (``Backend.facts``); every rule reads only those. ``preflight`` is
the gate the runner (and so ``plan_sql``, the CLI) passes a plan through; ``labkit.validate.validate_migration_safety``
adds squawk's reading of the plan's SQL on top.
"""

from __future__ import annotations

from ..backends.engine import backend_for
from ..plan import MigrationPlan
from ..table import TableLike
from . import (
    add_required_column_without_default,
    another_plan_cut_off,
    app_uses_missing_column,
    backfill_fires_sqlite_triggers,
    backfill_fires_user_triggers,
    backfill_without_dual_write,
    copy_loses_column_property,
    drop_column_blocked,
    drop_column_rewrites_table,
    drop_column_still_read,
    dual_write_misses_children,
    irreversible_step_before_contract,
    missing_privilege,
    one_way_dual_write,
    rename_in_place,
    require_lock_timeout,
    set_not_null_scans,
    step_does_not_fit,
    switch_before_backfill,
    table_without_key,
    unbatched_backfill,
    version_view_taken,
)
from .finding import Finding, Severity
from .rule import Rule
from .walk import walk

_ORDER = (
    step_does_not_fit,
    missing_privilege,
    table_without_key,
    dual_write_misses_children,
    another_plan_cut_off,
    version_view_taken,
    copy_loses_column_property,
    drop_column_blocked,
    rename_in_place,
    drop_column_still_read,
    backfill_without_dual_write,
    one_way_dual_write,
    switch_before_backfill,
    unbatched_backfill,
    set_not_null_scans,
    add_required_column_without_default,
    irreversible_step_before_contract,
    app_uses_missing_column,
    require_lock_timeout,
    drop_column_rewrites_table,
    backfill_fires_user_triggers,
    backfill_fires_sqlite_triggers,
)
RULES: dict[str, Rule] = {m.RULE.id: m.RULE for m in _ORDER}


def labkit_findings(plan: MigrationPlan, table: TableLike | None) -> tuple[list[Finding], str | None]:
    """labkit's own rules over ``plan`` (on ``table``'s engine facts, when given), and the engine's name."""
    if not isinstance(plan, MigrationPlan):
        raise TypeError(f"validate_migration_safety takes a MigrationPlan, got {type(plan).__name__}")
    facts = backend_for(table).facts(plan) if table is not None else None
    states = walk(plan, facts.columns if facts is not None else None)
    return [f for rule in RULES.values() for f in rule.run(states, facts)], facts.engine if facts else None


def has_sql(findings: list[Finding]) -> bool:
    """Does a plan with these findings of labkit's have SQL for squawk to read? Not one the runner refuses, nor one
    with a step that does not fit the table."""
    return not any(RULES[f.rule].blocks or f.rule == "step-does-not-fit" for f in findings)


def preflight(plan: MigrationPlan, table: TableLike) -> list[Finding]:
    """The findings that make the runner refuse ``plan`` on ``table`` before any change (labkit's rules that
    block: squawk's findings never stop a run)."""
    return [f for f in labkit_findings(plan, table)[0] if RULES[f.rule].blocks]


__all__ = ["RULES", "Finding", "Rule", "Severity", "has_sql", "labkit_findings", "preflight"]
