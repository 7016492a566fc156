"""copy-loses-column-property: a copied column would lose what the catalog gives the old one, or the copy
could not finish (its last step, dropping the old column, would fail or take more with it)."""

from __future__ import annotations

from collections.abc import Iterator

from ..backends.base import EngineFacts
from ..copy_column import column_copy
from ..steps import AddColumn, Backfill, DropColumn
from .finding import Finding
from .rule import Rule
from .walk import StepState


def copies(states: list[StepState]) -> list[tuple[Backfill, DropColumn]]:
    """Each copy in the plan: a backfill from ``source`` into a column the plan adds, then ``source`` dropped."""
    steps = [st.step for st in states]
    added = {s.column for s in steps if isinstance(s, AddColumn)}
    found = []
    for i, s in enumerate(steps):
        if isinstance(s, Backfill) and s.source is not None and s.target in added:
            drop = next((d for d in steps[i:] if isinstance(d, DropColumn) and d.column == s.source), None)
            if drop is not None:
                found.append((s, drop))
    return found


def _check(states: list[StepState], facts: EngineFacts | None) -> Iterator[Finding]:
    if facts is None or facts.catalog is None:
        return
    steps = [st.step for st in states]
    for backfill, drop in copies(states):
        assert backfill.source is not None
        if backfill.source not in facts.catalog.column_names:
            continue  # a cut-off run already dropped it: nothing left to lose
        needed = column_copy(facts.catalog, backfill.source, backfill.target, facts.engine)
        for reason in needed.cannot:
            yield RULE.finding(drop.name, f"Copying {backfill.source!r} into {backfill.target!r}: {reason}.",
                               "Rename it through views (approach B), or change the schema first.")  # fmt: skip
        for step in needed.steps:
            if step not in steps:
                yield RULE.finding(
                    backfill.name,
                    f"{backfill.target!r} would not get what {backfill.source!r} has: {step.describe()}.",
                    "Build the plan with build_rename_column_migration(table, ...), which reads the catalog "
                    "and adds these steps.",
                )


RULE = Rule(
    id="copy-loses-column-property",
    severity="error",
    echoes="pgroll duplicates a column's constraints, indexes, default and comment before a backfill",
    problem="a rename by copy ends by dropping the old column, and with it everything the catalog attached to it: "
    "NOT NULL, DEFAULT, CHECK, foreign keys, indexes, UNIQUE, the comment. A copy without them accepts rows the "
    "table used to reject; a column another table's foreign key, a view or the primary key needs cannot be "
    "dropped at all, so the plan fails at its very last step.",
    solution="copy every property with build_rename_column_migration (it reads the catalog); where a property "
    "cannot be copied on this engine, rename through views (approach B) instead.",
    check=_check,
    engines=frozenset({"sqlite", "postgresql"}),
    needs_facts=True,
    blocks=True,
)
