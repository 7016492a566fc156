"""ALTER COLUMN ... SET DEFAULT: what an insert that leaves the column out stores (PostgreSQL).

Setting a default rewrites nothing: only later inserts see it. A copied column gets its default only once every
writer sets it (after the app that writes both columns is live): while a dual write copies into the column,
a default would make an old app's insert look as if it had set the new column, and the copy would skip it.
SQLite cannot change a default without rebuilding the table: refused before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .._common import check_definition
from ..dispatch import SqlRun, sql_statements
from .base import Phase, Step


@dataclass(frozen=True, repr=False)
class SetDefault(Step):
    """Set ``column``'s default to the SQL expression ``default`` (``None``: no default); ``previous`` is the
    default it replaces, so that the step can be undone exactly."""

    engines = frozenset({"postgresql"})
    elsewhere = "change a column's default"

    kind = "set_default"
    column_fields = ("column",)
    phase: ClassVar[Phase] = "migrate"

    table: str
    column: str
    default: str | None  # an SQL expression, "0" or "now()"; null: no default
    previous: str | None = None  # the default it replaces, so that a rollback restores it exactly

    def __post_init__(self) -> None:
        super().__post_init__()
        for value in (self.default, self.previous):
            if value is not None:
                check_definition(value, kind="default expression")

    def reverse(self) -> Step:
        return SetDefault(self.table, self.column, self.previous, self.default, label=f"undo_{self.name}")

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.column)
        return list(columns)

    def sql_texts(self) -> list[str]:
        return [self.default] if self.default else []

    def describe(self) -> str:
        if self.default is None:
            return f"remove the default of {self.column}"
        return f"set the default of {self.column} to {self.default} (only later inserts see it)"




@dataclass(frozen=True, repr=False)
class SetDefaultAtContract(SetDefault):
    """``SetDefault`` in the contract phase: a copied column's default, set once the dual write has stopped.

    Earlier, while an app version that does not know the column still inserts rows, the default would fill the
    column of every such insert, and the dual write, which copies into the column only what nobody wrote there,
    would take the default for a value the app wrote and keep it: the app's value would be lost with the old
    column. Until then the versions that know the column get the default from their view (``SQLBackend``)."""

    kind = "set_default_at_contract"
    phase = "contract"
    deploy_timing = "before"  # the version that writes the column rolls out before its default goes


@sql_statements.register
def _sql(step: SetDefault, run: SqlRun) -> list[str]:
    q = run.dialect.quote
    what = f"SET DEFAULT {step.default}" if step.default is not None else "DROP DEFAULT"
    return [f"ALTER TABLE {run.table.ref} ALTER COLUMN {q(step.column)} {what}"]
