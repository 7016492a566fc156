"""irreversible-step-before-contract: a step that cannot be undone, placed before the end."""

from __future__ import annotations

from collections.abc import Iterator

from ..backends.base import EngineFacts
from .finding import Finding
from .rule import Rule
from .walk import StepState


def _check(states: list[StepState], facts: EngineFacts | None) -> Iterator[Finding]:
    for st in states:
        s = st.step
        if s.reversible:
            continue
        later = [x.step for x in states[st.index + 1 :] if x.step.phase != "contract"]
        if s.phase != "contract" or later:
            after = f" (followed by {', '.join(x.name for x in later)})" if later else ""
            yield RULE.finding(
                s.name,
                f"Step {s.name!r} cannot be undone, yet it runs before the contract phase{after}, "
                "so a later failure cannot be rolled back.",
                "Move irreversible steps to the end of the plan, in the contract phase.",
            )


RULE = Rule(
    id="irreversible-step-before-contract",
    severity="error",
    echoes="pgroll and reshape keep every destructive change for 'complete'",
    problem="a step that cannot be undone (a drop) placed before the end of the plan makes every later failure "
    "unrecoverable: the rollback stops at it and leaves the table half migrated.",
    solution="keep irreversible steps in the contract phase, after every step that could still fail and need "
    "a rollback.",
    check=_check,
)
