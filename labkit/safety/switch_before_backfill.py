"""switch-before-backfill: readers switched (or the old column dropped) before the backfill ran."""

from __future__ import annotations

from collections.abc import Iterator

from ..backends.base import EngineFacts
from ..steps import Backfill, DropColumn, StartDualWrite, SwitchReads
from .finding import Finding
from .rule import Rule
from .walk import StepState


def _check(states: list[StepState], facts: EngineFacts | None) -> Iterator[Finding]:
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
            yield RULE.finding(
                s.name,
                f"Readers of {cols} see empty values for every old row because its backfill has not run yet.",
                "Move the backfill before switch_reads (and before any rollout of an app that reads the column).",
            )
        elif isinstance(s, DropColumn):
            feeds = {
                x.step.target
                for x in states
                if isinstance(x.step, (StartDualWrite, Backfill)) and x.step.source == s.column
            }
            if feeds & unfilled:
                yield RULE.finding(
                    s.name,
                    f"Dropping {s.column!r} before it was copied into {', '.join(sorted(feeds & unfilled))} "
                    "loses every value not yet backfilled.",
                    "Backfill the new column completely, switch reads, and drop the old column last.",
                )


RULE = Rule(
    id="switch-before-backfill",
    severity="error",
    echoes="strong_migrations: backfill before a column is read or made NOT NULL",
    problem="readers switched to a new column (or the old column dropped) before the backfill has run see empty "
    "values for every old row.",
    solution="run the batched backfill to completion first, then switch reads, then contract.",
    check=_check,
)
