"""step-does-not-fit: steps reordered or removed so that one cannot run on the table."""

from __future__ import annotations

from collections.abc import Iterator

from ..backends.base import EngineFacts
from .finding import Finding
from .rule import Rule
from .walk import StepState


def _check(states: list[StepState], facts: EngineFacts | None) -> Iterator[Finding]:
    for st in states:
        if st.misfit is not None:
            yield RULE.finding(
                st.step.name,
                f"Step {st.step.name!r} cannot run on {st.step.table!r}: {st.misfit.reason}.",
                "Restore the expand/migrate/contract order: add a column before filling it, "
                "fill it before reading it, drop the old one last.",
            )
            return  # the columns are unknown after a misfit: the first one is the one to fix


RULE = Rule(
    id="step-does-not-fit",
    severity="error",
    echoes="squawk reports a parse error the same way: first, before any other finding matters",
    problem="a step that names a column which, by then, is missing (or adds one that already exists) makes the "
    "runner refuse the whole plan; usually steps were reordered or one was deleted.",
    solution="keep the expand/migrate/contract order: add before you fill, fill before you read, drop last.",
    check=_check,
    needs_facts=True,
)
