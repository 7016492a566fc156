"""The in-memory backend: carries out each step on a ``labkit.Table``, through the step's own implementation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..dispatch import MemoryRun, memory_apply, memory_batch, memory_check, require
from .base import BaseBackend, EngineFacts, Resume

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..plan import MigrationPlan
    from ..steps import Step
    from ..table import Table


class MemoryBackend(BaseBackend):
    """Runs steps against a ``Table``. A backfill batch is atomic: values are computed, then written."""

    engine = "memory"

    def __init__(self, table: Table) -> None:
        self.table = table
        self.run = MemoryRun(table)

    def data_columns(self) -> list[str]:
        return self.table.data_columns

    def row_count(self) -> int:
        return self.table.row_count

    def facts(self, plan: MigrationPlan) -> EngineFacts:
        return EngineFacts("memory", self.table.name, tuple(self.table.data_columns), self.table.row_count)

    def begin(self, plan: MigrationPlan, *, resume: str = "continue") -> Resume:
        self.run.plan = plan
        return super().begin(plan, resume=resume)

    def check_step(self, step: Step) -> None:
        """Refuse a step with no in-memory implementation, or one it cannot run as given (SQL only ...)."""
        memory_check(step, self.run)  # first: an operation may say why it cannot run here
        require(step, self.table.name, "memory", memory_batch if step.batched else memory_apply)

    def apply(self, step: Step, *, position: int | None = None) -> None:
        self.check_step(step)  # an undo step is checked here, when the rollback needs it
        memory_apply(step, self.run)

    def undo(self, step: Step, *, position: int | None = None) -> None:
        self.apply(step.reverse(), position=position)

    def backfill_ranges(
        self, step: Step, *, after_id: int | None = None, size: Callable[[], int | None] | None = None
    ) -> list[tuple[int, int]]:
        """Primary-key ranges ``(lo, hi)``, inclusive, fixed now: later inserts are the dual write's job. Always
        ``step.rows_per_batch()`` rows (a batch sized by time would make the lab's in-memory runs differ from one
        run to the next; a slice of a list takes microseconds anyway)."""
        ids = self.table.ids
        if after_id is not None:
            ids = ids[self.table.positions_between(after_id + 1, after_id + 1)[0] :]
        n = len(ids)
        rows = step.rows_per_batch() or max(n, 1)
        return [(ids[k], ids[min(k + rows, n) - 1]) for k in range(0, n, rows)]

    def backfill_batch(self, step: Step, lo: int, hi: int, *, position: int = 0, batch: int = 0) -> int:
        return memory_batch(step, self.run, lo, hi)
