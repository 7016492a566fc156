"""App versions as real clients of a real database: threads with their own connections.

Each thread owns a disjoint set of rows (``id % threads == i``), so the last acknowledged write of every row is
known exactly; a *lost write* is one that a later read (during the run, or the final audit) does not return.
The live app version follows the runner's rollouts: pass the workload as an observer.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import Any

from .apps import AppVersion
from .db import DbTable
from .plan import MigrationPlan
from .runner import Event
from .traffic import column_meanings


@dataclass(frozen=True)
class Request:
    """One request: when it started (seconds since the workload began), how long it took, what it was."""

    thread: int
    start: float
    latency: float
    version: str
    op: str
    ok: bool
    error: str = ""


class AppWorkload:
    """Threads issuing the live app version's reads and updates until ``stop()``."""

    def __init__(
        self,
        table: DbTable,
        plan: MigrationPlan,
        *,
        threads: int = 2,
        seed: int = 0,
        think: float = 0.001,
        dwell: float = 0.05,
    ) -> None:
        if threads < 1:
            raise ValueError("threads must be >= 1")
        self.url = table.db.url
        self.table_name = table.name
        self.plan = plan
        self.threads = threads
        self.seed = seed
        self.think = think
        self.dwell = dwell  # seconds a newly rolled-out version serves alone before the runner goes on
        self.originals = table.data_columns
        self.meanings = column_meanings(plan, self.originals)
        self.apps = {a.name: a for a in plan.apps}
        self.version = plan.apps[0].name
        self.truth = {r["id"]: {c: r[c] for c in self.originals} for r in table.rows()}
        self.acked: dict[int, Any] = {}  # row id -> the logical row of its last acknowledged write
        self.lost: set[int] = set()
        self.requests: list[Request] = []
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []
        self._t0 = 0.0
        self._mutex = threading.Lock()
        self._drained = threading.Condition()
        self._in_flight: list[str] = []  # the version of every request under way

    # the runner calls this after every tick: follow the rollouts
    def on_tick(self, event: Event, apps: dict[str, float]) -> None:
        """Roll out the app version that now has the traffic, and drain the old one before returning.

        A rollout is complete when no request of an older version is still in flight: only then may the
        runner go on to change what the old version used (as a real deploy waits for old instances to drain).
        """
        if not apps:
            return
        new = max(apps, key=apps.get)
        if new == self.version:
            return
        with self._drained:
            self.version = new
            self._drained.wait_for(lambda: all(v == new for v in self._in_flight), timeout=10)
        time.sleep(self.dwell)

    def start(self) -> AppWorkload:
        self._t0 = time.perf_counter()
        for i in range(self.threads):
            worker = threading.Thread(target=self._run, args=(i,), daemon=True, name=f"labkit-app-{i}")
            worker.start()
            self._workers.append(worker)
        return self

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=30)

    def __enter__(self) -> AppWorkload:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self, i: int) -> None:
        from .db import connect

        rng = random.Random(self.seed * 1000 + i)
        mine = [rid for rid in sorted(self.truth) if rid % self.threads == i]
        if not mine:
            return
        with connect(self.url) as db:
            table = db.table(self.table_name)
            n = 0
            while not self._stop.is_set():
                with self._drained:
                    app = self.apps[self.version]
                    self._in_flight.append(app.name)
                row_id = rng.choice(mine)
                op = "read" if rng.random() < 0.5 else "update"
                start = time.perf_counter()
                ok, error = True, ""
                try:
                    if op == "read":
                        self._read(table, app, row_id)
                    else:
                        n += 1
                        self._update(table, app, row_id, f"t{i}-{n}", rng)
                except Exception as exc:  # the request failed: that is what we count
                    ok, error = False, f"{type(exc).__name__}: {exc}"
                finally:
                    with self._drained:
                        self._in_flight.remove(app.name)
                        self._drained.notify_all()
                end = time.perf_counter()
                with self._mutex:
                    self.requests.append(Request(i, start - self._t0, end - start, app.name, op, ok, error))
                if self.think:
                    time.sleep(self.think)

    def _read(self, table: DbTable, app: AppVersion, row_id: int) -> None:
        """The version's own query: its columns, through its versioned view when there is one."""
        d = table.db.dialect
        has_view = d.view_name(table.name, app.name) in table.views
        source = d.view_ref(table.name, app.name) if has_view else d.quote(table.name)
        cols = ", ".join(d.quote(c) for c in app.reads)
        values = table.db.query(f"SELECT {cols} FROM {source} WHERE id = {d.param}", [row_id])[0]
        row = dict(zip(app.reads, values))
        expected = self.truth[row_id]
        if row_id in self.acked and any(row[c] != self.meanings[c](expected) for c in app.reads):
            self.lost.add(row_id)

    def _update(self, table: DbTable, app: AppVersion, row_id: int, value: str, rng: random.Random) -> None:
        column = rng.choice([c for c in self.originals if isinstance(self.truth[row_id][c], str)] or self.originals)
        logical = dict(self.truth[row_id])
        logical[column] = value if "@" not in str(logical[column]) else f"{value}@{rng.choice(['a.io', 'b.org'])}"
        values = {c: self.meanings[c](logical) for c in app.writes}
        d = table.db.dialect
        if all(c in table.column_names for c in values) or d.view_name(table.name, app.name) not in table.views:
            table.update(row_id, values)
        else:  # a name only its view knows (a rename through views): write through the view
            sets = ", ".join(f"{d.quote(c)} = {d.param}" for c in values)
            target = d.view_ref(table.name, app.name)
            with table.db.transaction():
                table.db.execute(f"UPDATE {target} SET {sets} WHERE id = {d.param}", [*values.values(), row_id])
        self.truth[row_id] = logical  # acknowledged: the commit returned
        self.acked[row_id] = logical

    # -------------------------------------------------------------- after the run
    def audit(self, table: DbTable, app: AppVersion | None = None) -> int:
        """Read back every row's last acknowledged write through ``app`` (the live one); return rows lost."""
        app = app or self.apps[self.version]
        for row_id in self.acked:
            row = table.get(row_id)
            if any(row.get(c) != self.meanings[c](self.truth[row_id]) for c in app.reads):
                self.lost.add(row_id)
        return len(self.lost)

    @property
    def failed(self) -> list[Request]:
        return [r for r in self.requests if not r.ok]
