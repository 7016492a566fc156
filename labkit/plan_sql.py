"""The SQL of a plan: every statement the database backend runs for it, in order, without running any.

``plan_sql(plan, table)`` runs the plan with ``MigrationRunner`` -- the one sequencer -- against a recording SQL
backend (Alembic's offline ``as_sql`` mode): the backend's own code (each operation's ``sql_statements`` /
``sql_batch``, its views, its tidy-up, its session settings) makes each statement, against the table **as it will be
when that step runs** (its columns after the steps before, the views made so far), and the recording keeps it instead
of running it. The order of the steps, the rollouts, the undo of a rollback and the tidy-up at the end are the
runner's own, so what it prints is what a run executes (``tests/test_plan_sql.py`` captures the statements a real run
sends and compares).

Left out of the listing, because they are labkit's bookkeeping rather than the migration: the progress rows in
``labkit_migrations`` (written in the same transaction as each change), the lock that keeps two runs apart, and
the catalog reads (``SELECT``) that decide batch boundaries.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .backends.base import Resume, Status
from .backends.sql import SQLBackend
from .catalog import ColumnInfo, TableCatalog
from .chunking import GROWTH, MAX_ROWS, MIN_ROWS
from .dispatch import sql_batch
from .errors import InvalidArgumentError, StepNotFoundError
from .plan import MigrationPlan
from .runner import Event, MigrationRunner
from .stops import deploy_stops, first_contract_step

if TYPE_CHECKING:
    from .apps import AppVersion
    from .backends.db import DbTable
    from .steps import Step


Line = tuple[str, "str | None"]  # a script line and the statement it belongs to


@dataclass(frozen=True)
class SqlUnit:
    """What the backend runs for one step (or for a view, or the tidy-up at the end).

    ``transaction``: the statements run in one transaction, ``settings`` first (``SET LOCAL lock_timeout`` ...);
    otherwise each runs on its own (``CREATE INDEX CONCURRENTLY``) between ``settings`` and ``reset``.
    ``batch``: a batched step's statement, run once per batch in a transaction of its own; it binds the batch's
    first and last key (``?`` / ``%s``) -- one pair per key column.
    """

    title: str
    step: str | None = None
    phase: str | None = None
    transaction: bool = True
    settings: tuple[str, ...] = ()
    statements: tuple[str, ...] = ()
    reset: tuple[str, ...] = ()
    batch: str | None = None
    batch_size: int | None = None
    part: str = "start"  # "start": expand and migrate (labkit start); "complete": the contract phase and tidy-up
    chunk_ms: float | None = None  # batch_size="auto": each batch sized to take about this long (the first: batch_size)
    leg: int = 0  # which run from a terminal runs it: 0 start, 1 the first complete, ... (``labkit.stops``)

    def executed(self, batches: int = 1, engine: str = "sqlite") -> list[str]:
        """The statements in the order the server gets them (a batched step with ``batches`` batches)."""
        if self.batch is not None:
            return [s for _ in range(batches) for s in (*self.settings, as_sent(engine, self.batch))]
        return [*self.settings, *self.statements, *self.reset]

    def lines(self, placeholder_note: str, begin: str = "BEGIN", engine: str = "sqlite") -> list[Line]:
        """The unit as script lines, each with the statement it belongs to (None for comments and BEGIN/COMMIT)."""
        out: list[Line] = [(f"-- {self.title}", None)]
        if self.batch is not None:
            size = f"of {self.batch_size:,} rows" if self.batch_size else "of all rows at once"
            if self.chunk_ms is not None:
                size = f"sized to take about {self.chunk_ms:g} ms (the first {self.batch_size:,} rows)"
            out.append((f"-- once per batch {size}, each in its own transaction; {placeholder_note}", None))
            body = [*self.settings, as_sent(engine, self.batch)]
        else:
            body = [*self.settings, *self.statements, *self.reset]
        if not body:
            return [*out, ("-- (no SQL: the application changes, the database does not)", None)]
        wrap = self.transaction and (self.batch is not None or self.statements)
        if not self.transaction:
            out.append(("-- outside a transaction: each statement commits on its own", None))
        if wrap:
            out.append((f"{begin};", None))
        for statement in body:
            out += [(line, statement) for line in (statement + ";").split("\n")]
        return [*out, *([("COMMIT;", None)] if wrap else [])]

    def text(self, placeholder_note: str, begin: str = "BEGIN", engine: str = "sqlite") -> str:
        return "\n".join(line for line, _ in self.lines(placeholder_note, begin, engine))


@dataclass(frozen=True)
class PlanSql:
    """The SQL of ``plan`` on one table, unit by unit: ``str()`` is a script to read (or run by hand)."""

    plan: str
    table: str
    engine: str
    units: tuple[SqlUnit, ...]
    session: tuple[str, ...] = field(default=())  # settings the connection has for the whole run
    begin: str = "BEGIN"  # how a transaction starts (SQLite: BEGIN IMMEDIATE, to take the write lock at once)

    def unit(self, step: str) -> SqlUnit:
        found = [u for u in self.units if u.step == step]
        if not found:
            raise StepNotFoundError(step, ", ".join(u.step for u in self.units if u.step))
        return found[-1] if len(found) == 1 else next(u for u in found if u.title.startswith("step"))

    def executed(self, batches: dict[str, int] | None = None) -> list[str]:
        """Every statement in the order the server gets it; ``batches``: step name -> how many batches it ran."""
        counts = batches or {}
        return [s for u in self.units for s in u.executed(counts.get(u.step or "", 1), self.engine)]

    def lines(self) -> list[tuple[str, SqlUnit | None, str | None]]:
        """The script line by line, each with its unit and statement (what a linter's line number points at)."""
        note = "it binds the batch's first and last key" + (" ($1, $2)" if self.engine == "postgresql" else " (?, ?)")
        out: list[tuple[str, SqlUnit | None, str | None]] = [
            (f"-- plan {self.plan!r} on {self.table} ({self.engine}), as labkit runs it", None, None),
            *((f"-- session: {s}", None, None) for s in self.session),
        ]
        for unit in self.units:
            out.append(("", None, None))
            out += [(line, unit, statement) for line, statement in unit.lines(note, self.begin, self.engine)]
        return out

    def __str__(self) -> str:
        return "\n".join(line for line, _, _ in self.lines()) + "\n"

    def for_step(self, step: str) -> str:
        """The script of one step: its unit, with the units without a step around it (the session settings and the
        views made before the first step go with the first step; a view made after a step, or the tidy-up at the
        end, with that step)."""
        steps = [u.step for u in self.units if u.step]
        if step not in steps:
            raise StepNotFoundError(step, ", ".join(steps))
        note = "it binds the batch's first and last key" + (" ($1, $2)" if self.engine == "postgresql" else " (?, ?)")
        owner = steps[0]
        mine = [f"-- session: {s}" for s in self.session] if step == owner else []
        for unit in self.units:
            owner = unit.step or owner
            if owner == step:
                mine += [line for line, _ in unit.lines(note, self.begin, self.engine)]
        return "\n".join(mine)


def as_sent(engine: str, sql: str) -> str:
    """A statement run with parameters, as the server receives it. psycopg takes ``%s`` placeholders (and ``%%``
    for a literal %) and sends PostgreSQL ``$1, $2 ...``; sqlite3 passes ``?`` through. (labkit runs a statement
    without parameters as written: no placeholder parsing.)"""
    if engine != "postgresql":
        return sql
    n = iter(range(1, 10_000))
    return re.sub(r"%(%|s)", lambda m: "%" if m.group(1) == "%" else f"${next(n)}", sql)


class _PlannedTable:
    """The table as it will be when a step runs: columns after the steps before it, the views made so far.
    Everything else (name, key, catalog, the database) is the real table's."""

    def __init__(self, table: DbTable) -> None:
        self._table = table
        self.columns = list(table.data_columns)
        self.view_set = set(table.views)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    @property
    def column_names(self) -> list[str]:
        return [*self._table.key, *self.columns]

    @property
    def data_columns(self) -> list[str]:
        return list(self.columns)

    def has_column(self, column: str) -> bool:
        return column in self.column_names

    @property
    def views(self) -> tuple[str, ...]:
        return tuple(sorted(self.view_set))

    def catalog(self) -> TableCatalog:
        """The real catalog, with the columns the plan will have added by then (nothing attached to them yet: a
        rollback undoes what the plan attached to a column, its indexes and constraints, before the column)."""
        real = self._table.catalog()
        added = [ColumnInfo(c, "") for c in self.column_names if c not in real.column_names]
        return dataclasses.replace(real, columns=(*real.columns, *added)) if added else real


class _RecordingBackend(SQLBackend):
    """The SQL backend with its execution replaced by a recording (Alembic's offline ``as_sql`` mode, pgroll's fake
    database): ``MigrationRunner`` carries the plan out against it exactly as against a real table, so the order of
    the units, the views at each rollout, the undo and the tidy-up at the end are the runner's and the backend's own,
    never a second walk. What it replaces is only what touches the database: the statements are kept instead of run,
    the lock and the state row are not taken, a backfill is one batch whose statement stands for all of them, and the
    table is the planned one (its columns after each step, the views made so far).

    ``stop_after``: raise after that many steps are applied, so the runner rolls them back and the undo is recorded
    (``rollback_sql``)."""

    table: Any

    def __init__(self, table: _PlannedTable, plan: MigrationPlan, *, stop_after: int | None = None) -> None:
        super().__init__(table)  # type: ignore[arg-type]  # the planned table stands in for the real one
        self.units: list[SqlUnit] = []
        self.shown: dict[str, list[str]] = {}  # the views made so far -> the columns they show
        self.mine = [self.d.view_name(table.qualified, a.name) for a in plan.apps]
        self.dropped: list[str] = []  # the plan's views dropped so far
        self.columns_before: dict[int, list[str]] = {}  # the table's columns before each step applied
        self.contract = first_contract_step(plan)
        # where a run from a terminal stops for a deploy: a unit before the first is start's, and so on
        self.bounds = [s.index for s in deploy_stops(plan) if 0 < s.index < len(plan.steps)]
        self.leg = 0
        self.stop_after = stop_after
        self.part = "start"
        self._doing: tuple[int, Step, bool] | None = None  # the step in hand: (position, step, applied yet)
        self._title = ""  # what the next unit is
        self._unit_step: Step | None = None  # the step the next unit belongs to (None: a view, the tidy-up)

    # ------------------------------------------------------------ no lock, no state: a recording changes nothing
    def in_progress(self, plan_name: str) -> bool:
        return False

    def resume_point(self, plan: MigrationPlan) -> int:
        return 0

    def _open_run(self, plan: MigrationPlan, resume: str = "continue") -> Resume | None:
        return None

    def _close_run(self, status: Status) -> bool:
        if status == "rolled_back":
            self.part = "rollback"
        gone = "the views the plan made" if status == "rolled_back" else "the views of the app versions that are gone"
        self._title, self._unit_step = f"at the end: drop {gone}", None
        return True

    # ------------------------------------------------------------ what the runner asks for, recorded
    def expose(self, app: AppVersion) -> None:
        if self._doing is None:
            why = "before the first step: the app it serves now reads through it"
        else:
            _, step, applied = self._doing
            why = f"after {step.name}, before it rolls out" if applied else f"before it rolls out with {step.name}"
        self._title, self._unit_step = f"the view of app {app.name} ({why})", None
        leg = self.leg
        if self._doing is not None and not self._doing[2] and self._doing[0] in self.bounds:
            self.leg -= 1  # a version that rolls out before a step where a run stops: its view comes before the stop
        try:
            super().expose(app)
        finally:
            self.leg = leg

    def on_tick(self, event: Event, apps: dict[str, float]) -> None:
        """The runner's events (the recorder watches the run as an observer): a step starts before its rollout."""
        if event.kind == "start" and event.step is not None and self.plan is not None:
            position = [s.name for s in self.plan.steps].index(event.step)
            self._doing = (position, self.plan.steps[position], False)
            self.part = "complete" if position >= self.contract else "start"
            self.leg = sum(b <= position for b in self.bounds)

    def _start(self, step: Step, position: int) -> None:
        self.columns_before[position] = list(self.table.columns)
        self._title = f"step {position + 1}: {step.name} [{step.phase}] -- {step.describe()}"
        self._unit_step = step

    def _applied(self, step: Step, position: int) -> None:
        self.table.columns = step.fit(self.table.columns)
        self._doing = (position, step, True)

    def apply(self, step: Step, *, position: int | None = None) -> None:
        assert position is not None
        self._start(step, position)
        super().apply(step, position=position)
        self._applied(step, position)

    def backfill_ranges(
        self, step: Step, *, after_id: Any = None, size: Callable[[], int | None] | None = None
    ) -> list[tuple[Any, Any]]:
        return [(None, None)]  # one batch stands for all: its statement binds each batch's first and last key

    def backfill_batch(self, step: Step, lo: Any, hi: Any, *, position: int = 0, batch: int = 0) -> int:
        self._start(step, position)
        quiet = tuple(self.d.quiet_triggers(self.table.db))
        self._step_unit(step, True, quiet, (), (), sql_batch(step, self), step.rows_per_batch())
        self._applied(step, position)
        return 0

    def step_done(self, step: Step, *, position: int) -> None:
        if self.stop_after is not None and position + 1 >= self.stop_after:
            raise _Recorded(self.stop_after)

    def undo(self, step: Step, *, position: int | None = None) -> None:
        assert position is not None
        self.part = "rollback"
        self._doing = None
        back = step.reverse()  # IrreversibleStepError where there is none: the runner reports rollback_failed
        self._title, self._unit_step = f"undo step {position + 1}: {step.name} -- {back.describe()}", back
        super().undo(step, position=position)
        self.table.columns = self.columns_before[position]

    # ------------------------------------------------------------ the executor: keep the statements
    def _step_unit(self, step: Step | None, transaction: bool, settings: tuple[str, ...], statements: tuple[str, ...],
                   reset: tuple[str, ...], batch: str | None = None, size: int | None = None) -> None:  # fmt: skip
        name, phase = (step.name, step.phase) if step else (None, None)
        chunk_ms = getattr(step, "chunk_ms", None) if batch is not None else None
        unit = SqlUnit(self._title, name, phase, transaction, settings, statements, reset, batch, size, self.part,
                       chunk_ms, 0 if self.part == "rollback" else self.leg)  # fmt: skip
        self.units.append(unit)
        self._see(list(statements))

    def _ddl(self, statements: list[str], save: Callable[[], None] | None = None, what: str = "DDL") -> None:
        statements = [s for s in statements if s]
        if what == "tidy view schemas":
            self._title = "at the end: drop the view schemas left empty"
        if statements or self._unit_step is not None:  # a step with no SQL still shows, saying so
            settings = tuple(self.d.ddl_prelude()) if statements else ()
            self._step_unit(self._unit_step, True, settings, tuple(statements), ())

    def _outside_transaction(
        self, produce: Callable[[], list[str]], cleanup: Step | None, save: Callable[[], None] | None, what: str
    ) -> None:
        statements = tuple(s for s in produce() if s)
        prelude, reset = tuple(self.d.session_prelude()), tuple(self.d.session_reset())
        self._step_unit(self._unit_step, False, prelude, statements, reset)

    # ------------------------------------------------------------ the planned catalog
    def view_statements(self, app: AppVersion, aliases: dict[str, str]) -> list[str]:
        """The views it would create count as made, with the columns they show (a later step, such as a drop of a
        column a view still shows, asks)."""
        statements = super().view_statements(app, aliases)
        if statements:
            name = self.d.view_name(self.table.qualified, app.name)
            self.table.view_set.add(name)
            self.shown[name] = list(self.view_mapping(app, aliases))
        return statements

    def view_columns(self, view: str) -> list[str]:
        return self.shown[view] if view in self.shown else super().view_columns(view)

    def _see(self, statements: list[str]) -> None:
        """Views the statements drop are gone for the steps after, and back when they create them again (a drop of
        a column rebuilds the views without it; the views ``view_statements`` makes were counted as made)."""
        for statement in statements:
            for name in self.mine:
                if statement == self.d.drop_view_sql(name):
                    self.table.view_set.discard(name)
                    self.dropped.append(name)
                elif statement.startswith("CREATE VIEW") and name in statement:
                    self.table.view_set.add(name)
                    self.dropped = [v for v in self.dropped if v != name]

    def view_without(self, view: str, column: str) -> list[str] | None:
        mapping = self.mapping_without(view, column)
        statements = super().view_without(view, column)
        if statements is not None and mapping is not None:
            self.shown[view] = list(mapping)
        return statements

    def _empty_view_homes(self, kept: set[str]) -> list[str]:
        """PostgreSQL keeps each version's view in a schema of its own: the ones whose views this run dropped would
        be left empty (unless something else lives there now), besides those empty already."""
        schemas = {v.rpartition(".")[0] for v in self.dropped if "." in v} - {v.rpartition(".")[0] for v in kept}
        return self.d.empty_view_homes(self.table.db, vacated=sorted(schemas))


class _Recorded(Exception):
    """Ends a recorded run after the steps whose undo is wanted (``rollback_sql``): the runner rolls them back."""

    def __init__(self, steps: int) -> None:
        super().__init__(f"recorded the first {steps} steps; now their undo")


def plan_sql(plan: MigrationPlan, table: DbTable) -> PlanSql:
    """The SQL ``MigrationRunner(table).execute_plan(plan)`` would run, step by step, changing nothing.

    The plan is checked first exactly as a run checks it (``PreflightError`` and the other refusals): a plan that
    would not run has no SQL.
    """
    return _plan_sql(plan, table, None)


def _plan_sql(plan: MigrationPlan, table: DbTable, upto: int | None, *, undo: bool = False) -> PlanSql:
    """Run ``plan`` with ``MigrationRunner`` against a recording of ``table``: all of it, or (``undo``) its first
    ``upto`` steps and then their rollback, whose units alone are returned."""
    recorder = _RecordingBackend(_PlannedTable(table), plan, stop_after=upto if undo else None)
    fail_at = plan.steps[0].name if undo and upto == 0 else None  # nothing applied: the rollback is the tidy-up
    result = MigrationRunner(table, backend=recorder, fail_at=fail_at, observers=[recorder]).execute_plan(plan)
    if result.status == "rollback_failed" and result.rollback_error is not None:
        raise result.rollback_error  # IrreversibleStepError, with the step's own reason
    wanted = "rolled_back" if undo else "completed"
    if result.status != wanted:
        raise result.error or RuntimeError(f"recording {plan.name!r} ended {result.status}")
    units = [u for u in recorder.units if (u.part == "rollback") == undo]
    d = table.db.dialect
    name = f"{plan.name} (undo of its first {upto} steps)" if undo else plan.name
    return PlanSql(name, table.qualified, d.name, tuple(units), tuple(d.session_sql()), d.begin_sql)


def phase_sql(plan: MigrationPlan, table: DbTable, part: Literal["start", "complete"]) -> PlanSql:
    """The SQL of ``labkit start`` (expand and migrate: up to where the new app version can deploy) or of
    ``labkit complete`` (the contract phase, and the tidy-up at the end)."""
    whole = plan_sql(plan, table)
    what = "expand and migrate" if part == "start" else "contract"
    return dataclasses.replace(whole, units=tuple(u for u in whole.units if u.part == part),
                               plan=f"{plan.name} ({what})")  # fmt: skip


def leg_sql(plan: MigrationPlan, table: DbTable, leg: int) -> PlanSql:
    """The SQL of one run from a terminal: ``leg`` 0 is ``labkit start``'s (up to the plan's first deploy stop),
    1 the first ``labkit complete``'s, and so on (``labkit.stops``)."""
    whole = plan_sql(plan, table)
    return dataclasses.replace(whole, units=tuple(u for u in whole.units if u.leg == leg),
                               plan=f"{plan.name} (run {leg + 1})")  # fmt: skip


def rollback_sql(plan: MigrationPlan, table: DbTable, steps: int | None = None) -> PlanSql:
    """What ``MigrationRunner`` runs to roll back the first ``steps`` steps of ``plan`` once they are applied (by
    default the expand and migrate phases, what ``labkit start`` does): their reverses, last first, then the views
    the plan made. ``IrreversibleStepError`` when one of them has no reverse."""
    return _plan_sql(plan, table, first_contract_step(plan) if steps is None else steps, undo=True)


def runnable_sql(plan: MigrationPlan, table: DbTable, part: Literal["all", "start", "complete"] = "all") -> list[str]:
    """The SQL of the plan as statements to run one by one in autocommit mode (psql, a driver), the batched
    backfill included as a loop that commits each batch: on PostgreSQL a procedure (created, called, dropped) that
    runs the very batch statement labkit runs. SQLite has no loops in SQL: there, run the plan with
    ``labkit start`` or export it to Alembic (``ValueError`` says so). A key of one column only, for now."""
    return script_of(plan, table, plan_sql(plan, table) if part == "all" else phase_sql(plan, table, part))


def script_of(plan: MigrationPlan, table: DbTable, sql: PlanSql) -> list[str]:
    """``sql`` (a plan's, a phase's or a rollback's) as statements to run one by one in autocommit mode."""
    d = table.db.dialect
    out = list(sql.session)
    for unit in sql.units:
        if unit.batch is not None:
            if d.name != "postgresql":
                raise InvalidArgumentError(
                    f"{d.name} has no loops in SQL for step {unit.step!r}'s batches: run the plan with labkit start, "
                    "or export it to Alembic (labkit export alembic)"
                )
            out += _procedure(plan, table, unit)
        elif unit.transaction:
            if unit.statements:
                out += [sql.begin, *unit.settings, *unit.statements, "COMMIT"]
        else:
            out += [*unit.settings, *unit.statements, *unit.reset]
    return out


def _procedure(plan: MigrationPlan, table: DbTable, unit: SqlUnit) -> list[str]:
    """A PL/pgSQL procedure that runs ``unit``'s batch statement over keyset batches, one transaction each: the
    boundaries are ``Keyset``'s own statements (the ones labkit's runner runs), executed with the loop's variables."""
    d = table.db.dialect
    if len(table.key) != 1:
        raise InvalidArgumentError(
            f"{table.qualified} has a key of {len(table.key)} columns: the loop batches over one, for now"
        )
    ks = table.keyset()
    key_type = table.catalog().column(table.key[0]).type
    step = plan.step(unit.step or "")
    pause = float(getattr(step, "pause", 0.0) or 0.0)
    name = d.quote(f"labkit_backfill_{table.name}_{unit.step}"[:63])

    def run(sql: str, into: str = "", using: str = "") -> str:
        return (f"EXECUTE {d.literal(as_sent('postgresql', sql))}" + (f" INTO {into}" if into else "")
                + (f" USING {using}" if using else "") + ";")  # fmt: skip

    upto = (run(ks.boundary, "labkit_hi", "labkit_lo, labkit_last, labkit_rows - 1") if unit.batch_size
            else "labkit_hi := labkit_last;")  # fmt: skip
    chunk_ms = getattr(step, "chunk_ms", None)
    # batch_size="auto": the next batch is the rows this one's pace fills in chunk_ms, at most twice as many
    resize = (f"    labkit_rows := greatest({MIN_ROWS}, least({MAX_ROWS}, labkit_rows * {int(GROWTH)}, (labkit_rows * "
              f"{chunk_ms:g} / greatest(extract(epoch FROM clock_timestamp() - labkit_began) * 1000, 0.1))::int));\n"
              if chunk_ms and unit.batch_size else "")  # fmt: skip
    settings = "".join(f"    EXECUTE {d.literal(s)};\n" for s in unit.settings)
    sleep = f"    PERFORM pg_sleep({pause});\n" if pause else ""
    body = (
        f"CREATE PROCEDURE {name}()\nLANGUAGE plpgsql AS $labkit$\n"
        f"DECLARE\n  labkit_lo {key_type};\n  labkit_hi {key_type};\n  labkit_last {key_type};\n"
        f"  labkit_rows bigint := {unit.batch_size or 0};\n  labkit_began timestamptz;\nBEGIN\n"
        f"  -- keyset batches over the key, fixed now: rows inserted from here on are the dual write's\n"
        f"  {run(ks.first(), 'labkit_lo')}\n"
        f"  {run(ks.first(desc=True), 'labkit_last')}\n"
        f"  WHILE labkit_lo IS NOT NULL LOOP\n"
        f"    {upto}\n"
        f"    labkit_hi := coalesce(labkit_hi, labkit_last);\n"
        f"    labkit_began := clock_timestamp();\n"
        f"{settings}"
        f"    {run(unit.batch or '', using='labkit_lo, labkit_hi')}\n"
        f"    COMMIT;  -- one short transaction per batch\n"
        f"{resize}"
        f"{sleep}"
        f"    {run(ks.next, 'labkit_lo', 'labkit_hi, labkit_last')}\n"
        f"  END LOOP;\nEND\n$labkit$"
    )
    return [body, f"CALL {name}()", f"DROP PROCEDURE {name}()"]
