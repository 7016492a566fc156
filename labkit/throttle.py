"""When a backfill waits before its next batch: throttling on what the engine reports, not on a guess.

gh-ost pauses its row copy while a replica lags more than ``--max-lag-millis`` (1,500 ms); pt-online-schema-change
pauses at 25 ``Threads_running``; Vitess at 5 s of lag. No PostgreSQL tool throttles on a standby's lag (pgroll has a
batch size and a delay). ``Throttle`` says, between two batches, whether the backfill should wait and why:

- ``max_lag_ms`` / ``max_lag_bytes``: a streaming standby is further behind than this (PostgreSQL
  ``pg_stat_replication``: ``replay_lag``, and the WAL bytes the standby has not replayed). It fails closed, as
  spirit does: a standby that stopped streaming during the run is waited for (its lag can no longer be read, which
  is not "no lag"), and an inactive replication slot counts as a standby as far behind as the WAL the slot keeps;
- ``max_lock_waits``: more app statements than this wait for a lock on the table (PostgreSQL ``pg_locks``), so the
  backfill steps aside until they got theirs;
- ``max_batch_ms``: the batch just done took longer than this: wait as long again, so the app catches up;
- ``max_rows_per_s``: the backfill's own pace, capped.

Each wait is an event in the runner's history (``throttle``, with the reason) and on the progress line. A backfill
throttled longer than ``give_up_s`` stops (nothing undone: run it again later). The decisions are pure functions of
the figures (``Load``) so that they are tested exactly; the backend reads the figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import InvalidArgumentError


@dataclass(frozen=True)
class Load:
    """What the engine reports between two batches (None: it cannot tell, e.g. no standby, SQLite)."""

    lag_ms: float | None = None  # the standby furthest behind, in time (replay_lag)
    lag_bytes: int | None = None  # ... and in WAL bytes not replayed yet
    lock_waits: int = 0  # app statements waiting for a lock on the table
    wal_bytes: int | None = None  # PostgreSQL: the WAL position now, in bytes (what a batch wrote, by difference)
    hidden_standbys: int = 0  # standbys streaming whose lag this role may not read (no pg_read_all_stats)
    standbys: int = 0  # standbys streaming now (pg_stat_replication's rows)
    idle_slots: tuple[tuple[str, int], ...] = ()  # physical replication slots no standby streams from: (name, WAL
    # bytes the slot keeps, the standby's lag as far as the primary can tell)


@dataclass(frozen=True)
class Throttle:
    """Limits that make a backfill wait before its next batch (each None: not checked)."""

    max_lag_ms: float | None = 1500.0  # gh-ost's default
    max_lag_bytes: int | None = 64 * 1024 * 1024
    max_lock_waits: int | None = 0
    max_batch_ms: float | None = None
    max_rows_per_s: float | None = None
    step_s: float = 0.05  # how long one wait is before the figures are read again
    give_up_s: float = 600.0  # throttled this long in one go: stop the run (it resumes where it stopped)

    def __post_init__(self) -> None:
        for name in ("max_lag_ms", "max_lag_bytes", "max_lock_waits", "max_batch_ms", "max_rows_per_s"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or not math.isfinite(value) or value < 0):  # fmt: skip
                raise InvalidArgumentError(f"Throttle.{name} must be a finite number >= 0 or None, got {value!r}")
        for name in ("step_s", "give_up_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 3600:
                raise InvalidArgumentError(f"Throttle.{name} must be seconds in (0, 3600], got {value!r}")

    @property
    def watches_standbys(self) -> bool:
        return self.max_lag_ms is not None or self.max_lag_bytes is not None

    def why(self, load: Load, *, streamed: int = 0) -> str | None:
        """The reason to wait now, from the engine's figures, or None (the figures themselves go in the event's
        fields, never in its text: a lab's stored output must not change from run to run). ``streamed``: the most
        standbys seen streaming during this run; fewer now is a standby whose lag cannot be read, waited for."""
        if self.watches_standbys and load.standbys < streamed:
            return "a standby stopped streaming: waiting for it to come back (its lag cannot be read)"
        if self.max_lag_bytes is not None:
            kept = [(name, kept) for name, kept in load.idle_slots if kept > self.max_lag_bytes]
            if kept:
                return (f"replication slot {kept[0][0]} is inactive and keeps over {self.max_lag_bytes / 1e6:,.1f} MB "
                        "of WAL: waiting for its standby (drop the slot if that standby is gone for good)")
        behind = load.lag_bytes is None or load.lag_bytes > 0  # caught up: a replay_lag left from before is stale
        if self.max_lag_ms is not None and load.lag_ms is not None and behind and load.lag_ms > self.max_lag_ms:
            return f"standby lag over {self.max_lag_ms:,.0f} ms"
        if self.max_lag_bytes is not None and load.lag_bytes is not None and load.lag_bytes > self.max_lag_bytes:
            return f"standby over {self.max_lag_bytes / 1e6:,.1f} MB of WAL behind"
        if self.max_lock_waits is not None and load.lock_waits > self.max_lock_waits:
            return "app statements waiting for a lock on the table"
        return None

    def after_batch(self, rows: int, ms: float, rows_done: int, seconds_so_far: float) -> tuple[float, str] | None:
        """A wait the batch just done calls for by itself: ``(seconds, reason)``, or None."""
        if self.max_batch_ms is not None and ms > self.max_batch_ms:
            return ms / 1000, f"a batch over {self.max_batch_ms:,.0f} ms: the app catches up"
        if self.max_rows_per_s and seconds_so_far > 0:
            ahead = rows_done / self.max_rows_per_s - seconds_so_far
            if ahead > 0:
                return ahead, f"at most {self.max_rows_per_s:,.0f} rows/s"
        return None


NO_THROTTLE = Throttle(max_lag_ms=None, max_lag_bytes=None, max_lock_waits=None)
