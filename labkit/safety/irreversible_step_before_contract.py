"""irreversible-step-before-contract (pgroll and reshape keep every destructive change for "complete").

Problem: a step that cannot be undone (a drop) placed before the end of the plan makes every later failure
unrecoverable: the rollback stops at it and leaves the table half migrated.
Solution: keep irreversible steps in the contract phase, after every step that could still fail and need
a rollback.
"""

from __future__ import annotations

from .finding import Finding
from .walk import StepState

RULE = "irreversible-step-before-contract"


def check(states: list[StepState], table: object = None) -> list[Finding]:
    out = []
    for st in states:
        s = st.step
        if s.reversible:
            continue
        later = [x.step for x in states[st.index + 1 :] if x.step.phase != "contract"]
        if s.phase != "contract" or later:
            after = f" (followed by {', '.join(x.name for x in later)})" if later else ""
            out.append(
                Finding(
                    RULE,
                    "error",
                    s.name,
                    f"Step {s.name!r} cannot be undone, yet it runs before the contract phase{after}, "
                    "so a later failure cannot be rolled back.",
                    "Move irreversible steps to the end of the plan, in the contract phase.",
                )
            )
    return out
