"""backfill-without-dual-write: a backfill that live writes do not keep up to date."""

from __future__ import annotations

from collections.abc import Iterator

from ..backends.base import EngineFacts
from ..steps import Backfill
from .finding import Finding
from .rule import Rule
from .walk import StepState


def _check(states: list[StepState], facts: EngineFacts | None) -> Iterator[Finding]:
    for st in states:
        s = st.step
        if isinstance(s, Backfill) and s.target not in st.dual_writes:
            yield RULE.finding(
                s.name,
                f"Writes the app makes during and after the backfill of {s.target!r} never reach it, "
                "so they are lost when reads switch.",
                f"Put a start_dual_write into {s.target!r} before the backfill and stop it only after the app "
                "writes the column itself.",
            )


RULE = Rule(
    id="backfill-without-dual-write",
    severity="error",
    echoes="no squawk rule; the lost-update half of Stripe's dual-write pattern",
    problem="a backfill copies each row once. A row the app writes after its batch ran keeps a stale value in "
    "the new column, and the write is lost the moment readers switch to it.",
    solution="start a dual write (trigger) into the column before the backfill, stop it only after the app "
    "writes the new column itself.",
    check=_check,
)
