"""unbatched-backfill: a backfill in one batch, one long transaction."""

from __future__ import annotations

from collections.abc import Iterator

from ..backends.base import EngineFacts
from ..steps import Backfill
from .finding import Finding
from .rule import Rule
from .walk import StepState


def _check(states: list[StepState], facts: EngineFacts | None) -> Iterator[Finding]:
    rows = facts.row_count if facts is not None else None
    for st in states:
        s = st.step
        if not isinstance(s, Backfill):
            continue
        if s.batch_size is None:
            why = "runs as one statement over the whole table"
        elif rows and s.batch_size >= rows:
            why = f"has batch_size {s.batch_size} for {rows} rows, so it runs as one batch"
        else:
            continue
        yield RULE.finding(
            s.name,
            f"The backfill of {s.target!r} {why}: it locks every row until it ends and stalls app writes.",
            "Use a batch_size well below the row count (1,000-10,000), one short transaction per batch.",
        )


RULE = Rule(
    id="unbatched-backfill",
    severity="warning",
    echoes="strong_migrations: backfilling data in the same transaction; squawk has none",
    problem="one big ``UPDATE`` holds row locks on the whole table (SQLite: the write lock) until it ends: app "
    "writes stall for its whole duration, and a failure throws all the work away.",
    solution="backfill in batches by primary-key range, each its own short transaction, with a size well below "
    "the row count (1,000-10,000 rows keeps the stall to a few milliseconds).",
    check=_check,
)
