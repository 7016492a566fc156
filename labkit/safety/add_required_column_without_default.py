"""add-required-column-without-default: a NOT NULL column with no default."""

from __future__ import annotations

from collections.abc import Iterator

from ..backends.base import EngineFacts
from ..steps import AddColumn
from .finding import Finding
from .rule import Rule
from .walk import StepState


def _check(states: list[StepState], facts: EngineFacts | None) -> Iterator[Finding]:
    for st in states:
        s = st.step
        if isinstance(s, AddColumn) and s.not_null and s.default is None:
            yield RULE.finding(
                s.name,
                f"Adding NOT NULL column {s.column!r} without a default fails on existing rows and breaks "
                "inserts from app versions that do not set it.",
                "Add the column nullable or with a constant default, backfill it, then enforce NOT NULL.",
            )


RULE = Rule(
    id="add-required-column-without-default",
    severity="error",
    echoes="squawk: adding-required-field; strong_migrations: NOT NULL",
    problem="a NOT NULL column with no default fails on a table that has rows (and every insert from the app "
    "version that does not know the column fails too).",
    solution="add it nullable (or with a constant default), backfill, and add the constraint afterwards.",
    check=_check,
)
