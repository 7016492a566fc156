"""adding-field-with-volatile-default (PostgreSQL): ADD COLUMN ... DEFAULT random() rewrites the table."""

from __future__ import annotations

from collections.abc import Iterator

from .._common import functions_called
from ..backends.base import EngineFacts
from .finding import Finding
from .rule import Rule
from .walk import StepState


def _check(states: list[StepState], facts: EngineFacts | None) -> Iterator[Finding]:
    if facts is None:
        return
    for st in states:
        named = {f for text in st.step.sql_texts() for f in functions_called(text)}
        volatile = sorted(named & facts.volatile_functions)
        if volatile:
            column = getattr(st.step, "column", "the column")
            yield RULE.finding(
                st.step.name,
                f"Adding {column!r} with a volatile default ({', '.join(volatile)}) rewrites the whole "
                "table under an exclusive lock.",
                "Add the column with no default (or a constant), then backfill it in batches.",
            )


RULE = Rule(
    id="adding-field-with-volatile-default",
    severity="error",
    echoes="squawk: adding-field-with-default; strong_migrations: volatile default",
    problem="ADD COLUMN with a VOLATILE default (random(), clock_timestamp(), gen_random_uuid() ...) rewrites the "
    "whole table under an exclusive lock.",
    solution="add the column without a default, set the default afterwards, and backfill in batches.",
    check=_check,
    engines=frozenset({"postgresql"}),
    needs_facts=True,
)
