"""Switch reads: the app starts reading the new column (the new schema version becomes the one read)."""

from __future__ import annotations

from dataclasses import dataclass

from .base import Step


@dataclass(frozen=True, repr=False)
class SwitchReads(Step):
    """Readers move from ``old`` to ``new``; usually rolls out the app version that reads ``new``."""

    kind = "switch_reads"
    column_fields = ("old", "new")
    phase = "migrate"

    table: str
    old: str
    new: str

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.old == self.new:
            raise self._refuse("old and new must be different columns")

    def reverse(self) -> Step:
        return SwitchReads(self.table, self.new, self.old, label=f"undo_{self.name}")

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.old, self.new)
        return list(columns)

    def describe(self) -> str:
        app = f" (app {self.deploy} rolls out)" if self.deploy else ""
        return f"app reads switch to {self.new} (from {self.old}){app}"
