"""How big the next backfill batch is: a fixed number of rows, or sized by time (``batch_size="auto"``).

A fixed batch size is a number the user has to guess: 1,000 rows is 3 ms on one table and 300 ms on another, and
the same table changes speed with the app's load. The tools people run in production size each chunk by time
instead: pt-online-schema-change's ``--chunk-time 0.5`` resizes every chunk from a moving average of rows/s; spirit
targets 500 ms from the recent chunks. ``ChunkSizer`` does the same: each batch's rows and duration update a moving
average of the rate, and the next batch is the rows that rate fills in ``target_ms``, within bounds, growing at most
2x from one batch to the next (a cold cache makes the first batches slow) and shrinking at once when a batch ran over.
With a streaming standby, a batch is also held to a byte budget (spirit's): no bigger than the WAL a standby may fall
behind by, from the WAL each row cost so far, so one batch cannot put the standby further behind than the throttle
allows before the throttle gets a say.

Pure arithmetic on what the runner measured: no clock here, so it is tested exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_CHUNK_MS = 200.0  # a batch's target duration: app writes wait at most about this long behind one
MIN_CHUNK_MS, MAX_CHUNK_MS = 10.0, 5000.0
AUTO_START_ROWS = 1000  # the first batch of an auto-sized backfill, before any rate is known
MIN_ROWS, MAX_ROWS = 100, 200_000
GROWTH = 2.0  # at most this much bigger than the batch before
SMOOTHING = 0.5  # weight of the newest batch in the moving average of rows/s


def check_chunk_ms(value: object) -> float:
    """A batch's target duration in ms, from 10 to 5,000 (NaN, infinity, bools refused): else ``ValueError``."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and MIN_CHUNK_MS <= value <= MAX_CHUNK_MS
    if not ok:
        raise ValueError(f"chunk_ms must be a duration from {MIN_CHUNK_MS:g} to {MAX_CHUNK_MS:g} ms, got {value!r}")
    return float(value)  # type: ignore[arg-type]


@dataclass
class ChunkSizer:
    """The size of each next batch. ``target_ms`` None: always ``start`` rows (a fixed batch size)."""

    start: int
    target_ms: float | None = None
    min_rows: int = MIN_ROWS
    max_rows: int = MAX_ROWS
    byte_budget: int | None = None  # at most this many bytes of WAL a batch (a standby replays it after)
    rate: float | None = field(default=None, init=False)  # rows/s, moving average (None: nothing measured yet)
    bytes_per_row: float | None = field(default=None, init=False)  # WAL a row costs, moving average
    size: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.size = self.start

    @property
    def fixed(self) -> bool:
        return self.target_ms is None

    def next_size(self) -> int:
        if self.target_ms is None or self.byte_budget is None or not self.bytes_per_row:
            return self.size
        return max(self.min_rows, min(self.size, int(self.byte_budget / self.bytes_per_row)))

    def record_bytes(self, rows: int, wal_bytes: float) -> None:
        """The WAL written while ``rows`` were backfilled (the app's too: on the safe side)."""
        if rows > 0 and wal_bytes >= 0:
            observed = wal_bytes / rows
            self.bytes_per_row = (observed if self.bytes_per_row is None
                                  else SMOOTHING * observed + (1 - SMOOTHING) * self.bytes_per_row)  # fmt: skip

    def record(self, rows: int, seconds: float) -> None:
        """A batch of ``rows`` took ``seconds`` (its transaction, not the pause after it): size the next one."""
        if self.target_ms is None or rows <= 0:
            return
        observed = rows / max(seconds, 1e-4)
        self.rate = observed if self.rate is None else SMOOTHING * observed + (1 - SMOOTHING) * self.rate
        wanted = self.rate * self.target_ms / 1000
        if seconds * 1000 > self.target_ms:  # ran over: the newest rate alone, at once
            wanted = min(wanted, observed * self.target_ms / 1000)
        grown = min(wanted, self.size * GROWTH)
        self.size = int(max(self.min_rows, min(self.max_rows, grown)))

    def batches_left(self, rows_left: int) -> int:
        """An estimate of the batches still to run (the progress bar's total), at the current size."""
        return max(0, -(-rows_left // max(self.size, 1)))
