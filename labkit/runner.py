"""The runner: apply steps in order, batch by batch, and on failure undo everything in reverse order."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from .backends.base import Backend, BackendEventKind, Resume, Status
from .backends.engine import backend_for
from .chunking import ChunkSizer
from .errors import (
    ConnectionLostError,
    InjectedFault,
    InvalidArgumentError,
    NothingToResumeError,
    PlanAlreadyExecutedError,
    PreflightError,
    RollbackRequested,
    StandbyUnseenError,
    StepDoesNotFitError,
    StepNotFoundError,
)
from .faults import Faults, parse_faults
from .plan import MigrationPlan
from .safety import preflight
from .steps import PHASES, Phase, Step
from .table import TableLike
from .throttle import Load, Throttle

logger = logging.getLogger(__name__)

EventKind = Literal[
    "start", "batch", "complete", "deploy", "fail", "resume", "stopped", "completed",  # the run, forward
    "rollback_start", "rollback_step", "rollback_deploy", "rolled_back", "rollback_failed",  # the undo
    "retry", "observer_error",  # what the backend reports while it works; a guest detached
    "throttle",  # a backfill waited before its next batch (the reason in detail, the wait in ms)
]  # fmt: skip
ROLLBACK_KINDS = frozenset({"rollback_start", "rollback_step", "rollback_deploy", "rolled_back", "rollback_failed"})


@dataclass(frozen=True)
class Event:
    """One entry of the runner's history. ``tick`` grows by one per event."""

    tick: int
    step: str | None
    batch: int | None
    kind: EventKind
    progress: float  # the step's progress (%) after the event (the plan's for plan-level events)
    plan_progress: float
    phase: str | None = None
    apps: tuple[tuple[str, float], ...] = ()  # app versions live at this tick, with their share of traffic
    detail: str = ""
    batches: int | None = None  # on a batch event: how many batches the step has in all
    rows: int | None = None  # on a batch event: the rows this batch wrote
    ms: float | None = None  # on a batch event: how long its transaction took (never in ``detail``: it varies)

    def line(self) -> str:
        where = self.step or "plan"
        if self.batch is not None:
            where += f" batch {self.batch}"
        text = f"[tick {self.tick:>4}] {self.kind:<15} {where:<28} {self.progress:5.1f}%"
        return text + (f"  {self.detail}" if self.detail else "")


@dataclass(frozen=True)
class MigrationResult:
    """What happened: ``status``, where it failed, the error, and what a rollback failure left behind."""

    plan: str
    status: Status
    failed_step: str | None = None
    failed_batch: int | None = None
    error: BaseException | None = None
    rollback_error: BaseException | None = None
    left_behind: tuple[str, ...] = ()  # steps still applied after a failed rollback, latest first
    ticks: int = 0
    history: tuple[Event, ...] = field(default=(), repr=False)
    progress: Mapping[str, float] = field(default_factory=dict, repr=False, compare=False)  # step -> % applied
    caveats: tuple[str, ...] = ()  # what the run did that a rollback cannot undo (the user's triggers fired ...)
    stopped_at: str | None = None  # a "stopped" run: where (run the same plan again to carry on)

    @property
    def ok(self) -> bool:
        return self.status == "completed"

    def summary(self) -> str:
        if self.status == "completed":
            return f"{self.plan}: completed in {self.ticks} ticks"
        if self.status == "stopped":
            why = f" after a failure ({type(self.error).__name__}: {self.error})" if self.error is not None else ""
            return f"{self.plan}: stopped {self.stopped_at}{why}, nothing undone; run the same plan again to carry on"
        where = (self.failed_step or "plan") + (f" batch {self.failed_batch}" if self.failed_batch else "")
        text = f"{self.plan}: failed at {where} ({self.error}); "
        if self.status == "rolled_back":
            if self.caveats:
                return text + "rolled back, except: " + "; ".join(self.caveats)
            return text + "rolled back: the table is as it was before the plan"
        return (
            text
            + f"ROLLBACK FAILED ({self.rollback_error}); still applied, for a human to fix: "
            + ", ".join(self.left_behind)
        )


class Observer(Protocol):
    """Anything that wants to see each tick as it happens. A guest: if it raises, it is detached (see below)."""

    def on_tick(self, event: Event, apps: dict[str, float]) -> None: ...


class Traffic(Observer, Protocol):
    """What the runner calls between ticks so simulated app traffic can run (see ``labkit.course.traffic``)."""

    rollout_ticks: int


@dataclass
class StepProgress:
    """How much of one step's work is applied now: ``done`` of ``total`` units (batches, or 1)."""

    done: int = 0
    total: int = 1

    @property
    def pct(self) -> float:
        return 100.0 * self.done / self.total if self.total else 100.0


def _names(planned: str, table: TableLike) -> bool:
    """Is ``table`` the one a plan names ``planned``? ``schema.table`` names that schema's table only (its current
    schema's included, by the bare name the table goes by there); a bare name, the table of that name the caller
    chose (``--table``)."""
    schema, _, name = planned.rpartition(".")
    if name != table.name:
        return False
    if not schema:
        return True
    return planned == table.qualified or (table.qualified == name and schema == _current_schema(table))


def _current_schema(table: TableLike) -> str | None:
    db = getattr(table, "db", None)
    return db.dialect.current_schema(db) if db is not None and db.dialect.has_schemas else None


class _Batches:
    """The batches of one backfill: how big the next one is (``ChunkSizer``, when the step sizes by time) and how
    many there are in all (exact when the backend listed them, else those done plus an estimate of those left)."""

    def __init__(self, step: Step, resumed: int, rows_at_start: int) -> None:
        start = step.rows_per_batch()
        self.sizer = ChunkSizer(start, getattr(step, "chunk_ms", None)) if start else None
        self.resumed = resumed
        self.exact: int | None = None  # set once the backend has listed them
        self.rows_left = max(rows_at_start - resumed * (start or 0), 0)
        self.asked = 0  # the rows of the table the range being run was asked to cover
        self.next_size = self._next_size if self.sizer else None

    def _next_size(self) -> int:
        assert self.sizer is not None
        self.asked = self.sizer.next_size()
        return self.asked

    def total(self, k: int) -> int:
        if self.exact is not None:
            return self.resumed + self.exact
        return max(k, k + (self.sizer.batches_left(self.rows_left) if self.sizer else 0))

    def walked(self, rows: int) -> int:
        """The rows of the table a batch went over: those it was asked to cover (a data fix writes a few of them:
        sized by the rows it wrote, a sparse fix's batches shrank to a hundred rows of the table), at least those it
        wrote."""
        return max(rows, self.asked)

    def record(self, rows: int, ms: float) -> None:
        walked = self.walked(rows)
        self.rows_left = max(self.rows_left - walked, 0)
        if self.sizer is not None:
            self.sizer.record(walked, ms / 1000)

    def record_load(self, load: Load, wal_at: int | None, rows: int, throttle: Throttle) -> int | None:
        """The WAL the last batch wrote sizes the next (under half the standby lag the throttle allows)."""
        if self.sizer is None or load.wal_bytes is None:
            return wal_at
        if wal_at is not None:
            self.sizer.record_bytes(self.walked(rows), load.wal_bytes - wal_at)
        if load.lag_bytes is not None and throttle.max_lag_bytes:  # a standby replays it
            self.sizer.byte_budget = int(throttle.max_lag_bytes // 2)
        return load.wal_bytes


@dataclass
class _Cursor:
    """Where the walk is: the step being applied and, inside a backfill, the batch (for the failure report)."""

    step: Step | None = None
    batch: int | None = None
    committed: int | None = None  # the step's last committed batch (a lost connection reports it)


@dataclass
class _Applied:
    step: Step
    db_done: bool = False  # the step's change is (at least partly) applied
    deployed_from: str | None = None  # app version live before this step rolled out its own


class MigrationRunner:
    """Runs a ``MigrationPlan`` on a table.

    Args:
        table: the table to migrate (an in-memory ``Table``, or later a database table handle).
        fail_at: inject a fault; see ``labkit.faults`` for the spellings (``"backfill:3"`` ...).
        traffic: an object with ``on_tick(event, apps)`` and ``rollout_ticks``, called after every tick.
        observers: more objects with ``on_tick(event, apps)`` (e.g. ``SnapshotRecorder``), called after traffic.
            Traffic and observers are guests: one that raises is logged, recorded in the history as an
            ``observer_error`` event and detached; the migration goes on as if it had never been there.
        resume: on a database, what to do with a run of the same plan that was cut off (a crash): carry on from
            its last committed batch (``"continue"``) or undo what it did (``"rollback"``).
        until_phase: stop before the first step of this phase (``"contract"``: expand and migrate now, contract
            later, as pgroll's start and complete). The run ends ``"stopped"``; on a database, running the same
            plan again carries on from there.
        until_step: stop before the step at this position (``labkit.stops``: where a run from a terminal waits
            for a deploy); as ``until_phase``, the run ends ``"stopped"`` and the same plan again carries on.
        on_failure: what a failed step leads to: undo everything (``"rollback"``), or (``"stop"``) end the run
            ``"stopped"`` where it failed, undoing nothing, resumable by running the same plan again. By default
            (None) a run rolls back, unless it carries on a run that already rolled out an app version (the same
            plan run again after a stop at the contract or a deploy): that one stops, as ``labkit complete`` does.
            Once a new app version is deployed on what the first run built, only the user may decide to take it
            away (``resume="rollback"``, ``labkit rollback``); a lock timeout is no reason to.
        backend: carry the plan out with this backend instead of the table's own: ``labkit.plan_sql`` runs the plan
            against one that records the statements instead of executing them (Alembic's offline mode), so the SQL
            of a plan comes from this runner's own walk.
        throttle: when a backfill waits before its next batch (``labkit.throttle``): by default while a standby
            is over 1,500 ms or 64 MB behind, or app statements wait for a lock on the table.

    ``request_stop()`` (from a signal handler, another thread) ends the run ``"stopped"`` after the batch or step
    in progress, with nothing undone: on a database the same plan carries on from there when run again.
    """

    def __init__(
        self,
        table: TableLike,
        *,
        fail_at: str | Sequence[str] | None = None,
        traffic: Traffic | None = None,
        observers: Sequence[Observer] = (),
        resume: Literal["continue", "rollback"] = "continue",
        until_phase: Phase | None = None,
        until_step: int | None = None,
        on_failure: Literal["rollback", "stop"] | None = None,
        backend: Backend | None = None,
        throttle: Throttle | None = None,
    ):
        """Bind the runner to one table and say how the run goes; nothing runs and nothing is checked against the
        table yet.

        WHY: what a run needs besides the plan (faults to inject, traffic, observers, how to treat a cut-off run,
        where to stop) is fixed here, so ``execute_plan(plan)`` takes the plan alone and the same plan can run on
        several tables. The backend is chosen from the table (in memory, SQLite, PostgreSQL): the runner never asks
        which. A runner runs one plan once: its history and progress are that run's.
        """
        if resume not in ("continue", "rollback"):
            raise InvalidArgumentError(f"resume must be 'continue' or 'rollback', got {resume!r}")
        if on_failure not in ("rollback", "stop", None):
            raise InvalidArgumentError(f"on_failure must be 'rollback', 'stop' or None, got {on_failure!r}")
        self.on_failure = on_failure
        if until_phase is not None and until_phase not in PHASES:
            raise InvalidArgumentError(f"until_phase must be one of {', '.join(PHASES)}, got {until_phase!r}")
        self.until_phase = until_phase
        if until_step is not None and (not isinstance(until_step, int) or until_step < 0):
            raise InvalidArgumentError(f"until_step must be a step's position (0 or more), got {until_step!r}")
        self.until_step = until_step
        self._stop_requested = threading.Event()
        self._rows_at_start = 0
        self._streamed = 0  # the most standbys seen streaming in this run (the throttle waits for one that stops)
        self._resumed_past_a_deploy = False  # carrying on a run that rolled out an app version (on_failure=None)
        self.throttle = throttle if throttle is not None else Throttle()
        self.table = table
        self.backend = backend if backend is not None else backend_for(table)
        self.resume = resume
        self.fail_at = fail_at
        self.traffic = traffic
        self.observers = tuple(observers)
        self._guests: list[Observer] = [*([traffic] if traffic is not None else []), *self.observers]
        self._history: list[Event] = []
        self._plan: MigrationPlan | None = None
        self._apps: dict[str, float] = {}
        self._progress: dict[str, StepProgress] = {}
        self._status: Status | None = None  # how the run ended (None: not run, or still running)

    @property
    def history(self) -> tuple[Event, ...]:
        """Every event of the run so far, in order (``Event``: tick, step, batch, kind, progress, apps, detail).

        WHY: the run's one record. The views, plots, the progress bar and the traffic are all drawn from it, so
        what a learner sees cannot disagree with what ran; a tuple, so nobody edits the record after the fact.
        """
        return tuple(self._history)

    @property
    def log(self) -> list[str]:
        return [e.line() for e in self._history]

    @property
    def progress(self) -> dict[str, float]:
        """Step name -> how much of it is applied now, in percent (0 before the run, and after an undo)."""
        if self._plan is None:
            return {}
        return {s.name: self._pct(s) for s in self._plan.steps}

    @property
    def plan_progress(self) -> float:
        """The mean of the steps' progress, in percent (``progress_pct()``)."""
        return self.progress_pct()

    def progress_pct(self, step: Step | str | None = None) -> float:
        """How much is applied now, in percent: of one step (a ``Step`` or its name), or of the whole plan.

        WHY: progress is run state, so it lives with the run (the runner), never on the frozen step: the same
        plan can run on two tables at once, each runner with its own figure. A batched step counts its committed
        batches, any other step 0 or 100; the plan's figure is the mean over its steps. It is 0 before a run and
        falls back to 0 as a rollback undoes each step.
        """
        if step is None:
            values = list(self.progress.values())
            return sum(values) / len(values) if values else 0.0
        name = step if isinstance(step, str) else step.name
        if self._plan is None or name not in {s.name for s in self._plan.steps}:
            known = ", ".join(s.name for s in self._plan.steps) if self._plan else "none: no plan has run"
            raise StepNotFoundError(name, known)
        return self._pct_of(name)

    def is_complete(self) -> bool:
        """True once the plan ran to its end (``completed``); False before, during, after a rollback or a stop.

        WHY: "every step is at 100%" is not the same as "the run completed": a stop before the contract phase
        leaves the earlier steps at 100% and the plan unfinished, and a rollback ends at 0%. The question a
        learner (and the CLI) asks is whether the migration is done, so it is answered from how the run ended.
        """
        return self._status == "completed"

    def _pct(self, step: Step) -> float:
        return self._pct_of(step.name)

    def _pct_of(self, name: str) -> float:
        p = self._progress.get(name)
        return p.pct if p else 0.0

    def _set_progress(self, step: Step, done: int, total: int) -> None:
        """Record ``done`` of ``total`` units; a step with no units (a backfill of 0 rows) counts as done."""
        if total <= 0:
            done = total = 1
        self._progress[step.name] = StepProgress(done, total)

    # ---------------------------------------------------------------- checks before anything changes
    def admit(self, plan: MigrationPlan) -> Faults:
        """Refuse a plan that cannot run here, and a bad ``fail_at``; change nothing."""
        if self._plan is not None:
            raise PlanAlreadyExecutedError(self._plan.name)
        if not _names(plan.table, self.table):
            raise StepDoesNotFitError(plan.steps[0].name, self.table.qualified, f"the plan is for table {plan.table!r}")
        if self.resume == "rollback" and not self.backend.in_progress(plan.name):
            raise NothingToResumeError(plan.name)
        start = self.backend.resume_point(plan)  # steps a cut-off run already did are not checked again
        columns = self.backend.data_columns()
        for step in plan.steps[start:]:
            self.backend.check_step(step)
            columns = step.fit(columns)
        blocking = preflight(plan, self.table)  # what the catalog shows the plan cannot do (a drop that fails ...)
        if blocking:
            raise PreflightError(plan.name, blocking)
        watches = self.throttle.max_lag_ms is not None or self.throttle.max_lag_bytes is not None
        if watches and any(s.batched for s in plan.steps[start:]):
            hidden = self.backend.load().hidden_standbys  # a throttle that cannot see the standby never waits
            if hidden:
                raise StandbyUnseenError(hidden)
        self._rows_at_start = self.backend.row_count()  # (a backfill's progress estimate: no count in the step)
        return parse_faults(self.fail_at, plan, self._rows_at_start)

    # ---------------------------------------------------------------- running
    def request_stop(self) -> None:
        """Stop after the batch or step in progress, undoing nothing (safe to call from a signal handler)."""
        self._stop_requested.set()

    def execute_plan(self, plan: MigrationPlan) -> MigrationResult:
        """Run ``plan`` on the table: every step in order, or, when one fails, undo what was applied.

        WHY: the one entry point. It refuses what cannot run before anything changes (``admit``), takes the
        migration's lock (``backend.begin``: a second runner on the same table is refused), runs the steps through
        ``_execute_step`` and, on the first failure, hands what was applied to ``_rollback_plan``, so every run ends
        in exactly one of ``completed``, ``rolled_back``, ``rollback_failed`` or ``stopped`` and never half-way
        with nobody told.
        """
        faults = self.admit(plan)
        self._plan = plan
        self._apps = {plan.apps[0].name: 1.0} if plan.apps else {}
        self.backend.on_event = self._backend_event
        resume = self.backend.begin(plan, resume=self.resume)  # locks the migration; may resume a crashed run
        status: Status = "rollback_failed"
        try:
            try:
                result = self._run(plan, faults, resume)
            except _Stopped as stop:
                self._emit(None, None, "stopped", detail=stop.where)
                result = self._result(plan, "stopped", stop.failed, stop.batch, stop.error, stopped_at=stop.where)
            status = result.status
            return result
        finally:
            self._status = status
            self.backend.finish(status)

    def _stop_here(self, index: int, step: Step) -> None:
        """Stop before ``step`` if asked to, if it belongs to ``until_phase``, or if it is at ``until_step``."""
        if self._stop_requested.is_set():
            raise _Stopped(f"before {step.name}")
        if self.until_step is not None and index >= self.until_step:
            if index == self.until_step and step.deploy and step.deploy_timing == "before" and self._plan is not None:
                app = next((a for a in self._plan.apps if a.name == step.deploy), None)
                if app is not None:  # the version the user rolls out at this stop: its view is there first
                    self.backend.expose(app)
            raise _Stopped(f"before {step.name}")
        if self.until_phase is not None and step.phase == self.until_phase:
            raise _Stopped(f"before {step.name}, the first step of the {step.phase} phase")

    def _run(self, plan: MigrationPlan, faults: Faults, resume: Resume) -> MigrationResult:
        """The walk: each step in order through ``_execute_step``; the first failure goes to ``_rollback_plan``."""
        applied: list[_Applied] = []
        run = _Cursor()
        try:
            if self.resume == "rollback":  # undo what the cut-off run committed; run nothing forward
                self._resume(plan, resume, applied)
                run.step = plan.steps[min(resume.step_index, len(plan.steps) - 1)]
                raise RollbackRequested(plan.name)
            if resume.step_index or resume.batch:
                self._resume(plan, resume, applied)
            for index in range(resume.step_index, len(plan.steps)):
                self._stop_here(index, plan.steps[index])
                run.step = plan.steps[index]
                resumed = resume.batch if index == resume.step_index else 0
                self._execute_step(plan.steps[index], index, faults, applied, run,
                                   resumed_batches=resumed, after_id=resume.last_id if resumed else None)  # fmt: skip
        except Exception as exc:  # a step, a backfill function or an injected fault failed: roll back
            return self._failed(plan, faults, applied, run, exc)
        self._emit(None, None, "completed", detail=plan.name)
        return self._result(plan, "completed")

    def _failed(self, plan: MigrationPlan, faults: Faults, applied: list[_Applied], run: _Cursor,
                exc: Exception) -> MigrationResult:  # fmt: skip
        """A failure at ``run``'s step and batch: rolled back (``_rollback_plan``), or stopped there when the
        runner was told to, or raised as ``ConnectionLostError`` when the connection itself is gone."""
        assert run.step is not None
        if self.backend.lost():  # no undo can run over a dead connection; the database says how far it got
            self._emit(run.step, run.batch, "fail", detail=f"connection lost: {type(exc).__name__}: {exc}")
            raise ConnectionLostError(plan.name, run.step.name, run.committed, f"{type(exc).__name__}: {exc}") from exc
        self._emit(run.step, run.batch, "fail", detail=f"{type(exc).__name__}: {exc}")
        deployed = self._resumed_past_a_deploy  # a version rolled out by the run this one carries on
        if (self.on_failure or ("stop" if deployed else "rollback")) == "stop" and self.resume != "rollback":
            where = f"at {run.step.name}" + (f" batch {run.batch}" if run.batch else "")
            raise _Stopped(where, exc, run.step, run.batch) from exc
        return self._rollback_plan(plan, applied, run.step, run.batch, exc, faults)

    def _execute_step(
        self,
        step: Step,
        index: int,
        faults: Faults,
        applied: list[_Applied],
        run: _Cursor,
        *,
        resumed_batches: int = 0,
        after_id: object = None,
    ) -> None:
        """Apply one step: its rollout, its change (batch by batch for a backfill), its events; raise on failure.

        WHY: one place says what "doing a step" means, so the runner stays short and the same for every operation
        and engine: the step is recorded as applied *before* its change (so a failure half-way is undone too), an
        injected fault fires exactly where ``fail_at`` said, a batched step commits and reports each batch (so
        progress is real and a crash resumes at the next batch), and the app rolls out before or after the change
        as the step says.
        """
        record = _Applied(step, db_done=resumed_batches > 0)
        applied.append(record)
        self._emit(step, None, "start", detail=step.describe())
        if faults.at(step.name, None):
            raise InjectedFault(step.name)
        if step.deploy and step.deploy_timing == "before":
            record.deployed_from = self._rollout(step, step.deploy, "deploy")
        if step.batched:
            self._backfill(step, index, faults, record, run, resumed_batches, after_id)
        else:
            self.backend.apply(step, position=index)
            record.db_done = True
            self._set_progress(step, 1, 1)
        if step.deploy and step.deploy_timing == "after":
            record.deployed_from = self._rollout(step, step.deploy, "deploy")
        self.backend.step_done(step, position=index)
        self._emit(step, None, "complete")

    def _backfill(self, step: Step, index: int, faults: Faults, record: _Applied, run: _Cursor, resumed: int,
                  after_id: object) -> None:  # fmt: skip
        """A batched step, batch by batch: each one committed, reported (its rows, its time) and counted in
        ``run`` before the next, sized by the ``ChunkSizer`` from the batches before it, throttled between."""
        batches = _Batches(step, resumed, self._rows_at_start)
        ranges = self.backend.backfill_ranges(step, after_id=after_id, size=batches.next_size)
        batches.exact = len(ranges) if isinstance(ranges, list) else None  # a walk finds its batches as it goes
        self._set_progress(step, resumed, batches.total(resumed))
        k, rows_done, step_began, wal_at = resumed, 0, time.perf_counter(), None
        run.committed = resumed or None
        for k, (lo, hi) in enumerate(ranges, resumed + 1):
            run.batch = k
            if faults.at(step.name, k):
                raise InjectedFault(step.name, k)
            began = time.perf_counter()
            rows = self.backend.backfill_batch(step, lo, hi, position=index, batch=k)
            ms = (time.perf_counter() - began - getattr(step, "pause", 0.0)) * 1000
            record.db_done = True
            run.committed, rows_done = k, rows_done + rows
            batches.record(rows, ms)
            self._set_progress(step, k, batches.total(k))
            self._emit(step, k, "batch", detail=f"{_span(lo, hi)}: {rows} rows", batches=batches.total(k), rows=rows,
                       ms=ms)  # fmt: skip
            load = self._wait_if_throttled(step, k, rows, ms, rows_done, time.perf_counter() - step_began)
            wal_at = batches.record_load(load, wal_at, rows, self.throttle)
            if self._stop_requested.is_set() and k < batches.total(k):
                raise _Stopped(f"after {step.name} batch {k} of {batches.total(k)}")
        run.batch = run.committed = None
        self._set_progress(step, k, k)  # 0 rows: nothing to do, complete

    def _wait_if_throttled(self, step: Step, k: int, rows: int, ms: float, rows_done: int, elapsed: float) -> Load:
        """Before the next batch: wait as long as ``self.throttle`` says (each spell one ``throttle`` event); a
        stop request ends the wait. Throttled past ``give_up_s``: the run stops there, undoing nothing. Returns
        the engine's figures read last (the WAL they show sizes the next batch)."""
        t = self.throttle
        own = t.after_batch(rows, ms, rows_done, elapsed)
        if own is not None:
            self._emit(step, k, "throttle", detail=own[1], ms=own[0] * 1000)
            self._stop_requested.wait(own[0])
        began, reason = time.perf_counter(), None
        load = self.backend.load()
        self._streamed = max(self._streamed, load.standbys)  # a standby that stops streaming later is waited for
        while not self._stop_requested.is_set() and (why := t.why(load, streamed=self._streamed)) is not None:
            reason = reason or why
            if time.perf_counter() - began > t.give_up_s:
                raise _Stopped(f"after {step.name} batch {k}: throttled for {t.give_up_s:g} s ({why})")
            self._stop_requested.wait(t.step_s)
            load = self.backend.load()
        if reason is not None:
            self._emit(step, k, "throttle", detail=reason, ms=(time.perf_counter() - began) * 1000)
        return load

    def _resume(self, plan: MigrationPlan, resume: Resume, applied: list[_Applied]) -> None:
        """Mark what a crashed run already committed as done, and put its app version back in place."""
        apps = [a.name for a in plan.apps]
        for step in plan.steps[: resume.step_index]:
            record = _Applied(step, db_done=True)
            if step.deploy and apps:
                record.deployed_from = self._live_version()
                self._apps = {step.deploy: 1.0}
                self._resumed_past_a_deploy = True
            applied.append(record)
            self._set_progress(step, 1, 1)
        if resume.batch and self.resume == "rollback":  # the cut-off backfill's committed batches are undone too
            applied.append(_Applied(plan.steps[resume.step_index], db_done=True))
        where = plan.steps[min(resume.step_index, len(plan.steps) - 1)].name
        detail = f"resuming at {where}" + (f" after batch {resume.batch}" if resume.batch else "")
        self._emit(None, None, "resume", detail=detail)

    def _rollback_plan(
        self,
        plan: MigrationPlan,
        applied: list[_Applied],
        failed: Step,
        failed_batch: int | None,
        error: BaseException,
        faults: Faults,
    ) -> MigrationResult:
        """Undo the applied steps, latest first, each with its ``reverse()``, and put the app versions back.

        WHY: a failed migration must leave the table as it found it, or say exactly what it could not undo. Undoing
        in reverse order is the only order in which every reverse meets the schema it expects; a rollout is undone
        in the mirror order of doing (an "after" rollout before the change is undone, a "before" one after), so no
        app version ever meets a schema it cannot use. A step that cannot be undone stops the rollback as
        ``rollback_failed`` with ``left_behind`` listing what is still applied, for a human to fix.
        """
        self._emit(failed, None, "rollback_start", detail=f"undoing {len(applied)} step(s) in reverse order")
        remaining = list(applied)
        while remaining:
            record = remaining[-1]
            step = record.step
            position = len(remaining) - 1
            try:
                # Undo in the mirror order of doing: an "after" rollout is rolled back before the DB change
                # is undone, a "before" rollout after it, so no app version ever meets a schema it cannot use.
                if record.deployed_from is not None and step.deploy_timing == "after":
                    self._rollout(step, record.deployed_from, "rollback_deploy")
                    record.deployed_from = None
                if record.db_done:
                    if step.name in faults.rollback:
                        raise InjectedFault(f"rollback:{step.name}")
                    self.backend.undo(step, position=position)
                    record.db_done = False
                self._set_progress(step, 0, self._progress.get(step.name, StepProgress()).total)
                if record.deployed_from is not None:
                    self._rollout(step, record.deployed_from, "rollback_deploy")
                    record.deployed_from = None
                self._emit(step, None, "rollback_step", detail=f"undid {step.name}")
            except Exception as exc:
                if self.backend.lost():  # not a failed undo: the rollback is recorded as under way, carry it on
                    self._emit(step, None, "fail", detail=f"connection lost: {type(exc).__name__}: {exc}")
                    raise ConnectionLostError(plan.name, step.name, None, f"rolling back: {exc}") from exc
                left = tuple(r.step.name for r in reversed(remaining) if r.db_done or r.deployed_from)
                self._emit(step, None, "rollback_failed", detail=f"{type(exc).__name__}: {exc}")
                return self._result(plan, "rollback_failed", failed, failed_batch, error, exc, left)
            remaining.pop()
        self._emit(None, None, "rolled_back", detail=plan.name)
        return self._result(plan, "rolled_back", failed, failed_batch, error)

    def _rollout(self, step: Step, version: str, kind: Literal["deploy", "rollback_deploy"]) -> str | None:
        """Shift traffic to ``version`` over the traffic's rollout ticks; return the version it replaced."""
        previous = self._live_version()
        app = next((a for a in self._plan.apps if a.name == version), None) if self._plan else None
        if app is not None:
            self.backend.expose(app)  # e.g. the version's view on a database, before its traffic arrives
        ticks = max(1, getattr(self.traffic, "rollout_ticks", 1)) if self.traffic else 1
        for j in range(1, ticks + 1):
            share = j / ticks
            self._apps = {version: share} if previous in (None, version) else {previous: 1 - share, version: share}
            self._apps = {k: v for k, v in self._apps.items() if v > 0}
            self._emit(step, None, kind, detail=f"app {version} at {share:.0%}")
        return previous

    def _live_version(self) -> str | None:
        """The app version with the largest share of the traffic now."""
        return max(self._apps, key=lambda v: self._apps[v]) if self._apps else None

    def _backend_event(self, kind: BackendEventKind, detail: str) -> None:
        """Events the backend reports while it works (a lock-timeout retry ...), recorded like any other."""
        self._emit(None, None, kind, detail=detail)

    def _emit(
        self,
        step: Step | None,
        batch: int | None,
        kind: EventKind,
        *,
        detail: str = "",
        batches: int | None = None,
        rows: int | None = None,
        ms: float | None = None,
    ) -> None:
        plan_pct = self.plan_progress
        event = Event(
            tick=len(self._history) + 1,
            step=step.name if step else None,
            batch=batch,
            kind=kind,
            progress=self._pct(step) if step else plan_pct,
            plan_progress=plan_pct,
            phase=step.phase if step else None,
            apps=tuple(sorted(self._apps.items())),
            detail=detail,
            batches=batches,
            rows=rows,
            ms=ms,
        )
        self._history.append(event)
        self._log(event)
        for guest in list(self._guests):
            try:
                guest.on_tick(event, dict(self._apps))
            except Exception as exc:  # a guest's bug is never the migration's failure: detach it, say so
                self._guests.remove(guest)
                name = type(guest).__name__
                self._emit(None, None, "observer_error", detail=f"{name} raised {type(exc).__name__}: {exc}; detached")

    def _log(self, event: Event) -> None:
        """Send one event to the ``labkit.runner`` logger (a failure or a detached observer as a warning).

        WHY: a migration on a real database is run by operators who read logs, not notebooks. Every event goes to
        standard ``logging`` with the ``Event`` attached (``extra={"labkit_event": ...}``), so a structured
        handler can ship it as data; the library itself never prints.
        """
        level = logging.WARNING if event.kind in ("fail", "rollback_failed", "observer_error") else logging.INFO
        logger.log(level, "%s", event.line(), extra={"labkit_event": event})

    def _result(
        self,
        plan: MigrationPlan,
        status: Status,
        failed: Step | None = None,
        batch: int | None = None,
        error: BaseException | None = None,
        rollback_error: BaseException | None = None,
        left: tuple[str, ...] = (),
        stopped_at: str | None = None,
    ) -> MigrationResult:
        return MigrationResult(
            stopped_at=stopped_at,
            plan=plan.name,
            status=status,
            failed_step=failed.name if failed else None,
            failed_batch=batch,
            error=error,
            rollback_error=rollback_error,
            left_behind=left,
            ticks=len(self._history),
            history=self.history,
            progress=self.progress,
            caveats=tuple(self.backend.caveats()),
        )


class _Stopped(BaseException):
    """Unwinds a run that was asked to stop (or stops at a failure, ``on_failure="stop"``): not an Exception, so no
    step's failure handling takes it for one."""

    def __init__(self, where: str, error: BaseException | None = None, failed: Step | None = None,
                 batch: int | None = None) -> None:  # fmt: skip
        super().__init__(where)
        self.where, self.error, self.failed, self.batch = where, error, failed, batch


def _span(lo: object, hi: object) -> str:
    """A batch's key range for the history: ``ids 1..10`` (integer ids), ``keys 'a'..'k'`` otherwise."""
    if isinstance(lo, int) and isinstance(hi, int):
        return f"ids {lo}..{hi}"
    return f"keys {lo!r}..{hi!r}"
