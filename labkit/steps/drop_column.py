"""DROP COLUMN: the contract step that removes the old structure once nothing uses it."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import IrreversibleStepError
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
