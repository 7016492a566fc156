"""CREATE INDEX: rebuild an index (plain, UNIQUE, partial, expression, multi-column) without blocking writes.

On PostgreSQL the index is built ``CONCURRENTLY``: reads and writes go on during the build
(``concurrently=False`` is the unsafe baseline: a plain ``CREATE INDEX`` holds a SHARE lock, so every app write
waits for the build). That cannot run in a transaction, so the backend runs this step's statements one by one,
outside any (``in_transaction = False``), under the same lock timeout and retries as every DDL statement. A
concurrent build that fails (a lock timeout, a duplicate in a UNIQUE index) leaves an INVALID index behind: it is
dropped (concurrently too) before the build is tried again, and before the step is undone. SQLite builds the index
under its write lock, like any write: short for the lab's tables, a pause for the app's writers on a big one.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._common import check_definition, check_object_name
from ..dispatch import SqlRun, sql_check, sql_statements
from ..errors import IrreversibleStepError
from .base import Step


@dataclass(frozen=True, repr=False)
class CreateIndex(Step):
    """Create index ``index`` on ``column`` (and whatever else ``definition`` names).

    ``definition`` is what follows ``ON <table>`` in ``CREATE INDEX``: e.g. ``USING btree (account_id, total)
    WHERE (total > 1000)`` (PostgreSQL) or ``(account_id, total)`` (SQLite).
    """

    kind = "create_index"
    column_fields = ("column",)
    phase = "migrate"
    in_transaction = False

    table: str
    column: str
    index: str
    definition: str  # what follows ON <table>: "(account_id, total)", "USING btree (lower(email)) WHERE ..."
    unique: bool = False  # CREATE UNIQUE INDEX
    concurrently: bool = True  # False: PostgreSQL's plain CREATE INDEX, which blocks writes (the unsafe baseline)

    def __post_init__(self) -> None:
        super().__post_init__()
        check_object_name(self.index, kind="index")
        check_definition(self.definition, kind="index definition")

    def reverse(self) -> Step:
        return DropIndex(self.table, self.column, self.index, label=f"undo_{self.name}")

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.column)
        return list(columns)

    def describe(self) -> str:
        unique = "unique " if self.unique else ""
        how = "writes go on" if self.concurrently else "not concurrently: app writes wait for the whole build"
        return f"build {unique}index {self.index} {self.definition} ({how})"


@dataclass(frozen=True, repr=False)
class DropIndex(Step):
    """Drop index ``index`` (on ``column``), if it is there."""

    kind = "drop_index"
    column_fields = ("column",)
    phase = "contract"
    in_transaction = False

    table: str
    column: str
    index: str

    def __post_init__(self) -> None:
        super().__post_init__()
        check_object_name(self.index, kind="index")

    def reverse(self) -> Step:

        raise IrreversibleStepError(self.name, "the index's definition is not kept")

    def fit(self, columns: list[str]) -> list[str]:
        return list(columns)

    def describe(self) -> str:
        return f"drop index {self.index}"


def _invalid(run: SqlRun, index: str) -> bool:
    """An index of this name left INVALID by a failed CREATE INDEX CONCURRENTLY (the catalog reader's fact)."""
    return any(i.name == index and not i.valid for i in run.table.catalog().indexes)


def _index_ref(run: SqlRun, index: str) -> str:
    """An index lives in its table's schema: DROP and ALTER INDEX name it there."""
    q = run.dialect.quote  # each part quoted whole: an index named "public.users_email_idx" is one name, not two
    return f"{q(run.table.schema)}.{q(index)}" if run.table.schema else q(index)


@sql_check.register_for("postgresql")
def _check_postgresql(step: CreateIndex, run: SqlRun) -> None:
    if step.concurrently and run.table.catalog().partitioned:
        raise step.refuse(
            f"{run.table.qualified} is partitioned: PostgreSQL cannot CREATE INDEX CONCURRENTLY on it. Create the "
            "index ON ONLY the parent, build it CONCURRENTLY on each partition, then ALTER INDEX ... ATTACH "
            "PARTITION each one (labkit does not do this yet)"
        )


@sql_statements.register
def _create_sql(step: CreateIndex, run: SqlRun) -> list[str]:
    unique = "UNIQUE " if step.unique else ""
    return [f"CREATE {unique}INDEX IF NOT EXISTS {run.dialect.quote(step.index)} ON {run.table.ref} {step.definition}"]


@sql_statements.register_for("postgresql")
def _create_postgresql(step: CreateIndex, run: SqlRun) -> list[str]:
    q, t = run.dialect.quote, run.table.ref
    unique = "UNIQUE " if step.unique else ""
    # an INVALID index of this name is a failed build (this run's or a cut-off one's): drop it, build again
    drop = [f"DROP INDEX CONCURRENTLY IF EXISTS {_index_ref(run, step.index)}"] if _invalid(run, step.index) else []
    how = "CONCURRENTLY " if step.concurrently else ""
    return [*drop, f"CREATE {unique}INDEX {how}IF NOT EXISTS {q(step.index)} ON {t} {step.definition}"]


@sql_statements.register
def _drop_sql(step: DropIndex, run: SqlRun) -> list[str]:
    return [f"DROP INDEX IF EXISTS {_index_ref(run, step.index)}"]


@sql_statements.register_for("postgresql")
def _drop_postgresql(step: DropIndex, run: SqlRun) -> list[str]:
    return [f"DROP INDEX CONCURRENTLY IF EXISTS {_index_ref(run, step.index)}"]
