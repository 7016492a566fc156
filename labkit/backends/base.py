"""What every backend shares: the hooks the runner calls, with the in-memory defaults."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..apps import AppVersion
    from ..plan import MigrationPlan
    from ..steps import Backfill, Step


def sql_literal(value: Any, *, true: str = "TRUE", false: str = "FALSE") -> str:
    """A constant for DDL (``DEFAULT ...``), where parameters cannot be bound; ``SQL(...)`` passes through."""
    from .._common import SQL

    if isinstance(value, SQL):
        return f"({value.text})"
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return true if value else false
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"a default must be None, a number, a string or SQL(...), got {type(value).__name__}")


@dataclass(frozen=True)
class Resume:
    """Where a run starts: at the beginning, or where a cut-off run of the same plan left off."""

    step_index: int = 0  # steps before this one are committed
    batch: int = 0  # batches of the step at step_index that are committed
    last_id: int | None = None  # the highest id the committed batches covered


class BaseBackend:
    """Defaults for an engine with nothing to lock and nothing to resume (the in-memory table)."""

    dialect = "base"
    on_event: Callable[[str, str], None] | None = None  # set by the runner: (kind, detail) of backend events

    # -- checks before anything changes
    def in_progress(self, plan_name: str) -> bool:
        """Is a cut-off run of this plan recorded (so building it again means resuming it)?"""
        return False

    def resume_point(self, plan: MigrationPlan) -> int:
        return 0

    def check_step(self, step: Step) -> None:
        return None

    # -- a run's lifecycle
    def begin(self, plan: MigrationPlan, *, resume: str = "continue") -> Resume:
        return Resume()

    def step_done(self, step: Step, *, position: int) -> None:
        return None

    def finish(self, status: str) -> None:
        return None

    # -- steps
    def apply(self, step: Step, *, position: int | None = None) -> None:
        raise NotImplementedError

    def undo(self, step: Step, *, position: int | None = None) -> None:
        self.apply(step.reverse(), position=position)

    def backfill_ranges(self, step: Backfill, *, after_id: int | None = None) -> list[tuple[int, int]]:
        raise NotImplementedError

    def backfill_batch(self, step: Backfill, lo: int, hi: int, *, position: int = 0, batch: int = 0) -> int:
        raise NotImplementedError

    # -- app versions
    def expose(self, app: AppVersion) -> None:
        """Make the schema version ``app`` expects available (a versioned view on a database)."""
        return None
