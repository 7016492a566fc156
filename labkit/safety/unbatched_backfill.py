"""unbatched-backfill: a backfill in one batch, one long transaction."""

from __future__ import annotations

from collections.abc import Iterator

from ..backends.base import EngineFacts
from ..chunking import AUTO_START_ROWS
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
        timed = s.chunk_ms is not None and s.batch_size is not None and s.batch_size <= AUTO_START_ROWS
        if s.batch_size is None:
            why = "runs as one statement over the whole table"
        elif rows and not timed and s.batch_size * 2 >= rows:  # half the rows or more: one batch, or two
            batches = -(-rows // s.batch_size)
            why = (f"has batch_size {s.batch_size:,} for {rows:,} rows, so it runs as "
                   f"{'one batch' if batches == 1 else f'{batches} batches'}")  # fmt: skip
        else:
            continue
        yield RULE.finding(
            s.name,
            f"The backfill of {s.target!r} {why}: it locks every row until it ends and stalls app writes.",
            f"Use {_advice(rows, facts.engine if facts is not None else None)}: one short transaction per batch.",
        )


def _advice(rows: int | None, engine: str | None) -> str:
    """A size that this rule accepts for this table: a tenth of its rows, at most 10,000, or (on a database)
    batches sized by time."""
    auto = "" if engine == "memory" else 'batch_size="auto" (on a database: each batch sized to take about 200 ms), or '
    if not rows:
        return f"{auto}a batch_size well below the row count (1,000-10,000 on a large table)"
    size = max(1, min(10_000, rows // 10))
    return f"{auto}a batch_size of about {size:,} here (a tenth of the {rows:,} rows, at most 10,000)"


RULE = Rule(
    id="unbatched-backfill",
    severity="warning",
    echoes="strong_migrations: backfilling data in the same transaction; squawk has none",
    problem="one big ``UPDATE`` holds row locks on the whole table (SQLite: the write lock) until it ends: app "
    "writes stall for its whole duration, and a failure throws all the work away.",
    solution="backfill in batches by primary-key range, each its own short transaction: sized by time "
    '(batch_size="auto" on a database) or well below the row count (a batch of half the rows or more is flagged).',
    check=_check,
)
