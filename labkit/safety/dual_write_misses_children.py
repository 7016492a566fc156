"""dual-write-misses-children: a dual write on a table that other tables inherit from."""

from __future__ import annotations

from collections.abc import Iterator

from ..backends.base import EngineFacts
from .finding import Finding
from .rule import Rule
from .walk import StepState


def _check(states: list[StepState], facts: EngineFacts | None) -> Iterator[Finding]:
    if facts is None or facts.catalog is None or not facts.catalog.children:
        return
    children = ", ".join(facts.catalog.children)
    for st in states:
        if st.step.kind == "start_dual_write":
            yield RULE.finding(
                st.step.name,
                f"{facts.table!r} has inheritance children ({children}): writes to their rows, through the parent "
                "or directly, never reach the dual write's trigger on the parent, so those rows keep stale values.",
                "Migrate each child table with a plan of its own (the parent holds none of their rows), or move "
                "off INHERITS to declarative partitioning, whose partitions get the parent's row triggers.",
            )
            return


RULE = Rule(
    id="dual-write-misses-children",
    severity="error",
    echoes="pgroll has no support for inheritance either; a row trigger on a parent never fires for its children",
    problem="PostgreSQL fires a table's row triggers only for its own rows: an UPDATE through the parent that "
    "touches a child's row, or any write to the child, bypasses the dual write, and the value the app wrote is "
    "lost when the old column goes.",
    solution="migrate each inheritance child as a table of its own, or use declarative partitions, whose row "
    "triggers the server clones from the parent.",
    check=_check,
    engines=frozenset({"postgresql"}),
    needs_facts=True,
    blocks=True,
)
