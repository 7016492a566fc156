"""The in-memory backend: carries out each step on a ``labkit.Table``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._common import SQL
from ..errors import StepDoesNotFitError
from ..steps import (
    AddColumn,
    Backfill,
    DropColumn,
    RenameColumnInPlace,
    RenameInView,
    StartDualWrite,
    Step,
    StopDualWrite,
    SwitchReads,
    UndoBackfill,
)
from ..table import DualWriteTrigger, Table
from .base import BaseBackend


class MemoryBackend(BaseBackend):
    """Runs steps against a ``Table``. A backfill batch is atomic: values are computed, then written."""

    dialect = "memory"
    transactional_ddl = True  # every step either happens whole or not at all

    def __init__(self, table: Table) -> None:
        self.table = table
        # undo journal of backfills: target column -> [(ids of the batch, values they held before)]
        self._journal: dict[str, list[tuple[Any, list[Any]]]] = {}
        self._apply: dict[type, Callable[[Any], None]] = {
            AddColumn: self._add_column,
            DropColumn: self._drop_column,
            StartDualWrite: self._start_dual_write,
            StopDualWrite: self._stop_dual_write,
            SwitchReads: self._switch_reads,
            RenameColumnInPlace: self._rename_in_place,
            UndoBackfill: self._undo_backfill,
        }

    def data_columns(self) -> list[str]:
        return self.table.data_columns

    def row_count(self) -> int:
        return self.table.row_count

    def check_step(self, step: Step) -> None:
        """Refuse what a Python table cannot run: a computed value given only as SQL."""
        if isinstance(step, RenameInView):
            raise StepDoesNotFitError(
                step.name, self.table.name, "the in-memory table has no views: approach B needs a database"
            )
        if isinstance(getattr(step, "default", None), SQL):
            raise StepDoesNotFitError(step.name, self.table.name, "the in-memory table takes constant defaults only")
        if getattr(step, "sql", None) and getattr(step, "compute", None) is None:
            raise StepDoesNotFitError(
                step.name, self.table.name, "the in-memory table needs compute= (a Python function), not only sql="
            )

    def apply(self, step: Step, *, position: int | None = None) -> None:
        try:
            handler = self._apply[type(step)]
        except KeyError:
            raise StepDoesNotFitError(
                step.name, self.table.name, "the in-memory backend cannot run this step"
            ) from None
        handler(step)

    # ---------------------------------------------------------------- one method per step
    def _add_column(self, step: AddColumn) -> None:
        self.table.add_column(step.column, step.default, not_null=step.not_null)

    def _drop_column(self, step: DropColumn) -> None:
        self.table.drop_column(step.column)

    @staticmethod
    def _trigger(step: StartDualWrite | StopDualWrite) -> DualWriteTrigger:
        return DualWriteTrigger(step.source, step.target, step.compute, step.both_ways)

    def _start_dual_write(self, step: StartDualWrite) -> None:
        self.table.add_trigger(self._trigger(step))

    def _stop_dual_write(self, step: StopDualWrite) -> None:
        trigger = self._trigger(step)
        if trigger not in self.table.triggers:
            raise StepDoesNotFitError(step.name, self.table.name, "there is no such dual write to stop")
        self.table.remove_trigger(trigger)

    def _switch_reads(self, step: SwitchReads) -> None:
        # In memory there is nothing to change in the data: readers switching columns is the app rollout
        # that the runner performs with the step. The database backends create a versioned view here.
        return None

    def _rename_in_place(self, step: RenameColumnInPlace) -> None:
        self.table.rename_column(step.old, step.new)

    def _undo_backfill(self, step: UndoBackfill) -> None:
        t = self.table
        for ids, old in reversed(self._journal.pop(step.target, [])):
            start, stop = t.positions_between(ids[0], ids[-1])
            if t.ids[start:stop] == ids:
                t.write_slice(step.target, start, old)
            else:  # rows were deleted meanwhile: put back the survivors one by one
                for row_id, value in zip(ids, old):
                    s, e = t.positions_between(row_id, row_id)
                    if s != e:
                        t.write_slice(step.target, s, [value])

    # ---------------------------------------------------------------- backfill
    def backfill_ranges(self, step: Backfill, *, after_id: int | None = None) -> list[tuple[int, int]]:
        """Primary-key ranges ``(lo, hi)``, inclusive, fixed now: later inserts are the dual write's job."""
        ids = self.table.ids
        if after_id is not None:
            ids = ids[self.table.positions_between(after_id + 1, after_id + 1)[0] :]
        n = len(ids)
        size = step.batch_size or max(n, 1)
        return [(ids[k], ids[min(k + size, n) - 1]) for k in range(0, n, size)]

    def backfill_batch(self, step: Backfill, lo: int, hi: int, *, position: int = 0, batch: int = 0) -> int:
        t = self.table
        start, stop = t.positions_between(lo, hi)
        if step.compute is not None:
            values = [step.compute(row) for row in t.rows_slice(start, stop)]
        else:
            values = t.read_slice(step.source, start, stop)
        old = t.read_slice(step.target, start, stop)
        t.write_slice(step.target, start, values)
        self._journal.setdefault(step.target, []).append((t.ids[start:stop], old))
        return stop - start
