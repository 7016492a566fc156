"""Batched backfill: fill the new column for the rows that existed before the dual write started."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._common import check_batch_size
from ..errors import IrreversibleStepError
from .base import Step


@dataclass(frozen=True, repr=False)
class Backfill(Step):
    """Set ``target`` from ``source`` (a copy) or from ``compute(row)``, ``batch_size`` rows at a time.

    Batches are primary-key ranges fixed when the step starts; rows inserted later are the dual write's job.
    On a database the value comes from ``source`` or from ``sql``, an SQL expression over the row's columns
    (a trigger cannot call Python); the in-memory table uses ``source`` or ``compute``.
    ``batch_size=None`` means a single batch over the whole table: the one big ``UPDATE`` that locks
    everything (kept for contrast; the safety checks flag it).
    """

    kind = "backfill"
    column_fields = ("target", "source")
    phase = "migrate"
    batched = True

    table: str
    target: str
    source: str | None = None
    compute: Callable[[dict[str, Any]], Any] | None = None
    batch_size: int | None = 1000
    sql: str | tuple[tuple[str, str], ...] | None = None
    pause: float = 0.0  # seconds to wait between batches on a database, so app writes get the lock in between

    def __post_init__(self) -> None:
        super().__post_init__()
        computed = self.compute is not None or self.sql is not None
        if (self.source is None) == (not computed):
            raise self._refuse(
                "give either source (copy a column) or compute (a function of the row) and/or sql (an SQL expression)"
            )
        if self.batch_size is not None:
            check_batch_size(self.batch_size)
        if isinstance(self.sql, dict):  # {dialect: expression}: stored as a tuple so the step stays hashable
            object.__setattr__(self, "sql", tuple(sorted(self.sql.items())))
        if not isinstance(self.pause, (int, float)) or self.pause < 0:
            raise self._refuse(f"pause must be a number of seconds >= 0, got {self.pause!r}")

    def reverse(self) -> Step:
        return UndoBackfill(self.table, self.target, label=f"undo_{self.name}")

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.target, *([self.source] if self.source else []))
        return list(columns)

    def batch_count(self, row_count: int) -> int:
        if row_count == 0:
            return 0
        if self.batch_size is None:
            return 1
        return -(-row_count // self.batch_size)

    def describe(self) -> str:
        what = f"copy {self.source}" if self.source else "compute the value"
        size = "in one batch" if self.batch_size is None else f"in batches of {self.batch_size}"
        return f"{what} into {self.target} for existing rows, {size}"


@dataclass(frozen=True, repr=False)
class UndoBackfill(Step):
    """Put back the values a backfill overwrote (used by rollback, batch by batch in reverse)."""

    kind = "undo_backfill"
    column_fields = ("target",)
    phase = "migrate"

    table: str
    target: str

    def reverse(self) -> Step:
        raise IrreversibleStepError(self.name, "it only exists to roll a backfill back")

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.target)
        return list(columns)

    def describe(self) -> str:
        return f"restore the values of {self.target} from before the backfill"
