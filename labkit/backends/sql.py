"""The database backend: carries out each step as SQL, with its progress saved in the database itself.

Every change and the record of it commit in one transaction, so a process killed at any point leaves the
data consistent and ``labkit_migrations`` says how far it got; running the same plan again resumes there.
Engine differences (triggers, views, locks, lock timeouts) live in the dialects: ``sqlite.py``, ``postgresql.py``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import time
import types
from collections.abc import Callable, Iterable
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from .. import keys, pgparse, sqltext
from .._common import check_name
from ..dispatch import require, sql_batch, sql_check, sql_statements
from ..errors import MigrationLockedError, PlanFileError, PlanMismatchError, RollbackUnderWayError
from ..planfile import plan_to_dict
from ..steps import RenameInView, SetDefault, StartDualWrite
from ..throttle import Load
from .base import BaseBackend, EngineFacts, Resume, Status
from .state import RunState, missing_access

if TYPE_CHECKING:
    from ..apps import AppVersion
    from ..catalog import TableCatalog
    from ..plan import MigrationPlan
    from ..steps import Step
    from .db import DbTable
    from .dialect import Session

OPERATIONAL = ("batch_size", "pause", "chunk_ms")  # how fast to go, not what to do: a resumed run may change them
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _code_identity(code: types.CodeType) -> str:
    """A function's code as text that is the same in every process (nested code objects included)."""
    consts = [_code_identity(c) if isinstance(c, types.CodeType) else repr(c) for c in code.co_consts]
    return f"{code.co_code.hex()}|{consts}|{code.co_names}"


def callable_identity(fn: Callable[..., Any]) -> str:
    """What a function computes, as far as it can be told without running it: its name, its bytecode and
    constants, and the values it closes over. Two lambdas that compute different things differ here."""
    module = getattr(fn, "__module__", "") or ""
    if module.startswith("labkit.course."):  # the course's modules were labkit.<name> before they moved (issue 31):
        module = "labkit." + module.removeprefix("labkit.course.")  # a run under way keeps its fingerprint
    parts = [module, getattr(fn, "__qualname__", type(fn).__qualname__)]
    code = getattr(fn, "__code__", None)
    if isinstance(code, types.CodeType):
        parts.append(_code_identity(code))
        for cell in getattr(fn, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            parts.append(callable_identity(value) if callable(value) else _ADDRESS.sub("", repr(value)))
    return "|".join(parts)


def fingerprint(plan: MigrationPlan) -> str:
    """Same steps, same fingerprint: what makes a resumed run the same plan (batch size and pause aside)."""

    def describe(step: Step) -> tuple[str, tuple[tuple[str, Any], ...]]:
        items = []
        for f in fields(step):
            if f.name.startswith("_") or f.name in OPERATIONAL:
                continue
            value = getattr(step, f.name)
            items.append((f.name, callable_identity(value) if callable(value) else value))
        return (type(step).__name__, tuple(items))

    text = repr([plan.name, [describe(s) for s in plan.steps], plan.apps])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def migration_running(db: Session, table: str) -> bool:
    """Does a process hold ``table``'s migration lock now (a run going on, not one cut off or stopped)? Probed by
    taking the lock and giving it back at once."""
    if not db.dialect.try_lock(db, table):
        return True
    db.dialect.unlock(db, table)
    return False


def live_versions(plan: MigrationPlan) -> list[str]:
    """The app versions that may still be running when ``plan`` completes, whose views it keeps: the newest, and the
    one deployed before the contract phase (after ``labkit start``), whose instances a rolling deploy of the newest
    replaces one by one. The others (v1) are gone before ``complete`` begins."""
    deployed = [s.deploy for s in plan.steps if s.deploy]
    before = [s.deploy for s in plan.steps if s.deploy and s.phase != "contract"]
    newest = deployed[-1] if deployed else (plan.apps[0].name if plan.apps else None)
    return list(dict.fromkeys(v for v in (before[-1] if before else None, newest) if v))


def fires_on_update(catalog: TableCatalog, step: Step) -> list[str]:
    """The user's triggers that an UPDATE by ``step`` (of its target column) fires."""
    target = getattr(step, "target", None) or getattr(step, "column", None)  # a backfill's target, a fix's column
    out = []
    for t in catalog.triggers:
        text = sqltext.normalize(t.definition).upper()
        if " UPDATE" not in text:
            continue
        listed = re.search(r"UPDATE OF (.*?) ON ", text)
        if listed is None or (target is not None and sqltext.mentions(listed.group(1), target)):
            out.append(t.name)
    return out


def plan_json(plan: MigrationPlan) -> str | None:
    """The plan as a plan file, kept with its state so that a terminal can finish or undo it (``labkit complete``);
    None for a plan a file cannot carry (a Python function with no SQL twin)."""
    try:
        return json.dumps(plan_to_dict(plan))
    except PlanFileError:
        return None


class SQLBackend(BaseBackend):
    """Runs steps on a table of a SQLite or PostgreSQL database."""

    def __init__(self, table: DbTable) -> None:
        self.table = table
        self.db = table.db
        self.dialect = self.d = table.db.dialect
        self.engine = self.d.name
        self.state = RunState(table.db, table.qualified)
        self.plan: MigrationPlan | None = None
        self._locked = False
        self._initial_views: set[str] = set()
        self._resumed = False
        self._fired: tuple[str, ...] = ()  # user triggers a backfill fired (where they could not be kept quiet)
        # each batched step's statement, made at its first batch: the same for every batch of the step (making it may
        # read the catalog; a step of 200 batches read it 200 times)
        self._batch_sql: dict[tuple[str, str], str] = {}

    # ---------------------------------------------------------------- facts
    def data_columns(self) -> list[str]:
        return self.table.data_columns

    def row_count(self) -> int:
        return self.table.row_count

    def facts(self, plan: MigrationPlan) -> EngineFacts:
        """One read of the catalog for the safety rules (the functions the plan's SQL defaults call, ...)."""
        denied = missing_access(self.db)  # labkit's state table, made by another role: say so, read nothing
        versions = [a.name for a in plan.apps] if len(plan.apps) > 1 else []  # one version: no view
        missing = self.d.missing_privileges(self.db, self.table.qualified, versions=versions)
        others = tuple(self.state.others_cut_off(plan.name)) if denied is None else ()
        return EngineFacts(
            self.engine,
            self.table.qualified,
            tuple(self.table.data_columns),
            self.table.row_count,
            lock_timeout_ms=self.d.lock_timeout_ms,
            catalog=self.table.catalog(),
            cut_off_runs=others,
            other_run_live=bool(others) and self._someone_runs(),
            quiet_triggers=bool(self.d.quiet_triggers(self.db)),
            missing_privileges=(*missing, *([str(denied)] if denied else [])),
            taken_views=self._taken_views(plan),
        )

    def _someone_runs(self) -> bool:
        return not self._locked and migration_running(self.db, self.table.qualified)

    def _taken_views(self, plan: MigrationPlan) -> tuple[str, ...]:
        """The views this plan's later versions would get that exist already, left by an earlier plan (kept by its
        completion for the app that may still use them); none for a run of this plan carried on."""
        if self.in_progress(plan.name):
            return ()
        names = (self.d.view_name(self.table.qualified, a.name) for a in plan.apps[1:])
        return tuple(v for v in names if v in self.table.views)

    def caveats(self) -> list[str]:
        if not self._fired:
            return []
        return [
            f"the backfill fired the user's trigger(s) {', '.join(self._fired)} on every row it wrote "
            f"({self.engine} cannot keep a session's writes from firing them); a rollback does not undo their effects"
        ]

    def check_step(self, step: Step) -> None:
        """Refuse a step with no SQL implementation, or one this database cannot run as given."""
        sql_check(step, self)  # first: an operation may say why it cannot run here
        require(step, self.table.qualified, self.engine, sql_batch if step.batched else sql_statements)

    # ---------------------------------------------------------------- state (labkit.backends.state owns the table)
    def _cut_off(self, plan_name: str) -> dict[str, Any] | None:
        return self.state.cut_off(plan_name)

    def in_progress(self, plan_name: str) -> bool:
        return self._cut_off(plan_name) is not None

    def resume_point(self, plan: MigrationPlan) -> int:
        # another process running a plan on the table is mid-step: its state is no resume point, and the steps would
        # be fitted to a table it is changing (two `labkit start` at once: the second read "column already exists")
        if self._someone_runs():
            raise MigrationLockedError(self.table.qualified)
        state = self._cut_off(plan.name)
        if state is None:
            return 0
        if state["fingerprint"] != fingerprint(plan):
            raise PlanMismatchError(plan.name, state.get("step"))
        return int(state["step_index"])

    def _save(self, step_index: int, batch: int = 0, last_key: Any = None, status: str | None = None) -> None:
        assert self.plan is not None
        step = self.plan.steps[step_index].name if step_index < len(self.plan.steps) else None
        self.state.save(self.plan.name, step_index, step, batch, last_key, status)

    # ---------------------------------------------------------------- lifecycle
    def begin(self, plan: MigrationPlan, *, resume: str = "continue") -> Resume:
        """Lock the migration, record the run (or find the cut-off run it resumes), and give the app version live
        now its view. A recording backend (``labkit.plan_sql``) replaces the first part only."""
        self.plan = plan
        self._initial_views = set(self.table.views)
        resumed = self._open_run(plan, resume)
        if resumed is not None:
            return resumed
        try:
            if len(plan.apps) > 1:  # one version (an index, a constraint): the app keeps using the table, no view
                self.expose(plan.apps[0])
        except BaseException:
            self._release()
            raise
        return Resume()

    def _open_run(self, plan: MigrationPlan, resume: str = "continue") -> Resume | None:
        """Take the migration's lock and write the run's state row; the cut-off run's resume point, or None for a
        fresh run. A run whose rollback did not finish is only carried on backwards (``resume="rollback"``)."""
        self.state.ensure()
        if not self.d.try_lock(self.db, self.table.qualified):
            raise MigrationLockedError(self.table.qualified)
        self._locked = True
        try:
            state = self._cut_off(plan.name)
            if state is not None:
                if state["fingerprint"] != fingerprint(plan):
                    raise PlanMismatchError(plan.name, state.get("step"))
                if state["status"] == "rolling_back" and resume != "rollback":
                    raise RollbackUnderWayError(plan.name, state.get("step"))
                self._resumed = True
                last = keys.decode(state["last_key"], self.table.key) if state.get("last_key") else state["last_id"]
                return Resume(state["step_index"], state["batch"], last)
            self.state.open(plan.name, fingerprint(plan), plan.steps[0].name, plan_json(plan))
            return None
        except BaseException:
            self._release()
            raise

    def step_done(self, step: Step, *, position: int) -> None:
        if step.batched:  # non-batched steps record this in their own transaction
            with self.db.transaction():
                self._save(position + 1)

    def lost(self) -> bool:
        return self.d.lost(self.db.conn)

    def finish(self, status: Status) -> None:
        if self.lost():  # the server already released the advisory lock with the session; the state is as committed
            self._locked = False
            return
        try:
            # stopped on request: the state stays 'running' at its last committed step or batch, to carry on from
            if self.plan is not None and status != "stopped" and self._close_run(status):
                self._tidy_views(status)
        finally:
            self._release()

    def _close_run(self, status: Status) -> bool:
        """Record how the run ended; False when there is no state to record it in."""
        if self.plan is None:
            return False
        # a rollback that failed stays under way (rolling_back): running the rollback again finishes it
        final = {"completed": "completed", "rolled_back": "rolled_back"}.get(status, "rolling_back")
        return self.state.close(self.plan.name, final)

    def _release(self) -> None:
        if self._locked:
            self.d.unlock(self.db, self.table.qualified)
            self._locked = False

    # ---------------------------------------------------------------- running DDL
    def _with_retries(self, attempt_once: Callable[[], None], what: str, on_give_up: Callable[[], None]) -> None:
        """Call ``attempt_once`` until it succeeds; after a lock timeout wait (backoff, jitter) and try again, at
        most ``max_attempts`` times, each retry an event; any other error, or the last one, is raised after
        ``on_give_up``."""
        attempt = 1
        while True:
            try:
                attempt_once()
                return
            except Exception as exc:
                delay = self.d.retry_delay(exc, attempt)
                if delay is None:
                    on_give_up()
                    raise
                if self.on_event:
                    self.on_event(
                        "retry",
                        f"{what}: lock timeout (attempt {attempt} of {self.d.max_attempts}); "
                        f"retrying in {delay * 1000:.0f} ms",
                    )
                time.sleep(delay)
                attempt += 1

    def _ddl(self, statements: list[str], save: Callable[[], None] | None = None, what: str = "DDL") -> None:
        """Run DDL and the state update in one transaction, under the engine's lock timeout, with retries."""
        statements = [s for s in statements if s]
        self._guard(statements)

        def once() -> None:
            with self.db.transaction():
                for sql in [*(self.d.ddl_prelude() if statements else []), *statements]:  # else: progress only
                    self.db.execute(sql)
                if save is not None:
                    save()

        self._with_retries(once, what, lambda: None)

    def _guard(self, statements: list[str]) -> list[str]:
        """On PostgreSQL, each statement parsed by the server's grammar before any is sent: one statement, one
        ALTER TABLE action (``UnsafeSqlError`` else: a plan's fragment smuggled in more)."""
        if self.engine == "postgresql":
            for sql in statements:
                pgparse.check_statement(sql)
        return statements

    def _outside_transaction(
        self, produce: Callable[[], list[str]], cleanup: Step | None, save: Callable[[], None] | None, what: str
    ) -> None:
        """Run statements that cannot run in a transaction (``CREATE INDEX CONCURRENTLY``) one by one, under the
        session's lock timeout, with the same retries as ``_ddl``; the progress is saved once they all ran.
        A try that fails for good is cleaned up (``cleanup``: e.g. the INVALID index a failed build leaves)."""

        def once() -> None:
            for sql in self.d.session_prelude():
                self.db.execute(sql)
            try:
                for sql in self._guard(produce()):  # asked again on each try: what is left over changes what to run
                    self.db.execute(sql)
            finally:
                for sql in self.d.session_reset():
                    self.db.execute(sql)
            if save is not None:
                with self.db.transaction():
                    save()

        def clean_up() -> None:
            if cleanup is not None:
                with contextlib.suppress(Exception):  # the error that matters is the build's, raised after this
                    for sql in sql_statements(cleanup, self):
                        self.db.execute(sql)

        self._with_retries(once, what, clean_up)

    def _run(self, step: Step, save: Callable[[], None] | None, what: str, *, undoing: bool = False) -> None:
        self.check_step(step)  # an undo step is checked here, when the rollback needs it
        # only PostgreSQL's CONCURRENTLY must run outside a transaction; on SQLite a statement outside one takes the
        # write lock without waiting for it (busy_timeout 0), and failed at once whenever the app held it
        if step.in_transaction or self.engine != "postgresql":
            self._ddl(sql_statements(step, self), save, what=what)
        else:  # a failed try is cleaned up by the step's reverse (an undo's failure is the rollback's to report)
            cleanup = step.reverse() if not undoing and step.reversible else None
            self._outside_transaction(lambda: sql_statements(step, self), cleanup, save, what)

    def apply(self, step: Step, *, position: int | None = None) -> None:
        save = (lambda: self._save(position + 1)) if position is not None and self.plan is not None else None
        self._run(step, save, step.name)

    def undo(self, step: Step, *, position: int | None = None) -> None:
        save = None
        if position is not None and self.plan is not None:
            save = lambda: self._save(position, status="rolling_back")  # noqa: E731
        undo = step.reverse()
        if undo.batched:  # a data fix's undo: batch by batch over the table, as the fix went
            self._undo_in_batches(undo, save)
            return
        self._run(undo, save, f"undo {step.name}", undoing=True)

    def _undo_in_batches(self, undo: Step, save: Callable[[], None] | None) -> None:
        """``undo``'s batch statement over each key range of the table, one short transaction each (user triggers
        kept quiet, as the fix's were), then the rollback's progress saved. Run again after an interruption, it
        finds only the rows not yet undone (the statement's own condition)."""
        self.check_step(undo)
        sql = sql_batch(undo, self)
        key = self._key(undo)
        for lo, hi in self.backfill_ranges(undo):
            with self.db.transaction():
                for setting in self.d.quiet_triggers(self.db):
                    self.db.execute(setting)
                self.db.execute(sql, [*keys.params(lo, key), *keys.params(hi, key)])
        if save is not None:
            with self.db.transaction():
                save()

    # ---------------------------------------------------------------- backfill
    def _key(self, step: Step) -> tuple[str, ...]:
        key = self.table.key
        if not key:
            raise step.refuse("the table has no primary key: labkit batches by key (add one first)")
        return key

    def keyset(self) -> keys.Keyset:
        """The table's keyset batches (``labkit.keys.Keyset``): the one definition of a batch, run here, in the
        PL/pgSQL loop of ``runnable_sql`` and in the Alembic revisions."""
        return self.table.keyset()

    def backfill_ranges(
        self, step: Step, *, after_id: Any = None, size: Callable[[], int | None] | None = None
    ) -> Iterable[tuple[Any, Any]]:
        """Key ranges from the smallest key (whatever its type, sign or number of columns; ``after_id``: the last
        key a cut-off run covered) to the last key now, each found when the one before is done: ``size()`` rows
        (default ``batch_size``; a batch sized by time asks anew each time)."""
        self._key(step)
        rows = step.rows_per_batch()
        return self.keyset().walk(self._fetch_key, size or (lambda: rows), after=after_id)

    def _fetch_key(self, sql: str, params: list[Any]) -> Any:
        """The key value of the first row ``sql`` returns, or None."""
        rows = self.db.query(sql, params)
        return keys.value_of(rows[0], self.table.key) if rows else None

    def load(self) -> Load:
        return self.d.load(self.db, self.table.qualified)

    def batch_predicate(self) -> str:
        """``WHERE`` of one batch: the rows whose key is between two bound keys (row values, for any key)."""
        return self.keyset().predicate

    def backfill_batch(self, step: Step, lo: Any, hi: Any, *, position: int = 0, batch: int = 0) -> int:
        sql = self._batch_sql.get((step.kind, step.name))
        if sql is None:
            sql = self._batch_sql[(step.kind, step.name)] = sql_batch(step, self)
        key = self._key(step)
        with self.db.transaction():  # one short transaction per batch, progress saved with it
            quiet = self.d.quiet_triggers(self.db)
            for setting in quiet:
                self.db.execute(setting)
            if not quiet and not self._fired:
                self._fired = tuple(fires_on_update(self.table.catalog(), step))
            rows: int = self.db.execute(sql, [*keys.params(lo, key), *keys.params(hi, key)]).rowcount
            if self.plan is not None:
                self._save(position, batch, hi)
        pause = getattr(step, "pause", 0.0)
        if pause:
            time.sleep(pause)
        return rows

    # ---------------------------------------------------------------- versioned views
    def expose(self, app: AppVersion) -> None:
        """Create the view of ``app``'s schema version, if every column it names exists."""
        statements = self.view_statements(app, aliases={})
        if statements:
            self._ddl(statements, what=f"view for {app.name}")

    def view_mapping(self, app: AppVersion, aliases: dict[str, str]) -> dict[str, str]:
        """What ``app``'s view shows: every column it names (its key first) -> the real column behind it."""
        check_name(app.name, kind="app version")
        key = list(self.table.key) or ["id"]
        wanted = [*key, *dict.fromkeys(c for c in [*app.reads, *app.writes] if c not in key)]
        # an alias the version does not name shows a column it must not write under its own name (RenameInView's
        # shadows: the column its name now means another's)
        return {**{c: aliases.get(c, c) for c in wanted}, **{n: r for n, r in aliases.items() if n not in wanted}}

    def view_statements(self, app: AppVersion, aliases: dict[str, str]) -> list[str]:
        """The view for ``app``: every column it names, ``aliases`` mapping a name it uses to a real column;
        nothing while a column it needs is missing, or when the view exists already."""
        mapping = self.view_mapping(app, aliases)
        name = self.d.view_name(self.table.qualified, app.name)
        if not all(real in self.table.column_names for real in mapping.values()) or name in self.table.views:
            return []
        key = tuple(self.table.key) or ("id",)
        view = self.d.create_view_sql(self.table.qualified, app.name, mapping, key)
        grants = self.d.view_grants_sql(self.db, self.table.qualified, name)
        return [*view, *self._view_defaults(mapping, name), *grants]

    def _view_defaults(self, mapping: dict[str, str], view: str) -> list[str]:
        """Defaults on a version's view that let the dual write tell who wrote a row (PostgreSQL).

        A copy's dual write fills a column from the other one when the writer left it out, and "left out" must be
        visible as NULL. So while the dual write runs, the new column has no default on the table (the plan sets it
        in the contract phase), and a view that shows the new column gives it that default itself: a version that
        knows the column and leaves it out still gets its default, while an old version's insert, which cannot
        name it, leaves it NULL. A view that shows the old column too gives the old column an explicit NULL
        default, so a new version that writes only the new column (a renamed ORM field) leaves the old one NULL
        for the dual write to fill, instead of the table's default taking its place.
        """
        if self.plan is None:
            return []
        shown = {real: name for name, real in mapping.items()}
        out = []
        planned = {s.column: s.default for s in self.plan.steps if isinstance(s, SetDefault) and s.default}
        catalog = self.table.catalog()
        for step in self.plan.steps:
            if not (isinstance(step, StartDualWrite) and (step.both_ways or step.back)) or step.target not in shown:
                continue
            if step.target in planned:
                out.append(self.d.view_default_sql(view, shown[step.target], planned[step.target]))
            old = catalog.column(step.source) if step.source in catalog.column_names else None
            if step.source in shown and old is not None and old.default is not None:
                # a NULL that is not the literal NULL (PostgreSQL takes DEFAULT NULL for no default), of the
                # column's type: from text, which every type has an explicit cast from (an enum has none from an
                # integer: renaming an enum or enum[] column with a default failed at switch_reads)
                out.append(self.d.view_default_sql(view, shown[step.source], f"CAST(NULLIF('', '') AS {old.type})"))
        return [s for s in out if s]

    def view_columns(self, view: str) -> list[str]:
        """The columns ``view`` shows."""
        return self.d.view_columns(self.db, view)

    def mapping_without(self, view: str, column: str) -> dict[str, str] | None:
        """What the plan's version view ``view`` shows (name -> real column) once ``column`` is dropped; None for a view
        of no version that may still run, or one that shows another's column under a name the plan did not give."""
        live = live_versions(self.plan) if self.plan else []
        version = next((v for v in live if self.d.view_name(self.table.qualified, v) == view), None)
        if version is None or self.plan is None:
            return None
        key = tuple(self.table.key) or ("id",)
        aliases = {n: r for s in self.plan.steps if isinstance(s, RenameInView) and s.version == version
                   for n, r in s.aliases().items()}  # fmt: skip
        app = next((a for a in self.plan.apps if a.name == version), None)
        if aliases and app is not None:  # the view the plan made: its names, the real columns behind them
            mapping = {n: r for n, r in self.view_mapping(app, aliases).items() if r != column}
            reals = list(mapping.values())
        else:
            shown = self.view_columns(view)
            mapping = {c: c for c in shown if c != column}
            reals = shown
        if not all(c in self.table.column_names for c in reals) or set(mapping) <= set(key):
            return None
        return mapping

    def view_without(self, view: str, column: str) -> list[str] | None:
        """The statements that create the plan's version view ``view`` again without ``column``, once it is
        dropped (a drop of the column would otherwise take the whole view away from the app version still running
        on it), with the names the plan gave it (a type change that keeps its name shows the copy under the
        column's). None for a view of no version that may still run (``live_versions``): it is dropped."""
        mapping = self.mapping_without(view, column)
        if mapping is None or self.plan is None:
            return None
        key = tuple(self.table.key) or ("id",)
        version = next(v for v in live_versions(self.plan) if self.d.view_name(self.table.qualified, v) == view)
        created = self.d.create_view_sql(self.table.qualified, version, mapping, key)
        grants = self.d.view_grants_sql(self.db, self.table.qualified, view)
        return [*created, *self._view_defaults(mapping, view), *grants]

    def _tidy_views(self, status: str) -> None:
        """After a rollback, drop the views of the plan's app versions that this run (or the cut-off run it
        resumed) made; after completion, keep only the newest version's view. A failed rollback leaves all."""
        assert self.plan is not None
        mine = {self.d.view_name(self.table.qualified, a.name) for a in self.plan.apps}
        existing = set(self.table.views) & mine
        if status == "completed":
            drop = existing - {self.d.view_name(self.table.qualified, v) for v in live_versions(self.plan)}
        elif status == "rolled_back":
            drop = existing if self._resumed else existing - self._initial_views
        else:
            drop = set()
        if drop:
            self._ddl([self.d.drop_view_sql(v) for v in sorted(drop)], what="tidy views")
        leftovers = self._empty_view_homes(existing - drop) if status != "rollback_failed" else []
        if leftovers:  # PostgreSQL: the labkit_<version> schemas whose views are all gone
            self._ddl(leftovers, what="tidy view schemas")

    def _empty_view_homes(self, kept: set[str]) -> list[str]:
        """``DROP SCHEMA`` for the view schemas that hold nothing now (``kept``: the plan's views still there)."""
        return self.d.empty_view_homes(self.db)
