"""table-without-key: a backfill or a dual write on a table with no primary key has no way to name its rows."""

from __future__ import annotations

from collections.abc import Iterator

from ..backends.base import EngineFacts
from .finding import Finding
from .rule import Rule
from .walk import StepState


def _check(states: list[StepState], facts: EngineFacts | None) -> Iterator[Finding]:
    if facts is None or facts.catalog is None or facts.catalog.key:
        return
    for st in states:
        if st.step.batched or st.step.kind == "start_dual_write":
            yield RULE.finding(
                st.step.name,
                f"{facts.table!r} has no primary key, so {st.step.name} cannot name the rows it writes.",
                "Add a primary key (or a UNIQUE NOT NULL column made the key) in its own migration first.",
            )
            return


RULE = Rule(
    id="table-without-key",
    severity="error",
    echoes="gh-ost and pt-online-schema-change refuse a table without a PRIMARY KEY or a UNIQUE NOT NULL key",
    problem="batches are ranges of the primary key, and a dual-write trigger finds its row by key: a table with "
    "no key has neither, so the backfill could not resume and could miss or repeat rows.",
    solution="give the table a primary key first (its own migration); any type and any number of columns will do.",
    check=_check,
    engines=frozenset({"sqlite", "postgresql"}),
    needs_facts=True,
    blocks=True,
)
