"""A traffic simulator: app versions keep reading and writing between the runner's ticks.

It counts what users would notice:

- a **failed request** names a column that is not there (or breaks a constraint): downtime;
- a **lost write** and a **stale read**, as ``labkit.course.ledger`` defines them for every kind of traffic (a final
  audit reads back every row's last write when the run ends).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._common import check_ratios
from ..apps import AppVersion
from ..backends.engine import backend_for
from ..errors import InvalidArgumentError
from ..plan import MigrationPlan
from ..runner import Event, MigrationResult, MigrationRunner, Observer
from ..steps.base import Meaning
from ..steps.fix_rows import FixRows
from ..table import TableLike
from .ledger import WriteLedger

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class TickTraffic:
    """Traffic served in one tick of the runner."""

    tick: int
    kind: str
    step: str | None
    phase: str | None
    apps: str
    requests: int = 0
    failed_requests: int = 0
    lost_writes: int = 0
    stale_reads: int = 0


@dataclass(frozen=True)
class TrafficReport:
    """Totals and per-tick figures of one simulated run, with the runner's result."""

    requests: int
    failed_requests: int
    lost_writes: int
    stale_reads: int
    result: MigrationResult
    ticks: list[TickTraffic] = field(repr=False)
    failed_by_version: dict[str, int] = field(default_factory=dict)
    runner: MigrationRunner | None = field(default=None, repr=False, compare=False)  # progress_pct, is_complete
    # the first few of each: what a failed request was refused with, what a lost write or stale read read back
    failures: tuple[str, ...] = field(default=(), repr=False, compare=False)
    mismatches: tuple[str, ...] = field(default=(), repr=False, compare=False)

    def to_frame(self) -> pd.DataFrame:
        """Per-tick figures as a pandas DataFrame indexed by tick."""
        import pandas as pd

        frame: pd.DataFrame = pd.DataFrame([vars(t) for t in self.ticks]).set_index("tick")
        return frame

    def summary(self) -> str:
        return (
            f"{self.requests} requests, {self.failed_requests} failed, {self.lost_writes} lost writes, "
            f"{self.stale_reads} stale reads; migration {self.result.status}"
        )


def _column(name: str) -> Meaning:
    """An original column holds what the app wrote into it."""
    return lambda row: row[name]


def column_meanings(plan: MigrationPlan, data_columns: Sequence[str]) -> dict[str, Meaning]:
    """What each column should hold, as a function of the app's logical row (the original columns)."""
    meanings: dict[str, Meaning] = {c: _column(c) for c in data_columns}
    for s in plan.steps:
        s.derive(meanings)
    return meanings


# what a real app writes now and then into a text column: nothing, non-Latin text, a long value
EDGE_TEXTS = ("", "Zürich ✓ 注文", "Ω" * 120)
EDGE_SHARE = 0.1  # of the writes to a plain text column


def edge_text(rng: random.Random, nullable: bool) -> str | None:
    """One of ``EDGE_TEXTS``, or NULL where the column takes it."""
    choices: list[str | None] = [*EDGE_TEXTS, *([None] if nullable else [])]
    return rng.choice(choices)


def _value_maker(
    sample: dict[str, Any], nullable: frozenset[str] | None = None
) -> Callable[[str, int, random.Random, AppVersion], Any]:
    """New values shaped like the table's own (emails stay emails, integers stay integers); a plain text column
    now and then gets an edge value, as a real app's users send (``nullable``: the columns that take NULL; None:
    all of them, as in memory; never where the app version never writes NULL)."""

    def make(column: str, n: int, rng: random.Random, app: AppVersion) -> Any:
        old = sample.get(column)
        if isinstance(old, str) and "@" not in old and rng.random() < EDGE_SHARE:
            return edge_text(rng, (nullable is None or column in nullable) and column not in app.never_null)
        if isinstance(old, bool):
            return rng.random() < 0.5
        if isinstance(old, int):
            return rng.randint(1, 100_000)
        if isinstance(old, float):
            return round(rng.uniform(1, 1000), 2)
        if isinstance(old, str) and "@" in old:
            return f"user{n}@{rng.choice(['example.com', 'mail.org', 'corp.net', 'lab.io'])}"
        if isinstance(old, str) and " " in old:
            return f"Name{n} Surname{n}"
        return f"{column}-{n}"

    return make


class TrafficSimulator:
    """The ``traffic`` a ``MigrationRunner`` calls after each tick."""

    def __init__(
        self,
        table: TableLike,
        plan: MigrationPlan,
        *,
        seed: int = 0,
        requests_per_tick: int = 20,
        read_ratio: float = 0.6,
        insert_ratio: float = 0.1,
        rollout_ticks: int = 5,
    ) -> None:
        if requests_per_tick < 0:
            raise InvalidArgumentError("requests_per_tick must be >= 0")
        check_ratios(read_ratio, insert_ratio)
        if rollout_ticks < 1:
            raise InvalidArgumentError("rollout_ticks must be >= 1")
        self.table: TableLike = table
        self.backend = backend_for(table)
        self.rng = random.Random(seed)
        self.requests_per_tick = requests_per_tick
        self.read_ratio = read_ratio
        self.insert_ratio = insert_ratio
        self.rollout_ticks = rollout_ticks
        self.originals = self.backend.data_columns()
        self.meanings = column_meanings(plan, self.originals)
        self.apps = {a.name: a for a in plan.apps} or {"app": AppVersion("app", self.originals, self.originals)}
        unknown = sorted({s.deploy for s in plan.steps if s.deploy and s.deploy not in self.apps})
        if unknown:
            raise InvalidArgumentError(
                f"the plan deploys {', '.join(unknown)} but defines no such app version (apps=...)"
            )
        for app in self.apps.values():
            unknown = [c for c in app.columns if c not in self.meanings]
            if unknown:
                raise InvalidArgumentError(f"app {app.name} uses {', '.join(unknown)}, which the plan never fills")
        self.ledger = WriteLedger(self.meanings, ((r["id"], {c: r[c] for c in self.originals}) for r in table.rows()))
        sample = next(iter(self.ledger.truth.values()), {})
        catalog = getattr(table, "catalog", None)  # a database table says which columns take NULL
        nullable = frozenset(c.name for c in catalog().columns if not c.not_null) if catalog else None
        self.make_value = _value_maker(sample, nullable)
        self.attempts = 0  # write requests sent (numbers the values they write)
        self.ticks: list[TickTraffic] = []
        self.failed_by_version: dict[str, int] = {}
        self.fixes = {s.name: s for s in plan.steps if isinstance(s, FixRows)}  # the plan's own writes to the data
        self.failures: list[str] = []  # the first few failed requests, each with what refused it

    def _failed(self, app: AppVersion, what: str) -> bool:
        if len(self.failures) < 3:
            self.failures.append(f"app {app.name}: {what}")
        return False

    def _cannot_name(self, app: AppVersion, columns: Sequence[str], names: Sequence[str]) -> bool:
        missing = [c for c in columns if c not in names]
        return self._failed(app, f"names {', '.join(missing)}, which the table (or its view) does not have now")

    # -------------------------------------------------------------- the runner calls this
    def on_tick(self, event: Event, apps: dict[str, float]) -> None:
        live = apps or {next(iter(self.apps)): 1.0}
        tick = TickTraffic(
            event.tick, event.kind, event.step, event.phase, " ".join(f"{k}:{v:.0%}" for k, v in live.items())
        )
        names = list(live)
        weights = [live[n] for n in names]
        self._adopt_fixes(event)
        for _ in range(self.requests_per_tick):
            app = self.apps[self.rng.choices(names, weights)[0]]
            self._request(app, tick)
        self.ticks.append(tick)

    def _adopt_fixes(self, event: Event) -> None:
        """A data fix of the plan's (``FixRows``) changed rows: what the app reads from now on (the app, which
        reads a row before it writes it, writes that back, not the NULL it had)."""
        fix = self.fixes.get(event.step or "")
        if fix is not None and event.kind in ("batch", "complete", "rollback_step"):
            self.ledger.adopt_fixes(fix.column, journaled(self.table, fix))

    def _request(self, app: AppVersion, tick: TickTraffic) -> None:
        tick.requests += 1
        r = self.rng.random()
        if r < self.read_ratio:
            ok = self._read(app, tick)
        elif r < self.read_ratio + self.insert_ratio:
            ok = self._insert(app)
        else:
            ok = self._update(app)
        if not ok:
            tick.failed_requests += 1
            self.failed_by_version[app.name] = self.failed_by_version.get(app.name, 0) + 1

    def _access(self, app: AppVersion) -> tuple[Any, list[str]]:
        """Where ``app``'s queries go, and the columns it can name there: the table, or on a database its
        versioned view when it names a column the table does not have (a rename through views, approach B)."""
        present = self.backend.data_columns()
        seen_by = getattr(self.table, "seen_by", None)
        if seen_by is None or all(c in present for c in app.columns):
            return self.table, present
        view = seen_by(app.name)
        return (view, view.columns) if view is not None else (self.table, present)

    def _pick_row(self) -> int | None:
        ids = self.table.ids
        return ids[self.rng.randrange(len(ids))] if len(ids) else None

    def _read(self, app: AppVersion, tick: TickTraffic) -> bool:
        where, names = self._access(app)
        if not all(c in names for c in app.reads):
            return self._cannot_name(app, app.reads, names)
        row_id = self._pick_row()
        if row_id is None:
            return True
        verdict = self.ledger.check(row_id, where.get(row_id), app.reads)
        if verdict == "lost":
            tick.lost_writes += 1
        elif verdict == "stale":
            tick.stale_reads += 1
        return True

    def _update(self, app: AppVersion) -> bool:
        where, names = self._access(app)
        if not all(c in names for c in app.writes):
            return self._cannot_name(app, app.writes, names)
        row_id = self._pick_row()
        if row_id is None:
            return True
        self.attempts += 1
        logical = dict(self.ledger.truth[row_id])
        # a column this version writes (itself, or through a copy): one it cannot name it cannot change
        column = self.rng.choice([c for c in self.originals if self.ledger.carries(logical, app.writes, c)]
                                 or self.originals)  # fmt: skip
        logical[column] = self.make_value(column, self.attempts, self.rng, app)
        for c in app.never_null:  # a version that never writes NULL asks its user for a value (a required field)
            if c in logical and logical[c] is None:
                logical[c] = self.make_value(c, self.attempts, self.rng, app)
        sent = self.ledger.values(logical, app.writes)
        try:
            where.update(row_id, sent)
        except Exception as exc:
            return self._failed(app, f"UPDATE of row {row_id} to {sent} raised {type(exc).__name__}: {exc}")
        self.ledger.acknowledge(row_id, logical)
        return True

    def _insert(self, app: AppVersion) -> bool:
        where, names = self._access(app)
        if not all(c in names for c in app.writes):
            return self._cannot_name(app, app.writes, names)
        self.attempts += 1
        logical = {c: self.make_value(c, self.attempts, self.rng, app) for c in self.originals}
        sent = self.ledger.values(logical, app.writes)
        try:
            row_id = where.insert(sent)
        except Exception as exc:
            return self._failed(app, f"INSERT of {sent} raised {type(exc).__name__}: {exc}")
        filled = [c for c in self.originals if not self.ledger.carries(logical, app.writes, c)]
        if filled:  # what this version cannot name is the table's to fill (nothing, once dropped): the app holds that
            stored = self.table.get(row_id)
            logical.update({c: stored.get(c) for c in filled})
        self.ledger.acknowledge(row_id, logical)
        return True

    # -------------------------------------------------------------- after the run
    def audit(self, app: AppVersion) -> int:
        """Read back every row the app wrote through ``app``; return how many more writes were found lost."""
        where, names = self._access(app)
        if not all(c in names for c in app.reads):
            return 0
        return self.ledger.audit(where.get, app.reads)


def simulate_traffic(
    table: TableLike,
    plan: MigrationPlan,
    *,
    seed: int = 0,
    fail_at: str | Sequence[str] | None = None,
    requests_per_tick: int = 20,
    rollout_ticks: int = 5,
    read_ratio: float = 0.6,
    insert_ratio: float = 0.1,
    observers: Sequence[Observer] = (),
) -> TrafficReport:
    """Run ``plan`` on ``table`` while the live app versions keep sending requests; count what users see.

    Same ``seed``, same numbers. Rollouts take ``rollout_ticks`` ticks, during which old and new versions
    share the traffic. On a failure the runner rolls back the schema and the app together.
    """
    sim = TrafficSimulator(
        table,
        plan,
        seed=seed,
        requests_per_tick=requests_per_tick,
        read_ratio=read_ratio,
        insert_ratio=insert_ratio,
        rollout_ticks=rollout_ticks,
    )
    runner = MigrationRunner(table, fail_at=fail_at, traffic=sim, observers=observers)
    result = runner.execute_plan(plan)
    final = result.history[-1].apps if result.history else ()
    final_app = sim.apps[max(final, key=lambda kv: kv[1])[0]] if final else next(iter(sim.apps.values()))
    late_losses = sim.audit(final_app)
    if late_losses and sim.ticks:
        sim.ticks[-1].lost_writes += late_losses
    return TrafficReport(
        requests=sum(t.requests for t in sim.ticks),
        failed_requests=sum(t.failed_requests for t in sim.ticks),
        lost_writes=sum(t.lost_writes for t in sim.ticks),
        stale_reads=sum(t.stale_reads for t in sim.ticks),
        result=result,
        ticks=sim.ticks,
        failed_by_version=dict(sorted(sim.failed_by_version.items())),
        runner=runner,
        failures=tuple(sim.failures),
        mismatches=tuple(sim.ledger.mismatches),
    )


def journaled(table: Any, step: FixRows, row_id: Any = None) -> list[tuple[Any, Any, Any, Any]]:
    """Every row the fix journaled (or just ``row_id``): ``(key, value before, value after, value now)``. The traffic
    models read it to tell the migration's writes from the app's (``WriteLedger.adopt_fixes``). (Here, not beside
    ``FixRows``: an operation reads the catalog only through the table's catalog, and this runs after every batch.)"""
    if step.journal not in table.column_names or len(table.key) != 1:
        return []
    d = table.db.dialect
    q, key = d.quote, d.quote(table.key[0])
    one, params = (f" AND {key} = {d.param}", [row_id]) if row_id is not None else ("", [])
    # the two columns' types only (the traffic models call this after every batch: not the whole catalog)
    types = dict(table.db.query(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = to_regclass(%s) "
        "AND attname IN (%s, %s) AND attnum > 0 AND NOT attisdropped", [table.ref, step.column, step.journal]))
    declared, as_text = types.get(step.column, ""), types.get(step.journal) == "text[]"
    j = q(step.journal)
    was, fixed = (f"CAST({j}[1] AS {declared})", f"CAST({j}[2] AS {declared})") if as_text else (f"{j}[1]", f"{j}[2]")
    rows = table.db.query(f"SELECT {key}, {was}, {fixed}, {q(step.column)} FROM {table.ref} "
                          f"WHERE {j} IS NOT NULL{one}", params)  # fmt: skip
    return [(k, before, after, now) for k, before, after, now in rows]
