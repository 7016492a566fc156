"""Batched backfill: fill the new column for the rows that existed before the dual write started."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._common import SqlByDialect, check_batch_size, sql_by_dialect, sql_for
from ..chunking import check_chunk_ms
from ..dispatch import (
    MemoryRun,
    SqlRun,
    memory_apply,
    memory_batch,
    memory_check,
    sql_batch,
    sql_check,
    sql_statements,
)
from ..errors import IrreversibleStepError, UnsafeSqlError
from .add_column import AddColumn
from .base import Meaning, Step

if TYPE_CHECKING:
    from .base import PlanWalk


MAX_PAUSE = 60.0  # seconds between two batches: more is a mistake, and the migration's lock is held meanwhile


@dataclass(frozen=True, repr=False)
class Backfill(Step):
    """Set ``target`` from ``source`` (a copy) or from ``compute(row)``, ``batch_size`` rows at a time.

    Batches are key ranges, each found when the one before it is done, up to the last key there was when the step
    started; rows inserted later are the dual write's job. With ``chunk_ms`` each batch is sized to take about that
    long (the first is ``batch_size`` rows).
    On a database the value comes from ``source`` or from ``sql``, an SQL expression over the row's columns
    (a trigger cannot call Python); the in-memory table uses ``source`` or ``compute``.
    ``batch_size=None`` means a single batch over the whole table: the one big ``UPDATE`` that locks
    everything (kept for contrast; the safety checks flag it).
    """

    kind = "backfill"
    column_fields = ("target", "source")
    phase = "migrate"
    batched = True

    table: str
    target: str
    source: str | None = None
    compute: Callable[[dict[str, Any]], Any] | None = None  # Python only: the value from the row (in memory)
    batch_size: int | None = 1000  # rows a batch (the first batch's, with chunk_ms); null: one UPDATE of every row
    sql: SqlByDialect = None  # an SQL expression over the row's columns, or {"postgresql": ..., "sqlite": ...}
    pause: float = 0.0  # seconds to wait between batches on a database, so app writes get the lock in between
    # a database's batches sized by time: each one the rows that take about chunk_ms, from what the recent batches
    # took (labkit.chunking); batch_size is then the first batch's size. None: every batch is batch_size rows
    chunk_ms: float | None = None
    # accept that the table's own UPDATE triggers fire for every row the backfill writes, where labkit cannot keep
    # them quiet (SQLite; a PostgreSQL role that may not SET session_replication_role): else refused before a change
    fire_triggers: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        computed = self.compute is not None or self.sql is not None
        if (self.source is None) == (not computed):
            raise self.refuse(
                "give either source (copy a column) or compute (a function of the row) and/or sql (an SQL expression)"
            )
        if self.batch_size is not None:
            check_batch_size(self.batch_size)
        object.__setattr__(self, "sql", sql_by_dialect(self.sql))  # a {dialect: expression} dict is welcome
        if (
            isinstance(self.pause, bool)
            or not isinstance(self.pause, (int, float))
            or not 0 <= self.pause <= MAX_PAUSE  # NaN fails both; infinity and a day held the migration's lock
        ):
            raise self.refuse(f"pause must be a number of seconds from 0 to {MAX_PAUSE}, got {self.pause!r}")
        if self.chunk_ms is not None:
            if self.batch_size is None:
                raise self.refuse("chunk_ms sizes batches: it needs a batch_size to start from, not None")
            try:
                object.__setattr__(self, "chunk_ms", check_chunk_ms(self.chunk_ms))
            except ValueError as exc:
                raise self.refuse(str(exc)) from None

    def reverse(self) -> Step:
        return UndoBackfill(self.table, self.target, label=f"undo_{self.name}")

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.target, *([self.source] if self.source else []))
        return list(columns)

    def rows_per_batch(self) -> int | None:
        return self.batch_size

    def describe(self) -> str:
        what = f"copy {self.source}" if self.source else "compute the value"
        size = "in one batch" if self.batch_size is None else f"in batches of {self.batch_size}"
        if self.chunk_ms is not None:
            size = f"in batches sized to about {self.chunk_ms:g} ms each (the first {self.batch_size:,} rows)"
        return f"{what} into {self.target} for existing rows, {size}"

    def track(self, walk: PlanWalk) -> None:
        walk.backfilled.add(self.target)
        walk.fed.add(self.target)

    def derive(self, meanings: dict[str, Meaning]) -> None:
        derive_copy(meanings, self.target, self.source, self.compute)


def derive_copy(meanings: dict[str, Meaning], target: str, source: str | None, compute: Meaning | None) -> None:
    """``target`` holds ``compute(row)``, or else what ``source`` holds (a backfill's and a dual write's meaning)."""
    if target in meanings:
        return
    if compute is not None:
        meanings[target] = compute
    elif source is not None and source in meanings:
        meanings[target] = meanings[source]


def refuse_sql_only(step: Step, compute: Meaning | None, sql: SqlByDialect) -> None:
    """The in-memory table runs Python: a value given only as SQL cannot be computed there."""
    if sql and compute is None:
        raise step.refuse("the in-memory table needs compute= (a Python function), not only sql=")


def refuse_python_only(step: Step, compute: Meaning | None, sql: SqlByDialect, dialect: str) -> None:
    """A database cannot call Python: a computed value needs its SQL expression for this dialect."""
    if compute is not None and sql_for(sql, dialect) is None:
        raise step.refuse(f"a trigger cannot call Python: give sql= (an SQL expression for {dialect}) for this step")


def refuse_what_does_not_compile(step: Step, sql: SqlByDialect, run: SqlRun) -> None:
    """Ask the database to compile the expression against the table (no row is read), before any trigger
    holds it: a typo becomes a refusal now, not a failing trigger on the app's next write."""
    expr = sql_for(sql, run.dialect.name)
    if expr is None:
        return
    try:  # one expression, by the engine's own grammar where it has one to hand (PostgreSQL's parser)
        run.dialect.check_expression(expr)
    except UnsafeSqlError as exc:
        raise step.refuse(f"its SQL expression {expr!r} is not one expression: refused, nothing sent") from exc
    try:  # no row: the expression is compiled, never run (and SQLite's driver refuses a second statement)
        run.db.query(f"SELECT ({expr}) FROM {run.table.ref} WHERE 1 = 0")
    except Exception as exc:  # the driver's own words say what is wrong with it
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise step.refuse(f"its SQL expression {expr!r} does not compile against {run.table.name!r}: {first}") from exc


@dataclass(frozen=True, repr=False)
class UndoBackfill(Step):
    """Put back the values a backfill overwrote (used by rollback, batch by batch in reverse)."""

    kind = "undo_backfill"
    column_fields = ("target",)
    phase = "migrate"

    table: str
    target: str

    def reverse(self) -> Step:
        raise IrreversibleStepError(self.name, "it only exists to roll a backfill back")

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.target)
        return list(columns)

    def describe(self) -> str:
        return f"restore the values of {self.target} from before the backfill"


# ---------------------------------------------------------------- in memory: a batch is a slice, journaled


@memory_check.register
def _check_in_memory(step: Backfill, run: MemoryRun) -> None:
    refuse_sql_only(step, step.compute, step.sql)


@memory_batch.register
def _batch_in_memory(step: Backfill, run: MemoryRun, lo: int, hi: int) -> int:
    t = run.table
    start, stop = t.positions_between(lo, hi)
    if step.compute is not None:
        values = [step.compute(row) for row in t.rows_slice(start, stop)]
    else:
        assert step.source is not None  # __post_init__: a source or a computation
        values = t.read_slice(step.source, start, stop)
    old = t.read_slice(step.target, start, stop)
    t.write_slice(step.target, start, values)
    run.journal.setdefault(step.target, []).append((t.ids[start:stop], old))  # an array slice: 8 bytes an id
    return stop - start


@memory_apply.register
def _undo_in_memory(step: UndoBackfill, run: MemoryRun) -> None:
    t = run.table
    for ids, old in reversed(run.journal.pop(step.target, [])):
        start, stop = t.positions_between(ids[0], ids[-1])
        if t.ids[start:stop] == ids:
            t.write_slice(step.target, start, old)
        else:  # rows were deleted meanwhile: put back the survivors one by one
            for row_id, value in zip(ids, old):
                s, e = t.positions_between(row_id, row_id)
                if s != e:
                    t.write_slice(step.target, s, [value])


# ---------------------------------------------------------------- SQL: one UPDATE per key range


@sql_check.register
def _check_sql(step: Backfill, run: SqlRun) -> None:
    refuse_python_only(step, step.compute, step.sql, run.dialect.name)
    refuse_what_does_not_compile(step, step.sql, run)


@sql_batch.register
def _batch_sql(step: Backfill, run: SqlRun) -> str:
    d = run.dialect
    value = d.quote(step.source) if step.source else f"({sql_for(step.sql, d.name)})"
    t, g = run.table.ref, d.quote(step.target)
    return f"UPDATE {t} SET {g} = {value} WHERE {run.batch_predicate()}"


@sql_statements.register
def _undo_sql(step: UndoBackfill, run: SqlRun) -> list[str]:
    """Nothing to write: the column the backfill filled was added by this plan, and the next undo drops it.

    (Setting it back to its default first was one UPDATE over the whole table: a writer waited 1.7 s behind it
    at 500k rows. Batching it would still rewrite every row, and fight the NOT NULL check a copy carries.)
    A column that existed before the plan had values nobody journaled: that undo is refused."""
    plan_steps = run.plan.steps if run.plan else ()
    if not any(isinstance(s, AddColumn) and s.column == step.target for s in plan_steps):
        raise IrreversibleStepError(
            step.name, f"{step.target!r} existed before the plan and its old values were not journaled"
        )
    return []
