"""add-required-column-without-default (squawk: adding-required-field; strong_migrations: NOT NULL).

Problem: a NOT NULL column with no default fails on a table that has rows (and every insert from the app
version that does not know the column fails too).
Solution: add it nullable (or with a constant default), backfill, and add the constraint afterwards.
"""

from __future__ import annotations

from ..steps import AddColumn
from .finding import Finding
from .walk import StepState

RULE = "add-required-column-without-default"


def check(states: list[StepState], table: object = None) -> list[Finding]:
    return [
        Finding(
            RULE,
            "error",
            st.step.name,
            f"Adding NOT NULL column {st.step.column!r} without a default fails on existing rows and breaks "
            "inserts from app versions that do not set it.",
            "Add the column nullable or with a constant default, backfill it, then enforce NOT NULL.",
        )
        for st in states
        if isinstance(st.step, AddColumn) and st.step.not_null and st.step.default is None
    ]
