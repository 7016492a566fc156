"""unbatched-backfill (strong_migrations: backfilling data in the same transaction; squawk has none).

Problem: one big ``UPDATE`` holds row locks on the whole table (SQLite: the write lock) until it ends:
app writes stall for its whole duration, and a failure throws all the work away.
Solution: backfill in batches by primary-key range, each its own short transaction, with a size well below
the row count (1,000-10,000 rows keeps the stall to a few milliseconds).
"""

from __future__ import annotations

from typing import Any

from ..backends import backend_for
from ..steps import Backfill
from .finding import Finding
from .walk import StepState

RULE = "unbatched-backfill"


def check(states: list[StepState], table: Any = None) -> list[Finding]:
    rows = backend_for(table).row_count() if table is not None else None
    out = []
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
        out.append(
            Finding(
                RULE,
                "warning",
                s.name,
                f"The backfill of {s.target!r} {why}: it locks every row until it ends and stalls app writes.",
                "Use a batch_size well below the row count (1,000-10,000), one short transaction per batch.",
            )
        )
    return out
