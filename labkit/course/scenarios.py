"""Scenarios on a real database: live app traffic, a migration in the middle, latency per phase.

``run_scenario`` starts the workload, runs a migration (labkit's or a naive alternative) in the middle, stops
the workload and returns every request with the phase it fell in, plus the migration's history. Timings vary
from run to run; counts of failed requests and lost writes do not.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..backends import state
from ..backends.db import Database, DbTable
from ..backends.engine import connect
from ..plan import MigrationPlan
from ..runner import ROLLBACK_KINDS, MigrationResult, MigrationRunner
from .data import make_users
from .workload import AppWorkload


@dataclass
class ScenarioResult:
    """What one scenario measured: every request (with its phase), the runner's events, the outcome."""

    name: str
    engine: str
    requests: pd.DataFrame
    events: pd.DataFrame
    result: MigrationResult
    lost_writes: int

    @property
    def failed_requests(self) -> int:
        return int((~self.requests["ok"]).sum())

    @property
    def migration_seconds(self) -> float:
        return float(self.events["time"].max() - self.events["time"].min()) if len(self.events) else 0.0

    def stats(self) -> pd.DataFrame:
        """Per phase: requests, failed requests, and latency p50 / p99 / max in milliseconds."""
        order = ["before", "expand", "migrate", "contract", "rollback", "after"]
        grouped = self.requests.groupby("phase")
        frame = pd.DataFrame(
            {
                "requests": grouped.size(),
                "failed": grouped["ok"].apply(lambda ok: int((~ok).sum())),
                "p50_ms": grouped["latency"].quantile(0.50) * 1000,
                "p99_ms": grouped["latency"].quantile(0.99) * 1000,
                "max_ms": grouped["latency"].max() * 1000,
            }
        )
        ordered: pd.DataFrame = frame.reindex([p for p in order if p in frame.index]).round(1)
        return ordered

    def max_latency_during(self, phases: tuple[str, ...] = ("expand", "migrate", "contract")) -> float:
        during = self.requests[self.requests["phase"].isin(phases)]
        return float(during["latency"].max()) if len(during) else 0.0

    def step_window(self, step: str) -> tuple[float, float]:
        """When ``step`` started and completed (seconds since the workload began)."""
        rows = self.events[self.events["step"] == step]
        if rows.empty:
            raise KeyError(f"no events for step {step!r}")
        return float(rows["time"].min()), float(rows["time"].max())

    def in_step(self, step: str) -> pd.DataFrame:
        """The requests that overlapped ``step`` (e.g. the backfill)."""
        start, end = self.step_window(step)
        r = self.requests
        overlapping: pd.DataFrame = r[(r["start"] <= end) & (r["start"] + r["latency"] >= start)]
        return overlapping

    def waited_on(self, step: str) -> int:
        """How many requests that overlapped ``step`` waited on it: took at least half as long as the slowest of
        them (a stall's waiters cluster near its length; the others took a fraction of a millisecond). A
        closed-loop client has at most one of them per stall (it sends its next request only when the last one
        returns); an open-loop one has every request that fell due behind the one that waited."""
        overlapping = self.in_step(step)
        if not len(overlapping):
            return 0
        return int((overlapping["latency"] >= overlapping["latency"].max() / 2).sum())

    def max_latency_in_step(self, step: str) -> float:
        """The slowest request that overlapped ``step`` (e.g. the backfill), in seconds."""
        overlapping = self.in_step(step)
        return float(overlapping["latency"].max()) if len(overlapping) else 0.0

    def latency_in_step(self, step: str, quantile: float) -> float:
        """A latency percentile (``quantile`` 0.99: p99) of the requests that overlapped ``step``, in seconds."""
        overlapping = self.in_step(step)
        return float(overlapping["latency"].quantile(quantile)) if len(overlapping) else 0.0


def _phases(requests: pd.DataFrame, events: pd.DataFrame) -> pd.Series:
    """The phase each request started in, from the runner's event times."""
    if events.empty:
        return pd.Series("before", index=requests.index)
    times, names = [], []
    current = "before"
    for row in events.itertuples():
        current = "rollback" if row.kind in ROLLBACK_KINDS else (str(row.phase) if row.phase else current)
        times.append(row.time)
        names.append(current)
    end = events["time"].max()
    idx = pd.Series(times).searchsorted(requests["start"], side="right") - 1
    phase = [names[i] if i >= 0 else "before" for i in idx]
    return pd.Series(
        ["after" if s > end else p for s, p in zip(requests["start"], phase)], index=requests.index, dtype=object
    )


@contextlib.contextmanager
def long_reader(url: str, table: str, seconds: float) -> Iterator[None]:
    """Another session holds a read lock on ``table`` for ``seconds`` (an analytics query, a forgotten BEGIN)."""
    reader = connect(url)
    reader.execute("BEGIN")
    reader.execute(f"SELECT count(*) FROM {reader.dialect.quote(table)}")
    released = threading.Event()

    def release() -> None:
        time.sleep(seconds)
        reader.execute("COMMIT")
        released.set()

    threading.Thread(target=release, daemon=True).start()
    try:
        yield
    finally:
        released.wait(timeout=seconds + 30)
        reader.close()


class StandbyLag:
    """While it is open, how far the primary's standbys are behind (``pg_stat_replication``: the WAL bytes the one
    furthest behind has not replayed), every ``every`` seconds on a connection of its own: ``samples`` holds
    ``(seconds since it opened, MB behind)``; ``peak_mb`` the most."""

    def __init__(self, url: str, *, every: float = 0.01) -> None:
        self.url, self.every = url, every
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def behind_mb(self, db: Database) -> float:
        sql = "SELECT coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), 0) FROM pg_stat_replication"
        return float(db.query(sql)[0][0]) / 1e6

    def caught_up(self, timeout: float = 60.0) -> None:
        """Wait until every standby has replayed all the primary has written (before a measurement)."""
        with connect(self.url) as db:
            deadline = time.monotonic() + timeout
            while self.behind_mb(db) > 0 and time.monotonic() < deadline:
                time.sleep(0.02)

    def _sample(self) -> None:
        with connect(self.url) as db:
            began = time.perf_counter()
            while not self._stop.wait(self.every):
                self.samples.append((time.perf_counter() - began, self.behind_mb(db)))

    def __enter__(self) -> StandbyLag:
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    @property
    def peak_mb(self) -> float:
        return max((mb for _, mb in self.samples), default=0.0)


def run_scenario(
    url: str,
    build: Callable[[DbTable], MigrationPlan],
    *,
    name: str,
    rows: int = 1000,
    threads: int = 2,
    seed: int = 0,
    warmup: float = 0.3,
    cooldown: float = 0.3,
    rollout_ticks: int = 1,
    dwell: float = 0.05,
    rate: float | None = None,
    open_loop: bool = False,
    lock_timeout_ms: int | None = None,
    max_attempts: int | None = None,
    during: Callable[[Database], Any] | None = None,
    prepare: Callable[[Database], Any] | None = None,
    fail_at: str | None = None,
    use_views: bool = True,
    observers: Sequence[Any] = (),
) -> ScenarioResult:
    """Load a fresh ``users`` table of ``rows`` rows, start the app, migrate in the middle, measure.

    Args:
        rate, open_loop: requests per second per app thread, and whether they are due on a fixed schedule with
            latency counted from when due (``AppWorkload``); the default sends as fast as each thread can.
        during: a context manager factory run around the migration (e.g. a long reader holding a lock).
        prepare: run on the database once ``users`` is loaded, before the app starts (e.g. add the column the
            migration changes).
        lock_timeout_ms: PostgreSQL: the DDL lock timeout (0 waits forever, as a plain ALTER does).
        max_attempts: PostgreSQL: how many times a DDL statement is tried before the step fails.
        use_views: the app goes through its version's view; False for an app that queries the table directly
            (what a naive migration assumes).
        observers: more observers for the runner (e.g. one that lets another tool do the DDL of a step).
    """
    with connect(url, lock_timeout_ms=lock_timeout_ms, max_attempts=max_attempts) as db:
        if "users" in db.tables():
            db.drop_table("users")
        state.drop(db)
        users = db.import_table(make_users(rows, seed=seed))
        if prepare is not None:
            prepare(db)
        plan = build(users)
        load = AppWorkload(
            users,
            plan,
            threads=threads,
            seed=seed,
            rollout_ticks=rollout_ticks,
            dwell=dwell,
            rate=rate,
            open_loop=open_loop,
            use_views=use_views,
        )
        with load:
            time.sleep(warmup)
            with during(db) if during else contextlib.nullcontext():
                runner = MigrationRunner(users, traffic=load, fail_at=fail_at, observers=observers)
                result = runner.execute_plan(plan)
            time.sleep(cooldown)
        load.audit(users)
        lost = load.lost_writes
        events = pd.DataFrame(
            [{"tick": e.tick, "kind": e.kind, "step": e.step, "phase": e.phase, "time": t} for e, t in load.events],
            columns=["tick", "kind", "step", "phase", "time"],
        )
        requests = load.to_frame()
        requests["phase"] = _phases(requests, events)
        db.drop_table("users")
        for statement in db.dialect.empty_view_homes(db):  # the view schemas it leaves empty (PostgreSQL)
            db.execute(statement)
        return ScenarioResult(name, db.dialect.name, requests, events, result, lost)
