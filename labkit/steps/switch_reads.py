"""Switch reads: the app starts reading the new column (the new schema version becomes the one read)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..dispatch import MemoryRun, SqlRun, memory_apply, sql_statements
from .base import Step

if TYPE_CHECKING:
    from .base import PlanWalk


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
            raise self.refuse("old and new must be different columns")

    def reverse(self) -> Step:
        return SwitchReads(self.table, self.new, self.old, label=f"undo_{self.name}")

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.old, self.new)
        return list(columns)

    def describe(self) -> str:
        app = f" (app {self.deploy} rolls out)" if self.deploy else ""
        return f"app reads switch to {self.new} (from {self.old}){app}"

    def track(self, walk: PlanWalk) -> None:
        walk.switched_away.add(self.old)


# Readers move when their app version rolls out, which the runner performs with the step: the data does not
# change. (On a database the version's view is created then, by the backend's expose().)
@memory_apply.register
def _apply_in_memory(step: SwitchReads, run: MemoryRun) -> None:
    return None


@sql_statements.register
def _sql(step: SwitchReads, run: SqlRun) -> list[str]:
    return []
