"""The database backend: carries out each step as SQL, with its progress saved in the database itself.

Every change and the record of it commit in one transaction, so a process killed at any point leaves the
data consistent and ``labkit_migrations`` says how far it got; running the same plan again resumes there.
Engine differences (triggers, views, locks, lock timeouts) live in the dialects: ``sqlite.py``, ``postgresql.py``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from .._common import check_name
from ..errors import IrreversibleStepError, MigrationLockedError, PlanMismatchError, StepDoesNotFitError
from ..steps import (
    AddColumn,
    Backfill,
    DropColumn,
    RemoveView,
    RenameColumnInPlace,
    RenameInView,
    StartDualWrite,
    Step,
    StopDualWrite,
    SwitchReads,
    UndoBackfill,
)
from .base import BaseBackend, Resume

if TYPE_CHECKING:
    from ..apps import AppVersion
    from ..db import DbTable
    from ..plan import MigrationPlan

STATE = "labkit_migrations"


OPERATIONAL = ("batch_size", "pause")  # how fast to go, not what to do: a resumed run may change them


def fingerprint(plan: MigrationPlan) -> str:
    """Same steps, same fingerprint: what makes a resumed run the same plan (batch size and pause aside)."""

    def describe(step: Step) -> tuple:
        items = []
        for f in fields(step):
            if f.name.startswith("_") or f.name in OPERATIONAL:
                continue
            value = getattr(step, f.name)
            items.append((f.name, getattr(value, "__qualname__", None) if callable(value) else value))
        return (type(step).__name__, tuple(items))

    text = repr([plan.name, [describe(s) for s in plan.steps], plan.apps])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def sql_for(step: Any, dialect: str) -> str | None:
    """The step's SQL expression for this engine (``sql=`` may be one string or ``{dialect: expression}``)."""
    sql = getattr(step, "sql", None)
    if sql is None or isinstance(sql, str):
        return sql
    return dict(sql).get(dialect)


class SQLBackend(BaseBackend):
    """Runs steps on a table of a SQLite or PostgreSQL database."""

    def __init__(self, table: DbTable) -> None:
        self.table = table
        self.db = table.db
        self.d = table.db.dialect
        self.dialect = self.d.name
        self.transactional_ddl = True  # both engines roll DDL back with the transaction
        self._plan: MigrationPlan | None = None
        self._locked = False
        self._initial_views: set[str] = set()
        self._resumed = False

    # ---------------------------------------------------------------- facts
    def data_columns(self) -> list[str]:
        return self.table.data_columns

    def row_count(self) -> int:
        return self.table.row_count

    def check_step(self, step: Step) -> None:
        """Refuse what a database cannot run: a computed value given only as a Python function."""
        if isinstance(step, (Backfill, StartDualWrite, StopDualWrite)) and step.compute is not None:
            if sql_for(step, self.dialect) is None:
                raise StepDoesNotFitError(
                    step.name,
                    self.table.name,
                    f"a trigger cannot call Python: give sql= (an SQL expression for {self.dialect}) for this step",
                )

    # ---------------------------------------------------------------- state
    def _ensure_state(self) -> None:
        if STATE not in self.db.tables():
            with self.db.transaction():
                self.db.execute(self.d.state_table_sql(STATE))

    def _state(self, plan_name: str) -> dict[str, Any] | None:
        if STATE not in self.db.tables():
            return None
        p = self.d.param
        cur = self.db.execute(
            f"SELECT plan, fingerprint, step_index, batch, last_id, status FROM {STATE} "
            f"WHERE table_name = {p} AND plan = {p}",
            [self.table.name, plan_name],
        )
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip(["plan", "fingerprint", "step_index", "batch", "last_id", "status"], row))

    def _cut_off(self, plan_name: str) -> dict[str, Any] | None:
        state = self._state(plan_name)
        return state if state and state["status"] in ("running", "rolling_back") else None

    def in_progress(self, plan_name: str) -> bool:
        return self._cut_off(plan_name) is not None

    def resume_point(self, plan: MigrationPlan) -> int:
        state = self._cut_off(plan.name)
        if state is None:
            return 0
        if state["fingerprint"] != fingerprint(plan):
            raise PlanMismatchError(plan.name)
        return state["step_index"]

    def _save(self, step_index: int, batch: int = 0, last_id: int | None = None, status: str | None = None) -> None:
        assert self._plan is not None
        p = self.d.param
        step = self._plan.steps[step_index].name if step_index < len(self._plan.steps) else None
        sets = f"step_index = {p}, step = {p}, batch = {p}, last_id = {p}, updated_at = {self.d.now}"
        params: list[Any] = [step_index, step, batch, last_id]
        if status:
            sets += f", status = {p}"
            params.append(status)
        self.db.execute(
            f"UPDATE {STATE} SET {sets} WHERE table_name = {p} AND plan = {p}",
            [*params, self.table.name, self._plan.name],
        )

    # ---------------------------------------------------------------- lifecycle
    def begin(self, plan: MigrationPlan, *, resume: str = "continue") -> Resume:
        self._ensure_state()
        if not self.d.try_lock(self.db, self.table.name):
            raise MigrationLockedError(self.table.name)
        self._locked = True
        self._plan = plan
        self._initial_views = set(self.table.views)
        try:
            state = self._cut_off(plan.name)
            if state is not None:
                if state["fingerprint"] != fingerprint(plan):
                    raise PlanMismatchError(plan.name)
                self._resumed = True
                return Resume(state["step_index"], state["batch"], state["last_id"])
            p = self.d.param
            with self.db.transaction():
                self.db.execute(
                    f"DELETE FROM {STATE} WHERE table_name = {p} AND plan = {p}", [self.table.name, plan.name]
                )
                self.db.execute(
                    f"INSERT INTO {STATE} (table_name, plan, fingerprint, step_index, step, batch, status, "
                    f"started_at, updated_at) VALUES ({p}, {p}, {p}, 0, {p}, 0, 'running', {self.d.now}, {self.d.now})",
                    [self.table.name, plan.name, fingerprint(plan), plan.steps[0].name],
                )
            if plan.apps:
                self.expose(plan.apps[0])
            return Resume()
        except BaseException:
            self._release()
            raise

    def step_done(self, step: Step, *, position: int) -> None:
        if step.batched:  # non-batched steps record this in their own transaction
            with self.db.transaction():
                self._save(position + 1)

    def finish(self, status: str) -> None:
        try:
            if self._plan is not None and STATE in self.db.tables():
                final = {"completed": "completed", "rolled_back": "rolled_back"}.get(status, "rollback_failed")
                with self.db.transaction():
                    p = self.d.param
                    self.db.execute(
                        f"UPDATE {STATE} SET status = {p}, updated_at = {self.d.now} "
                        f"WHERE table_name = {p} AND plan = {p}",
                        [final, self.table.name, self._plan.name],
                    )
                self._tidy_views(status)
        finally:
            self._release()

    def _release(self) -> None:
        if self._locked:
            self.d.unlock(self.db, self.table.name)
            self._locked = False

    # ---------------------------------------------------------------- running DDL
    def _ddl(self, statements: list[str], save: Callable[[], None] | None = None, what: str = "DDL") -> None:
        """Run DDL and the state update in one transaction, under the engine's lock timeout, with retries."""
        statements = [s for s in statements if s]
        attempt = 1
        while True:
            try:
                with self.db.transaction():
                    for sql in self.d.ddl_prelude():
                        self.db.execute(sql)
                    for sql in statements:
                        self.db.execute(sql)
                    if save is not None:
                        save()
                return
            except Exception as exc:
                delay = self.d.retry_delay(exc, attempt)
                if delay is None:
                    raise
                if self.on_event:
                    self.on_event(
                        "retry",
                        f"{what}: lock timeout (attempt {attempt} of {self.d.max_attempts}); "
                        f"retrying in {delay * 1000:.0f} ms",
                    )
                time.sleep(delay)
                attempt += 1

    def _statements_for(self, step: Step) -> list[str]:
        handler = {
            AddColumn: self._add_column,
            DropColumn: self._drop_column,
            StartDualWrite: self._start_dual_write,
            StopDualWrite: self._stop_dual_write,
            SwitchReads: self._switch_reads,
            RenameColumnInPlace: self._rename,
            UndoBackfill: self._undo_backfill,
            RenameInView: self._rename_in_view,
            RemoveView: self._remove_view,
        }.get(type(step))
        if handler is None:
            raise StepDoesNotFitError(step.name, self.table.name, f"the {self.dialect} backend cannot run this step")
        return handler(step)

    def apply(self, step: Step, *, position: int | None = None) -> None:
        save = (lambda: self._save(position + 1)) if position is not None and self._plan is not None else None
        self._ddl(self._statements_for(step), save, what=step.name)

    def undo(self, step: Step, *, position: int | None = None) -> None:
        reverse = step.reverse()
        if isinstance(reverse, UndoBackfill) and not self._added_by_plan(reverse.target):
            raise IrreversibleStepError(
                step.name, f"{reverse.target!r} existed before the plan and its old values were not journaled"
            )
        save = None
        if position is not None and self._plan is not None:
            save = lambda: self._save(position, status="rolling_back")  # noqa: E731
        self._ddl(self._statements_for(reverse), save, what=f"undo {step.name}")

    def _added_by_plan(self, column: str) -> bool:
        return self._plan is not None and any(isinstance(s, AddColumn) and s.column == column for s in self._plan.steps)

    # ---------------------------------------------------------------- one method per step (returns its SQL)
    def _add_column(self, step: AddColumn) -> list[str]:
        if self.table.has_column(step.column):  # safe to re-run: a resumed run may meet it done
            return []
        return [
            self.d.add_column_sql(self.table.name, step.column, step.sql_type or "TEXT", step.default, step.not_null)
        ]

    def _drop_column(self, step: DropColumn) -> list[str]:
        if not self.table.has_column(step.column):
            return []
        views = [v for v in self.table.views if step.column in self.d.view_columns(self.db, v)]
        return [*(self.d.drop_view_sql(v) for v in views), self.d.drop_column_sql(self.table.name, step.column)]

    def _start_dual_write(self, step: StartDualWrite) -> list[str]:
        return self.d.dual_write_sql(
            self.table.name, step.source, step.target, sql_for(step, self.dialect), step.both_ways
        )

    def _stop_dual_write(self, step: StopDualWrite) -> list[str]:
        return self.d.drop_dual_write_sql(self.table.name, step.source, step.target)

    def _switch_reads(self, step: SwitchReads) -> list[str]:
        # Readers move when their app version rolls out; its versioned view is created then (expose).
        return []

    def _rename(self, step: RenameColumnInPlace) -> list[str]:
        cols = self.table.column_names
        if step.new in cols and step.old not in cols:
            return []
        return [
            f"ALTER TABLE {self.d.quote(self.table.name)} "
            f"RENAME COLUMN {self.d.quote(step.old)} TO {self.d.quote(step.new)}"
        ]

    def _rename_in_view(self, step: RenameInView) -> list[str]:
        app = next((a for a in (self._plan.apps if self._plan else ()) if a.name == step.version), None)
        if app is None:
            raise StepDoesNotFitError(step.name, self.table.name, f"the plan has no app version {step.version!r}")
        return self._view_statements(app, aliases={step.new: step.old})

    def _remove_view(self, step: RemoveView) -> list[str]:
        name = self.d.view_name(self.table.name, step.version)
        return [self.d.drop_view_sql(name)] if name in self.table.views else []

    def _undo_backfill(self, step: UndoBackfill) -> list[str]:
        # The column was added by this plan: before its backfill it held its default, and the next undo
        # drops it. (A pre-existing column is refused in undo(): its old values are not journaled.)
        default = next(
            (
                s.default
                for s in (self._plan.steps if self._plan else [])
                if isinstance(s, AddColumn) and s.column == step.target
            ),
            None,
        )
        q = self.d.quote
        return [f"UPDATE {q(self.table.name)} SET {q(step.target)} = {self.d.literal(default)}"]

    # ---------------------------------------------------------------- backfill
    def backfill_ranges(self, step: Backfill, *, after_id: int | None = None) -> list[tuple[int, int]]:
        """Primary-key ranges of ``batch_size`` rows, fixed now. Each boundary is one short index walk
        (keyset: ``WHERE id > last ... OFFSET size - 1``): no million ids pulled into Python (that would stall
        the app's own threads), and no window over the whole table (as slow as the backfill itself on SQLite)."""
        q, p = self.d.quote, self.d.param
        t = q(self.table.name)
        after = -1 if after_id is None else after_id
        first, last = self.db.query(f"SELECT min(id), max(id) FROM {t} WHERE id > {p}", [after])[0]
        if first is None:
            return []
        if step.batch_size is None:
            return [(first, last)]
        ranges, lo = [], first
        while True:
            row = self.db.query(
                f"SELECT id FROM {t} WHERE id >= {p} ORDER BY id LIMIT 1 OFFSET {p}", [lo, step.batch_size - 1]
            )
            hi = row[0][0] if row else last
            ranges.append((lo, hi))
            if hi >= last:
                return ranges
            lo = hi + 1

    def backfill_batch(self, step: Backfill, lo: int, hi: int, *, position: int = 0, batch: int = 0) -> int:
        q, p = self.d.quote, self.d.param
        value = q(step.source) if step.source else f"({sql_for(step, self.dialect)})"
        sql = f"UPDATE {q(self.table.name)} SET {q(step.target)} = {value} WHERE id BETWEEN {p} AND {p}"
        with self.db.transaction():  # one short transaction per batch, progress saved with it
            rows = self.db.execute(sql, [lo, hi]).rowcount
            if self._plan is not None:
                self._save(position, batch, hi)
        if step.pause:
            time.sleep(step.pause)
        return rows

    # ---------------------------------------------------------------- versioned views
    def expose(self, app: AppVersion) -> None:
        """Create the view of ``app``'s schema version, if every column it names exists."""
        statements = self._view_statements(app, aliases={})
        if statements:
            self._ddl(statements, what=f"view for {app.name}")

    def _view_statements(self, app: AppVersion, aliases: dict[str, str]) -> list[str]:
        """The view for ``app``: every column it names, ``aliases`` mapping a name it uses to a real column."""
        check_name(app.name, kind="app version")
        cols = self.table.column_names
        wanted = ["id", *dict.fromkeys([*app.reads, *app.writes])]
        mapping = {c: aliases.get(c, c) for c in wanted}
        name = self.d.view_name(self.table.name, app.name)
        if not all(real in cols for real in mapping.values()) or name in self.table.views:
            return []
        return self.d.create_view_sql(self.table.name, app.name, mapping)

    def _tidy_views(self, status: str) -> None:
        """After a rollback, drop the views of the plan's app versions that this run (or the cut-off run it
        resumed) made; after completion, keep only the newest version's view. A failed rollback leaves all."""
        assert self._plan is not None
        mine = {self.d.view_name(self.table.name, a.name) for a in self._plan.apps}
        existing = set(self.table.views) & mine
        if status == "completed":
            deployed = [s.deploy for s in self._plan.steps if s.deploy]
            newest = deployed[-1] if deployed else (self._plan.apps[0].name if self._plan.apps else None)
            drop = existing - {self.d.view_name(self.table.name, newest)} if newest else set()
        elif status == "rolled_back":
            drop = existing if self._resumed else existing - self._initial_views
        else:
            drop = set()
        if drop:
            self._ddl([self.d.drop_view_sql(v) for v in sorted(drop)], what="tidy views")
