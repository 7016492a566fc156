"""drop-column-blocked: the column cannot be dropped (the primary key, another table's foreign key, a view, or
on SQLite anything else in the schema that names it), so the plan would fail at its last step."""

from __future__ import annotations

from collections.abc import Iterator

from ..backends.base import EngineFacts
from ..copy_column import drop_blockers
from ..steps import DropColumn
from .copy_loses_column_property import copies
from .finding import Finding
from .rule import Rule
from .walk import StepState


def _check(states: list[StepState], facts: EngineFacts | None) -> Iterator[Finding]:
    if facts is None or facts.catalog is None:
        return
    copied = {drop.name for _, _, drop in copies(states)}  # copy-loses-column-property speaks for those
    for st in states:
        step = st.step
        if isinstance(step, DropColumn) and step.name not in copied and step.column in facts.catalog.column_names:
            for reason in drop_blockers(facts.catalog, step.column, facts.engine):
                yield RULE.finding(step.name, f"Dropping {step.column!r}: {reason}.",
                                   "Remove what depends on the column first, or keep the column.")  # fmt: skip


RULE = Rule(
    id="drop-column-blocked",
    severity="error",
    problem="a column that the primary key, another table's foreign key or a view depends on cannot be dropped "
    "(PostgreSQL fails, or with CASCADE silently drops the dependants); SQLite also refuses to drop a column "
    "that an index, a constraint or a trigger names. Found at the last step, after every rollout.",
    solution="move or drop the dependants first (their own migration), or leave the column in place.",
    check=_check,
    engines=frozenset({"sqlite", "postgresql"}),
    needs_facts=True,
    blocks=True,
)
