"""switch-before-backfill (strong_migrations warns to backfill before a column is read or made NOT NULL).

Problem: readers switched to a new column (or the old column dropped) before the backfill has run see
empty values for every old row.
Solution: run the batched backfill to completion first, then switch reads, then contract.
"""

from __future__ import annotations

from ..steps import Backfill, DropColumn, StartDualWrite, SwitchReads
from .finding import Finding
from .walk import StepState

RULE = "switch-before-backfill"


def check(states: list[StepState], table: object = None) -> list[Finding]:
    out = []
    for st in states:
        s = st.step
        unfilled = (st.needs_backfill & st.added) - st.backfilled
        reads_unfilled: set[str] = set()
        if isinstance(s, SwitchReads) and s.new in unfilled:
            reads_unfilled.add(s.new)
        if st.app_during is not None:
            reads_unfilled |= set(st.app_during.reads) & unfilled
        if st.rolls_out is not None:  # an app rolled out by this step reads what is filled by then
            filled_now = {s.target} if isinstance(s, Backfill) else set()
            reads_unfilled |= set(st.rolls_out.reads) & (unfilled - filled_now)
        if reads_unfilled:
            cols = ", ".join(sorted(reads_unfilled))
            out.append(
                Finding(
                    RULE,
                    "error",
                    s.name,
                    f"Readers of {cols} see empty values for every old row because its backfill has not run yet.",
                    "Move the backfill before switch_reads (and before any rollout of an app that reads the column).",
                )
            )
        elif isinstance(s, DropColumn):
            feeds = {
                x.step.target
                for x in states
                if isinstance(x.step, (StartDualWrite, Backfill)) and getattr(x.step, "source", None) == s.column
            }
            if feeds & unfilled:
                out.append(
                    Finding(
                        RULE,
                        "error",
                        s.name,
                        f"Dropping {s.column!r} before it was copied into {', '.join(sorted(feeds & unfilled))} "
                        "loses every value not yet backfilled.",
                        "Backfill the new column completely, switch reads, and drop the old column last.",
                    )
                )
    return out
