"""The unsafe baseline: ALTER TABLE ... RENAME COLUMN while the old app still runs."""

from __future__ import annotations

from dataclasses import dataclass

from .._common import check_rename
from ..dispatch import MemoryRun, SqlRun, memory_apply, sql_statements
from .base import Meaning, Step


@dataclass(frozen=True, repr=False)
class RenameColumnInPlace(Step):
    """Rename a column in one step. Instant, and an outage: every running query that names the old column fails.

    Its app rollout comes *after* the rename, as in a pipeline that runs ``alembic upgrade`` and then deploys.
    """

    kind = "rename_column_in_place"
    column_fields = ("old", "new")
    phase = "contract"

    table: str
    old: str
    new: str

    def __post_init__(self) -> None:
        super().__post_init__()
        check_rename(self.table, self.old, self.new)

    def reverse(self) -> Step:
        return RenameColumnInPlace(self.table, self.new, self.old, label=f"undo_{self.name}")

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.old)
        self._absent(columns, self.new)
        return [self.new if c == self.old else c for c in columns]

    def describe(self) -> str:
        return f"rename column {self.old} to {self.new} in place (instant; any query still naming {self.old} fails)"

    def derive(self, meanings: dict[str, Meaning]) -> None:
        if self.old in meanings:
            meanings[self.new] = meanings[self.old]


@memory_apply.register
def _apply_in_memory(step: RenameColumnInPlace, run: MemoryRun) -> None:
    run.table.rename_column(step.old, step.new)


@sql_statements.register
def _sql(step: RenameColumnInPlace, run: SqlRun) -> list[str]:
    cols = run.table.column_names
    if step.new in cols and step.old not in cols:  # safe to re-run: a resumed run may meet it done
        return []
    q = run.dialect.quote
    return [f"ALTER TABLE {run.table.ref} RENAME COLUMN {q(step.old)} TO {q(step.new)}"]
