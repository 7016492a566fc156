"""Fix the rows a constraint would refuse (NULLs before NOT NULL, duplicates before UNIQUE), in batches, journaled.

A constraint cannot be validated over data that breaks it: ``VALIDATE`` fails on the first NULL, a unique index
build on the first duplicate, and the plan rolls back. So the data is fixed first, while the app writes: each
batch an ``UPDATE ... WHERE <where> AND <the batch's key range>``, its own short transaction (PostgreSQL's row locks
on the rows it fixes only; user triggers kept quiet, as a backfill's). Each fixed row keeps its old and its new value
in the ``journal`` column (``text[]``: ``ARRAY[old::text, new::text]``, each value's text form, which compares and
casts back exactly for every type, json, point and arrays included), which the plan adds first and drops in its
contract phase: a rollback puts back the old value of every row still holding what the fix wrote, batch by batch as
the fix went, and leaves alone a row the app has written since (its write is the newer truth). A journal of the
column's own array type (plans built before labkit 0.1's text journals) is still read, compared by text form.
PostgreSQL only: SQLite cannot change a column's NOT NULL or add a constraint in place, which is what a fix prepares
for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import pgparse
from .._common import check_batch_size, check_name
from ..chunking import check_chunk_ms
from ..dispatch import SqlRun, sql_batch, sql_check, sql_statements
from ..errors import IrreversibleStepError, UnsafeSqlError
from .base import Step
from .dual_write import postgres_trigger_names

if TYPE_CHECKING:
    from .base import PlanWalk


@dataclass(frozen=True, repr=False)
class FixRows(Step):
    """Set ``column`` to ``value`` on the rows where ``where`` holds, ``batch_size`` rows of the table at a time,
    each row's old and new value kept in ``journal`` so a rollback can put the old one back."""

    engines = frozenset({"postgresql"})
    elsewhere = "fix rows before a constraint (the constraint itself needs PostgreSQL)"

    kind = "fix_rows"
    column_fields = ("column", "journal")
    phase = "migrate"
    batched = True

    table: str
    column: str
    where: str  # an SQL condition over the row: the rows to fix, e.g. "email IS NULL"
    value: str  # an SQL expression over the row: the value they get, e.g. "'unknown'" or "email || '+' || id"
    journal: str  # a column the plan adds first, text[]: each fixed row's [old, new] as text
    batch_size: int = 1000  # rows of the table a batch walks (the first batch's, with chunk_ms)
    chunk_ms: float | None = None  # each batch sized to take about this long (labkit.chunking); None: batch_size
    fire_triggers: bool = False  # accept that the table's UPDATE triggers fire for each row fixed (see Backfill)

    def __post_init__(self) -> None:
        super().__post_init__()
        check_batch_size(self.batch_size)
        if self.column == self.journal:
            raise self.refuse("the journal is a column of its own, not the column it keeps")
        for text, what in ((self.where, "where"), (self.value, "value")):
            if not isinstance(text, str) or not text.strip():
                raise self.refuse(f"{what} is an SQL expression, got {text!r}")
            try:
                pgparse.check_expression(text)
            except UnsafeSqlError as exc:
                raise self.refuse(f"{what} {text!r} is not one SQL expression: refused, nothing sent") from exc
        if self.chunk_ms is not None:
            try:
                object.__setattr__(self, "chunk_ms", check_chunk_ms(self.chunk_ms))
            except ValueError as exc:
                raise self.refuse(str(exc)) from None

    def reverse(self) -> Step:
        return UndoFixRows(self.table, self.column, self.journal, self.batch_size, label=f"undo_{self.name}")

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.column, self.journal)
        return list(columns)

    def rows_per_batch(self) -> int | None:
        return self.batch_size

    def sql_texts(self) -> list[str]:
        return [self.where, self.value]

    def describe(self) -> str:
        size = (f"batches sized to about {self.chunk_ms:g} ms each" if self.chunk_ms is not None
                else f"batches of {self.batch_size:,} rows")  # fmt: skip
        return f"set {self.column} = {self.value} where {self.where}, in {size} (old values kept in {self.journal})"

    def track(self, walk: PlanWalk) -> None:
        walk.fed.add(self.column)


@dataclass(frozen=True, repr=False)
class UndoFixRows(Step):
    """Put back the old value of every row a ``FixRows`` fixed and nobody has written since (used by rollback)."""

    engines = frozenset({"postgresql"})
    elsewhere = FixRows.elsewhere

    kind = "undo_fix_rows"
    column_fields = ("column", "journal")
    phase = "migrate"
    batched = True  # as the fix: a batch of the table's rows a transaction, not one UPDATE of every fixed row

    table: str
    column: str
    journal: str  # the fix's journal column: each fixed row's [old, new]
    batch_size: int = 1000  # rows of the table a batch walks

    def rows_per_batch(self) -> int | None:
        return self.batch_size

    def reverse(self) -> Step:
        raise IrreversibleStepError(self.name, "it only exists to roll a fix back")

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.column, self.journal)
        return list(columns)

    def describe(self) -> str:
        return f"put back the values of {self.column} that the fix replaced (from {self.journal})"


@dataclass(frozen=True, repr=False)
class GuardFix(Step):
    """Watch the app's writes of ``column`` while a fix's journal exists: a row whose ``column`` the app writes
    after the fix reached it (any value, the one it read included: an ORM saving the whole row) has its journal entry
    cleared, so a rollback leaves the app's write where it is. A trigger on ``UPDATE OF column``: what a write
    names, not whether the value changed."""

    engines = frozenset({"postgresql"})
    elsewhere = FixRows.elsewhere

    kind = "guard_fix"
    column_fields = ("column", "journal")
    phase = "migrate"

    table: str
    column: str
    journal: str  # the fix's journal column

    def reverse(self) -> Step:
        return DropGuard(self.table, self.column, self.journal, label=f"undo_{self.name}")

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.column, self.journal)
        return list(columns)

    def describe(self) -> str:
        return (f"watch the app's writes of {self.column}: a row it writes after the fix keeps its write on rollback "
                f"(its entry in {self.journal} cleared)")  # fmt: skip


@dataclass(frozen=True, repr=False)
class DropGuard(Step):
    """Drop a ``GuardFix``'s trigger (used by rollback, after the fix is undone)."""

    engines = frozenset({"postgresql"})
    elsewhere = FixRows.elsewhere

    kind = "drop_guard"
    column_fields = ("column", "journal")
    phase = "migrate"

    table: str
    column: str
    journal: str  # the fix's journal column, whose guard it drops

    def reverse(self) -> Step:
        raise IrreversibleStepError(self.name, "it only exists to roll a guard back")

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.journal)
        return list(columns)

    def describe(self) -> str:
        return f"stop watching the app's writes of {self.column} (the fix is undone)"


@dataclass(frozen=True, repr=False)
class DropJournals(Step):
    """Drop the journal columns of the plan's data fixes, all in one transaction, once no rollback can need them
    (the contract phase). One step for every journal: two drops in a row would leave the first one's fix unable
    to roll back if the second failed."""

    engines = frozenset({"postgresql"})
    elsewhere = FixRows.elsewhere

    kind = "drop_journals"
    phase = "contract"

    table: str
    columns: tuple[str, ...]  # the journal columns to drop

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "columns", tuple(check_name(c) for c in self.columns))
        if not self.columns:
            raise self.refuse("give the journal columns to drop")

    def reverse(self) -> Step:
        raise IrreversibleStepError(self.name, "the journals of the data fixes are gone: the fixes stay")

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, *self.columns)
        return [c for c in columns if c not in self.columns]

    def describe(self) -> str:
        return f"drop the data fixes' journal column(s) {', '.join(self.columns)} (the fixes can no longer be undone)"


@sql_check.register
def _check(step: FixRows, run: SqlRun) -> None:
    for text in (step.where, step.value):  # compiled against the table, no row read: a typo refused now
        try:
            run.db.query(f"SELECT ({text}) FROM {run.table.ref} WHERE 1 = 0")
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise step.refuse(f"{text!r} does not compile against {run.table.name!r}: {first}") from exc


def _forms(step: FixRows | UndoFixRows, run: SqlRun) -> tuple[str, bool]:
    """The column's declared type, and whether the journal holds text forms (``text[]``, what the builders add) or
    values of the column's own array type (plans built before: still undone, compared by text form)."""
    catalog = run.table.catalog()
    declared = catalog.column(step.column).type
    journal = next((c.type for c in catalog.columns if c.name == step.journal), "text[]")  # (added later: ours)
    return declared, journal == "text[]"


@sql_batch.register
def _batch(step: FixRows, run: SqlRun) -> str:
    q = run.dialect.quote
    c, j = q(step.column), q(step.journal)
    declared, as_text = _forms(step, run)
    # the new value as the column stores it (its typmod applied), in the form it is read back
    new = f"CAST(({step.value}) AS {declared})::text" if as_text else f"({step.value})"
    journal = f"ARRAY[{c}::text, {new}]" if as_text else f"ARRAY[{c}, {new}]"
    return (f"UPDATE {run.table.ref} SET {c} = ({step.value}), {j} = {journal} "
            f"WHERE ({step.where}) AND {run.batch_predicate()}")  # fmt: skip


def _undone(step: UndoFixRows, run: SqlRun) -> str:
    """The undo of the rows that still hold what the fix wrote: their old value back. The journal stays as it is
    until its column is dropped (the next undo): the traffic models read it to learn what the undo changed, and a
    second run finds nothing left to do (a row put back no longer holds the new value)."""
    q = run.dialect.quote
    c, j = q(step.column), q(step.journal)
    declared, as_text = _forms(step, run)
    old = f"CAST({j}[1] AS {declared})" if as_text else f"{j}[1]"
    new = f"{j}[2]" if as_text else f"({j}[2])::text"
    # a text journal gets a third entry, 'undone': the write changes the journal too, so the guard's trigger (which
    # clears the entry of a write that leaves the journal alone: the app's) keeps it for the traffic models to read
    spent = f", {j} = {j} || '{{undone}}'::text[]" if as_text else ""
    return (f"UPDATE {run.table.ref} SET {c} = {old}{spent} "
            f"WHERE {j} IS NOT NULL AND ({c})::text IS NOT DISTINCT FROM {new}")  # fmt: skip


@sql_batch.register
def _undo_batch(step: UndoFixRows, run: SqlRun) -> str:
    return f"{_undone(step, run)} AND {run.batch_predicate()}"


@sql_statements.register
def _undo(step: UndoFixRows, run: SqlRun) -> list[str]:
    """The whole undo as one statement: what an exported revision or a printed rollback runs (labkit's runner
    undoes batch by batch, ``_undo_batch``)."""
    return [_undone(step, run)]


@sql_statements.register
def _drop(step: DropJournals, run: SqlRun) -> list[str]:
    """The journals' guards first (their trigger functions name the journal), then the journal columns. (A plan
    built before the guards has none: IF EXISTS.)"""
    guards = [sql for c in step.columns for sql in _unguard(run, c)]
    return [*guards, *(f"ALTER TABLE {run.table.ref} DROP COLUMN {run.dialect.quote(c)}" for c in step.columns)]


def _guard_names(run: SqlRun, journal: str) -> tuple[str, str]:
    """The guard's trigger name and its function (quoted, in the table's schema): one per journal."""
    return postgres_trigger_names(run.dialect, run.table.qualified, journal, "guard")


def _unguard(run: SqlRun, journal: str) -> list[str]:
    name, function = _guard_names(run, journal)
    return [f"DROP TRIGGER IF EXISTS {run.dialect.quote(name)} ON {run.table.ref}",
            f"DROP FUNCTION IF EXISTS {function}()"]  # fmt: skip


@sql_statements.register
def _guard(step: GuardFix, run: SqlRun) -> list[str]:
    q = run.dialect.quote
    name, function = _guard_names(run, step.journal)
    j, table = q(step.journal), run.table.ref
    # the fix's own batches and its undo write the journal too: only a write that leaves it alone is the app's
    body = f"BEGIN IF NEW.{j} IS NOT DISTINCT FROM OLD.{j} THEN NEW.{j} := NULL; END IF; RETURN NEW; END"
    return [
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $labkit$ {body} $labkit$",
        f"DROP TRIGGER IF EXISTS {q(name)} ON {table}",
        f"CREATE TRIGGER {q(name)} BEFORE UPDATE OF {q(step.column)} ON {table} FOR EACH ROW "
        f"EXECUTE FUNCTION {function}()",
        f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {q(name)}",  # a logical replica's applied writes included
    ]


@sql_statements.register
def _drop_guard(step: DropGuard, run: SqlRun) -> list[str]:
    return _unguard(run, step.journal)
