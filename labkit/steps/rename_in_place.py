"""The unsafe baseline: ALTER TABLE ... RENAME COLUMN while the old app still runs."""

from __future__ import annotations

from dataclasses import dataclass

from .base import Step


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
        if self.old == self.new:
            from ..errors import SameNameError

            raise SameNameError(self.table, self.old)

    def reverse(self) -> Step:
        return RenameColumnInPlace(self.table, self.new, self.old, label=f"undo_{self.name}")

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.old)
        self._absent(columns, self.new)
        return [self.new if c == self.old else c for c in columns]

    def describe(self) -> str:
        return f"rename column {self.old} to {self.new} in place (instant; any query still naming {self.old} fails)"
