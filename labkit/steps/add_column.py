"""ADD COLUMN: the expand step that adds the new structure beside the old one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._common import SQL, check_definition
from ..dispatch import MemoryRun, SqlRun, memory_apply, memory_check, sql_check, sql_statements
from .base import Step
from .drop_column import DropColumn

if TYPE_CHECKING:
    from .base import PlanWalk


@dataclass(frozen=True, repr=False)
class AddColumn(Step):
    """Add a nullable column (or one with a constant default) at the end of the table."""

    kind = "add_column"
    column_fields = ("column",)
    phase = "expand"

    table: str
    column: str
    default: Any = None  # the value new and existing rows get: a constant, or {"sql": "now()"} for an expression
    not_null: bool = False  # NOT NULL from the start: only with a default (the rows already there get it)
    sql_type: str | None = None  # on a database: the column's type (TEXT when not given)
    constraints: tuple[str, ...] = ()  # column constraints written into ADD COLUMN, e.g. "CHECK (total >= 0)"

    def __post_init__(self) -> None:
        super().__post_init__()
        for clause in self.constraints:
            check_definition(clause, kind="column constraint")

    def reverse(self) -> Step:
        return DropColumn(self.table, self.column, label=f"undo_{self.name}")

    def fit(self, columns: list[str]) -> list[str]:
        self._absent(columns, self.column)
        return [*columns, self.column]

    def describe(self) -> str:
        extra = f" DEFAULT {self.default!r}" if self.default is not None else ""
        required = " NOT NULL" if self.not_null else ""
        fill = "every row reads the default" if self.default is not None else "old rows read it as empty"
        return f"add column {self.column}{required}{extra} ({fill})"

    def sql_texts(self) -> list[str]:
        return [self.default.text] if isinstance(self.default, SQL) else []

    def track(self, walk: PlanWalk) -> None:
        walk.added.add(self.column)


@memory_check.register
def _check_in_memory(step: AddColumn, run: MemoryRun) -> None:
    if isinstance(step.default, SQL):
        raise step.refuse("the in-memory table takes constant defaults only")
    if step.constraints:
        raise step.refuse("the in-memory table keeps no constraints")


@memory_apply.register
def _apply_in_memory(step: AddColumn, run: MemoryRun) -> None:
    run.table.add_column(step.column, step.default, not_null=step.not_null)


@sql_check.register
def _check_sql(step: AddColumn, run: SqlRun) -> None:
    if step.sql_type is not None:  # a type this engine does not read is refused before anything runs
        run.dialect.check_type(run.db, step.sql_type)


@sql_statements.register
def _sql(step: AddColumn, run: SqlRun) -> list[str]:
    if run.table.has_column(step.column):  # safe to re-run: a resumed run may meet it done
        return []
    d = run.dialect
    sql_type = d.column_type(run.db, "TEXT" if step.sql_type is None else step.sql_type)
    extra = f" DEFAULT {d.literal(step.default)}" if step.default is not None else ""
    extra += " NOT NULL" if step.not_null else ""
    extra += "".join(f" {clause}" for clause in step.constraints)
    typed = f" {sql_type}" if sql_type else ""  # SQLite: a column may declare no type (and so convert nothing)
    return [f"ALTER TABLE {run.table.ref} ADD COLUMN {d.quote(step.column)}{typed}{extra}"]
