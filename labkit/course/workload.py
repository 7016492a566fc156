"""App versions as real clients of a real database: threads with their own connections.

Each thread owns a disjoint set of rows (``id % threads == i``, plus the rows it inserts), so the last
acknowledged write of every row is known exactly. Lost writes and stale reads are counted by a
``labkit.course.ledger.WriteLedger``, as the in-memory simulator counts them. Every request's start, latency, app
version and outcome is recorded.

Pass the workload to the runner as ``traffic=``: it follows the rollouts (old and new versions share the
traffic during a rollout of ``rollout_ticks`` ticks of ``dwell`` seconds each), and before the runner goes on,
a version that is no longer live is drained: no request of it is still in flight (as a real deploy waits for
its old instances).
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from .._common import SQL, check_ratios
from ..apps import AppVersion
from ..backends.db import DbTable, VersionView
from ..backends.engine import connect
from ..errors import InvalidArgumentError
from ..plan import MigrationPlan
from ..runner import Event
from ..steps import AddColumn
from ..steps.fix_rows import FixRows
from .ledger import WriteLedger
from .traffic import EDGE_SHARE, column_meanings, edge_text, journaled

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Request:
    """One request: when it started (seconds since the workload began), how long it took, what it was.

    Open loop: ``start`` is when the request was due and ``latency`` runs from then, so the time it waited for
    its client (stuck behind an earlier slow request) counts; ``queued`` is that wait, the rest is service.
    """

    thread: int
    start: float
    latency: float
    version: str
    op: str
    ok: bool
    error: str = ""
    queued: float = 0.0


class AppWorkload:
    """Threads issuing the live app versions' reads, updates and inserts until ``stop()``.

    Args:
        threads: concurrent clients, each with its own connection.
        rate: requests per second per thread (``None``: as fast as they can, with ``think`` seconds between).
        open_loop: with ``rate``, requests are due on a fixed schedule whatever happened to the last one, and each
            latency is counted from when it was due (wrk2's correction for coordinated omission). A closed-loop
            client sends its next request only after the last reply, so a 200 ms stall costs it one slow sample
            where an open-loop one counts every request that fell due during the stall: the percentiles then say
            what users would have seen.
        duration: stop by itself after this many seconds (a bound, whatever happens).
        rollout_ticks, dwell: a rollout takes ``rollout_ticks`` runner ticks of ``dwell`` seconds each.
        use_views: go through each version's view when it exists (False: query the table directly, as an
            app that knows nothing of versioned views does).
        rollout_requests: at each rollout, after its dwell, also wait until every version now live has served this
            many requests since the rollout began (up to a minute): on a busy machine a dwell of time may pass with
            none, and a test that says "every version served traffic in every phase" waits for it instead.
    """

    def __init__(
        self,
        table: DbTable,
        plan: MigrationPlan,
        *,
        threads: int = 2,
        seed: int = 0,
        think: float = 0.001,
        rate: float | None = None,
        open_loop: bool = False,
        duration: float = 120.0,
        rollout_ticks: int = 1,
        dwell: float = 0.05,
        read_ratio: float = 0.6,
        insert_ratio: float = 0.1,
        use_views: bool = True,
        rollout_requests: int = 0,
        prepared: bool = True,
    ) -> None:
        if threads < 1:
            raise InvalidArgumentError("threads must be >= 1")
        if rate is not None and rate <= 0:
            raise InvalidArgumentError("rate must be > 0 requests per second (or None for as fast as possible)")
        if open_loop and rate is None:
            raise InvalidArgumentError("open_loop needs a rate: requests are due on its schedule")
        check_ratios(read_ratio, insert_ratio)
        self.url = table.db.url
        self.prepared = prepared  # PostgreSQL: statements prepared on the server after 5 runs (psycopg 3's default)
        self.table_name = table.qualified  # another schema's table is that one, not the current schema's namesake
        self.plan = plan
        self.threads = threads
        self.seed = seed
        self.think = think
        self.rate = rate
        self.open_loop = open_loop
        self.duration = duration
        self.rollout_ticks = max(1, rollout_ticks)
        self.dwell = dwell
        self.read_ratio = read_ratio
        self.insert_ratio = insert_ratio
        self.use_views = use_views
        self.rollout_requests = rollout_requests
        self.originals = table.data_columns
        catalog = table.catalog()
        self.nullable = frozenset(c.name for c in catalog.columns if not c.not_null)
        self.defaulted = frozenset(c.name for c in catalog.columns if c.default is not None)
        # a column a UNIQUE constraint or index covers gets this request's own value, never a shared edge value
        self.unique = frozenset(c for con in catalog.constraints if con.kind in ("unique", "primary_key")
                                for c in con.columns) | frozenset(c for ix in catalog.indexes if ix.unique
                                                                  for c in ix.columns)  # fmt: skip
        # a json / jsonb column's value is sent as JSON (a list sent bare is a PostgreSQL array: [] would land as {})
        self.json = frozenset(c.name for c in catalog.columns if c.type in ("json", "jsonb")
                              and table.db.dialect.name == "postgresql")  # SQLite's JSON is text: sent as it is
        # the length a varchar(n) / char(n) column holds: the app writes what its column takes (a real form does)
        self.lengths = {c.name: int(m.group(1)) for c in catalog.columns
                        if (m := re.match(r"(?:character varying|varchar|character|char)\((\d+)\)", c.type))}
        self.meanings = column_meanings(plan, self.originals)
        # the columns whose values are emails: a row that holds NULL or an edge value there gets an email too (an app
        # writes emails into its email column; a repeated edge value would be a duplicate a unique index refuses)
        rows = table.rows()
        self.emails = frozenset(c for c in self.originals if any("@" in str(r[c]) for r in rows[:50]))
        self.fixes = [s for s in plan.steps if isinstance(s, FixRows)]  # the plan's own writes to the data
        self._field_values: dict[str, Any] = {}  # a field the plan adds for the new code -> what an INSERT sends
        # a plan with no app versions (a comment, an index) runs under the app as it is: every column, read and written
        apps = plan.apps or (AppVersion("app", self.originals, self.originals),)
        self.apps = {a.name: a for a in apps}
        self.first = apps[0].name  # the version live before the plan
        self.shares: dict[str, float] = {self.first: 1.0}
        self.ledger = WriteLedger(self.meanings, ((r["id"], {c: r[c] for c in self.originals}) for r in rows))
        self.requests: list[Request] = []
        self.events: list[tuple[Event, float]] = []  # each runner event and when it happened
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []
        self._t0 = 0.0
        self._mutex = threading.Condition()  # held to record a request; notified at each one
        self.writes = 0  # requests that wrote (insert, update), acknowledged or failed
        self._per_version: dict[str, int] = {}  # requests recorded, per app version
        self._drained = threading.Condition()
        self._in_flight: list[str] = []  # the version of every request under way

    @property
    def version(self) -> str:
        """The app version with the largest share of the traffic now."""
        return max(self.shares, key=lambda v: self.shares[v])

    def now(self) -> float:
        return time.perf_counter() - self._t0

    # -------------------------------------------------------------- the runner calls this after every tick
    def on_tick(self, event: Event, apps: dict[str, float]) -> None:
        self.events.append((event, self.now()))
        fix = next((f for f in self.fixes if f.name == event.step), None)
        if fix is not None and event.kind in ("batch", "complete", "rollback_step"):
            with connect(self.url) as db:  # every row the fix reached: the truth the app reads from now on
                self.ledger.adopt_fixes(fix.column, journaled(db.table(self.table_name), fix))
        if not apps:
            return
        with self._drained:
            self.shares = dict(apps)
            self._drained.wait_for(lambda: all(v in apps for v in self._in_flight), timeout=30)
        if event.kind in ("deploy", "rollback_deploy"):
            served = self._served()
            time.sleep(self.dwell)  # the rollout takes time: old and new versions serve side by side
            if self.rollout_requests:
                live = [v for v, share in apps.items() if share > 0]
                with self._mutex:
                    self._mutex.wait_for(lambda: all(self._per_version.get(v, 0) - served.get(v, 0)
                                                     >= self.rollout_requests for v in live)
                                         or self._stop.is_set(), timeout=60)  # fmt: skip

    def _served(self) -> dict[str, int]:
        """Requests recorded so far, per app version."""
        with self._mutex:
            return dict(self._per_version)

    def wait_for_writes(self, n: int, *, timeout: float = 120.0) -> bool:
        """Wait until the app has made ``n`` more writes (inserts and updates, acknowledged or failed) than when
        called; False if ``timeout`` seconds pass first, or the workload stopped. What a test waits for before it
        moves on (the app wrote on the schema as it is now), instead of a window of time a busy machine fills with
        fewer writes."""
        with self._mutex:
            target = self.writes + n
            return self._mutex.wait_for(lambda: self.writes >= target or self._stop.is_set(), timeout=timeout) and (
                self.writes >= target)

    # -------------------------------------------------------------- running
    def start(self) -> AppWorkload:
        self._t0 = time.perf_counter()
        for i in range(self.threads):
            worker = threading.Thread(target=self._run, args=(i,), daemon=True, name=f"labkit-app-{i}")
            worker.start()
            self._workers.append(worker)
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._mutex:  # a wait_for_writes or a rollout's wait learns at once that no more requests will come
            self._mutex.notify_all()
        for worker in self._workers:
            worker.join(timeout=60)

    def __enter__(self) -> AppWorkload:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self, i: int) -> None:

        rng = random.Random(self.seed * 1000 + i)
        mine = [rid for rid in sorted(self.ledger.truth) if rid % self.threads == i]
        if not mine:
            return
        interval = 1.0 / self.rate if self.rate else 0.0
        with connect(self.url) as db:
            if not self.prepared and db.dialect.name == "postgresql":
                db.conn.prepare_threshold = None  # each statement sent as text, as Django's default cursor does
            table = db.table(self.table_name)
            n = 0
            next_at = time.perf_counter()
            while not self._stop.is_set() and self.now() < self.duration:
                with self._drained:
                    names = list(self.shares)
                    app = self.apps[rng.choices(names, [self.shares[v] for v in names])[0]]
                    self._in_flight.append(app.name)
                r = rng.random()
                op = (
                    "read"
                    if r < self.read_ratio
                    else ("insert" if r < self.read_ratio + self.insert_ratio else "update")
                )
                start = time.perf_counter()
                due = next_at if self.open_loop else start  # open loop: it was due then, even if sent late
                ok, error = True, ""
                try:
                    n += 1
                    if op == "read":
                        self._read(table, app, rng.choice(mine))
                    elif op == "insert" and self._physical(table, app):
                        mine.append(self._insert(table, app, f"t{i}-{n}", rng))
                    else:
                        op = "update"
                        self._update(table, app, rng.choice(mine), f"t{i}-{n}", rng)
                except Exception as exc:  # the request failed: that is what we count
                    ok, error = False, f"{type(exc).__name__}: {exc}"
                finally:
                    with self._drained:
                        self._in_flight.remove(app.name)
                        self._drained.notify_all()
                end = time.perf_counter()
                with self._mutex:
                    self.requests.append(
                        Request(i, due - self._t0, end - due, app.name, op, ok, error, max(0.0, start - due))
                    )
                    self.writes += op != "read"
                    self._per_version[app.name] = self._per_version.get(app.name, 0) + 1
                    self._mutex.notify_all()
                if interval:
                    next_at += interval
                    time.sleep(max(0.0, next_at - time.perf_counter()))
                elif self.think:
                    time.sleep(self.think)

    @staticmethod
    def _physical(table: DbTable, app: AppVersion) -> bool:
        cols = table.column_names
        return all(c in cols for c in app.writes)

    def _source(self, table: DbTable, app: AppVersion) -> str:
        """Where the version's queries go: its versioned view when there is one, else the table. The version live
        before the plan (the app as it was deployed, which knows nothing of labkit's views) queries the table while
        every column it reads is there, as a real one does: a rollback drops that version's view under it."""
        d = table.db.dialect  # (another schema's table: its schema-qualified name, its versions' own view schemas)
        if app.name == self.first and all(c in table.column_names for c in app.reads):
            return table.ref
        if self.use_views and d.view_name(table.qualified, app.name) in table.views:
            return d.view_ref(table.qualified, app.name)
        return table.ref

    def _adopt_fixes(self, table: DbTable, row_id: int) -> None:
        """A data fix of the plan's (``FixRows``) may have changed this row: what the app reads, and so writes back,
        from now on (an app reads a row before it writes it; it would not write back a NULL the fix replaced)."""
        for fix in self.fixes:
            try:
                rows = journaled(table, fix, row_id)
            except Exception:  # the contract dropped the journal between the look and the read: the fix is done
                if fix.journal in table.column_names:
                    raise
                rows = []
            self.ledger.adopt_fixes(fix.column, rows)

    def _read(self, table: DbTable, app: AppVersion, row_id: int) -> None:
        if self.fixes:
            self._adopt_fixes(table, row_id)
        d = table.db.dialect
        cols = ", ".join(d.quote(c) for c in app.reads)
        values = table.db.query(f"SELECT {cols} FROM {self._source(table, app)} WHERE id = {d.param}", [row_id])[0]
        self.ledger.check(row_id, dict(zip(app.reads, values)), self._known(app.reads))

    def _fields(self, table: DbTable, app: AppVersion) -> dict[str, Any]:
        """What an INSERT of ``app`` sends for the fields the plan adds for the new code: the value the migration
        gives them (an ORM model's field default, which Django sends in every INSERT and keeps out of the table
        once the migration ends); nothing for a field added without one."""
        out = {}
        for c in app.writes:
            if c in self.meanings:
                continue
            if c not in self._field_values:
                add = next((s for s in self.plan.steps if isinstance(s, AddColumn) and s.column == c), None)
                value = None
                if add is not None and add.default is not None:
                    expr = add.default.text if isinstance(add.default, SQL) else table.db.dialect.literal(add.default)
                    value = table.db.query(f"SELECT {expr}")[0][0]
                self._field_values[c] = value
            if self._field_values[c] is not None:
                out[c] = self._field_values[c]
        return out

    def _known(self, columns: Sequence[str]) -> list[str]:
        """The columns whose values the ledger models: the original ones and what the plan fills from them. A field
        the plan adds for the new code (named by its app versions alone) is read and found there, not checked, and
        left to the table to fill when written (the workload knows no value of it)."""
        return [c for c in columns if c in self.meanings]

    def _new_value(self, column: str, old: Any, value: str, rng: random.Random, app: AppVersion) -> Any:
        """A value for a write: text shaped like the column's own (an email stays an email), now and then an edge
        value in a plain text column (empty, non-Latin, long, NULL where the column takes it); a column of another
        type keeps the value it had (an integer stays an integer, a foreign key keeps pointing at a real row)."""
        if old is not None and not isinstance(old, str):
            return old
        if "@" in str(old) or column in self.emails:  # an email column gets emails, even in a row that holds none
            return f"{value}@{rng.choice(['a.io', 'b.org'])}"[: self.lengths.get(column)]
        nullable = column in self.nullable and column not in app.never_null
        if column in self.unique:  # the request's own value, and the workload's seed: two workloads never meet
            value = f"{value}s{self.seed}"
        new = edge_text(rng, nullable) if rng.random() < EDGE_SHARE and column not in self.unique else value
        if new is None or column not in self.lengths:
            return new
        return new[-self.lengths[column] :] if column in self.unique else new[: self.lengths[column]]

    def _update(self, table: DbTable, app: AppVersion, row_id: int, value: str, rng: random.Random) -> None:
        if self.fixes:
            self._adopt_fixes(table, row_id)
        truth = self.ledger.truth[row_id]
        writes = self._known(app.writes)
        mine = [c for c in self.originals if self.ledger.carries(truth, writes, c)] or self.originals
        column = rng.choice([c for c in mine if isinstance(truth[c], str)] or mine)  # one this version writes
        logical = dict(truth)
        logical[column] = self._new_value(column, logical[column], value, rng, app)
        for c in app.never_null:  # a version that never writes NULL asks its user for a value (a required field)
            if c in logical and logical[c] is None:
                shape = next((t[c] for t in self.ledger.truth.values() if t.get(c) is not None), value)
                logical[c] = value if isinstance(shape, str) else shape  # text gets this write's, a number one seen
        values = self._typed(self.ledger.values(logical, writes))
        self._target(table, app, values).update(row_id, values)  # raises RowNotFoundError if it touched nothing
        self.ledger.acknowledge(row_id, logical)  # the commit returned

    def _typed(self, values: dict[str, Any]) -> dict[str, Any]:
        """The values as the app's driver sends them: JSON columns' as JSON, as an ORM's JSONField does."""
        if not self.json:
            return values
        from psycopg.types.json import Json

        return {c: Json(v) if c in self.json and v is not None else v for c, v in values.items()}

    def _may_leave_out(self, logical: dict[str, Any], values: dict[str, Any]) -> list[str]:
        """The original columns with a DEFAULT that an INSERT may leave out: those no other column it sends is a
        copy of (a version that writes both the old and the new column writes one value, not a default and a value)."""
        return [c for c in values if c in self.defaulted and c in self.originals
                and not self.ledger.carries(logical, [k for k in values if k != c], c)]  # fmt: skip

    def _target(self, table: DbTable, app: AppVersion, values: dict[str, Any]) -> DbTable | VersionView:
        """Where the version writes: on PostgreSQL through its view whenever it has one (what ``labkit start``
        tells it); on SQLite the table itself unless it names a column only its view has (approach B, which the
        lessons run from Python: a SQLite view reports no row count)."""
        source = self._source(table, app)
        if source == table.ref:
            return table
        if table.db.dialect.name == "postgresql" or not self._physical(table, app):
            return VersionView(table, source, list(values))
        return table

    def _insert(self, table: DbTable, app: AppVersion, value: str, rng: random.Random) -> int:
        """Half the time the INSERT leaves out the columns the table gives a DEFAULT (as an ORM model with server
        defaults does); the values the database filled in are read back in the same transaction, as the app's
        RETURNING would, and are what the app then holds."""
        sample = next(iter(self.ledger.truth.values()))
        logical = {c: self._new_value(c, v, value, rng, app) for c, v in sample.items()}
        values = self._typed(self.ledger.values(logical, self._known(app.writes)))
        left_out = self._may_leave_out(logical, values) if rng.random() < 0.5 else []
        sent = {c: v for c, v in values.items() if c not in left_out}
        sent.update(self._fields(table, app))
        # and what this version cannot name at all is the table's to fill (NULL, a DEFAULT; nothing once dropped)
        filled = [*left_out, *(c for c in self.originals if c not in values
                               and not self.ledger.carries(logical, list(values), c))]  # fmt: skip
        d = table.db.dialect
        with table.db.transaction():
            target = self._target(table, app, sent)
            row_id = int(target.insert(sent))  # the lab's tables: an integer id
            if filled:  # the insert's lock keeps the columns as they are until the commit: name them (a cached
                # "SELECT *" fails once a column is dropped: "cached plan must not change result type")
                # what it left out it reads back where it wrote, by its own names (a view may show another column
                # under one: a type change that keeps its name); what it cannot name, from the table
                named = left_out if isinstance(target, VersionView) else []
                there = [c for c in filled if c not in named and c in table.column_names]
                got: dict[str, Any] = {}
                for ref, cols in ((self._source(table, app), named), (table.ref, there)):
                    if cols:
                        row = table.db.query(f"SELECT {', '.join(d.quote(c) for c in cols)} FROM {ref} "
                                             f"WHERE id = {d.param}", [row_id])[0]  # fmt: skip
                        got.update(zip(cols, row))
                logical.update({c: got.get(c) for c in filled})
        self.ledger.acknowledge(row_id, logical)
        return row_id

    # -------------------------------------------------------------- after the run
    def audit(self, table: DbTable, app: AppVersion | None = None) -> int:
        """Read back every row the app wrote, as ``app`` (the live one) reads it; return how many more writes
        were found lost (``lost_writes`` is the total)."""
        app = app or self.apps[self.version]
        return self.ledger.audit(table.get, self._known(app.reads))

    @property
    def lost_writes(self) -> int:
        return self.ledger.lost_writes

    @property
    def stale_reads(self) -> int:
        return self.ledger.stale_reads

    @property
    def failed(self) -> list[Request]:
        return [r for r in self.requests if not r.ok]

    def to_frame(self) -> pd.DataFrame:
        """Every request, one row each (start and latency in seconds)."""
        import pandas as pd

        cols = ["thread", "start", "latency", "version", "op", "ok", "error", "queued"]
        frame: pd.DataFrame = pd.DataFrame([asdict(r) for r in self.requests], columns=cols)
        return frame
