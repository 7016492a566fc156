"""backfill-without-dual-write (no direct squawk rule; the lost-update half of Stripe's dual-write pattern).

Problem: a backfill copies each row once. A row the app writes after its batch ran keeps a stale value in
the new column, and the write is lost the moment readers switch to it.
Solution: start a dual write (trigger) into the column before the backfill, stop it only after the app
writes the new column itself.
"""

from __future__ import annotations

from ..steps import Backfill
from .finding import Finding
from .walk import StepState

RULE = "backfill-without-dual-write"


def check(states: list[StepState], table: object = None) -> list[Finding]:
    out = []
    for st in states:
        s = st.step
        if isinstance(s, Backfill) and s.target not in st.dual_writes:
            out.append(
                Finding(
                    RULE,
                    "error",
                    s.name,
                    f"Writes the app makes during and after the backfill of {s.target!r} never reach it, "
                    "so they are lost when reads switch.",
                    f"Put a start_dual_write into {s.target!r} before the backfill and stop it only after the app "
                    "writes the column itself.",
                )
            )
    return out
