"""DROP COLUMN: the contract step that removes the old structure once nothing uses it."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import IrreversibleStepError
from ..operations import MemoryRun, SqlRun, memory_apply, sql_statements
from .base import Step


@dataclass(frozen=True, repr=False)
class DropColumn(Step):
    """Remove a column and its data. Not reversible: that is why it belongs at the very end."""

    kind = "drop_column"
    column_fields = ("column",)
    phase = "contract"
    deploy_timing = "before"

    table: str
    column: str

    def reverse(self) -> Step:
        raise IrreversibleStepError(self.name, f"dropping {self.column!r} destroyed its data")

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.column)
        return [c for c in columns if c != self.column]

    def describe(self) -> str:
        app = f"app {self.deploy} rolls out first, then " if self.deploy else ""
        return f"{app}drop column {self.column} (irreversible)"


@memory_apply.register
def _apply_in_memory(step: DropColumn, run: MemoryRun) -> None:
    run.table.drop_column(step.column)


@sql_statements.register
def _sql(step: DropColumn, run: SqlRun) -> list[str]:
    if not run.table.has_column(step.column):  # safe to re-run: a resumed run (or an undo) may meet it done
        return []
    d, t = run.dialect, run.table
    views = [v for v in t.views if step.column in d.view_columns(run.db, v)]  # a view naming it blocks the drop
    # SQLite rewrites the whole table here (see the rule drop-column-rewrites-table)
    drop = f"ALTER TABLE {d.quote(t.name)} DROP COLUMN {d.quote(step.column)}"
    return [*(d.drop_view_sql(v) for v in views), drop]
