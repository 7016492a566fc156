"""The interfaces between the runner, the backends and the SQL dialects, written down as Protocols.

- ``Backend``: every hook the runner (and the safety checks) call on an engine. ``MemoryBackend`` and
  ``SQLBackend`` implement it; ``BaseBackend`` holds the defaults of an engine with nothing to lock or resume.
- ``Dialect``: what the SQL backend, ``Database`` and the operations' SQL need from SQLite or PostgreSQL (written down
  in ``labkit.backends.dialect``, split by role, and re-exported here).
- ``EngineFacts``: what the safety rules may know about the engine, read once per check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, Protocol

from .._common import SQL
from ..throttle import Load
from .dialect import Dialect, Session

if TYPE_CHECKING:
    from ..apps import AppVersion
    from ..catalog import TableCatalog
    from ..plan import MigrationPlan
    from ..steps import Step

BackendEventKind = Literal["retry"]  # what a backend reports while it works (a DDL statement retried)
EventSink = Callable[[BackendEventKind, str], None]  # (kind, detail), recorded in the runner's history
Status = Literal["completed", "rolled_back", "rollback_failed", "stopped"]  # stopped: on request, resumable


def sql_literal(value: Any, *, true: str = "TRUE", false: str = "FALSE") -> str:
    """A constant for DDL (``DEFAULT ...``), where parameters cannot be bound; ``SQL(...)`` passes through."""
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
    last_id: Any = None  # the last key the committed batches covered (any type; a tuple for a composite key)


@dataclass(frozen=True)
class EngineFacts:
    """What the safety rules know of the engine a plan will run on: one catalog read, taken before the rules.

    Rules read these fields; none of them queries a database itself.
    """

    engine: str  # "memory", "sqlite" or "postgresql"
    table: str
    columns: tuple[str, ...]  # data columns, in order
    row_count: int
    lock_timeout_ms: int | None = None  # PostgreSQL: the DDL lock timeout in force (0 waits forever)
    catalog: TableCatalog | None = None  # a database table: what its catalog says (None in memory)
    cut_off_runs: tuple[tuple[str, str], ...] = ()  # other plans' unfinished runs on this table: (plan, step)
    other_run_live: bool = False  # ... and a process runs one of them now (it holds the table's migration lock)
    quiet_triggers: bool = False  # can the backfill keep the user's triggers from firing?
    missing_privileges: tuple[str, ...] = ()  # what this role (or process) may not do that a plan needs
    taken_views: tuple[str, ...] = ()  # views the plan's versions would get, there already (another plan's)


class Backend(Protocol):
    """Every hook the runner calls on an engine, in the order of a run."""

    engine: str  # "memory", "sqlite" or "postgresql"
    on_event: EventSink | None  # set by the runner: where the backend reports retries and the like

    # facts and checks, before anything changes
    def data_columns(self) -> list[str]: ...
    def row_count(self) -> int: ...
    def facts(self, plan: MigrationPlan) -> EngineFacts: ...
    def in_progress(self, plan_name: str) -> bool: ...
    def resume_point(self, plan: MigrationPlan) -> int: ...
    def check_step(self, step: Step) -> None: ...
    def caveats(self) -> list[str]: ...
    def lost(self) -> bool: ...

    # a run's lifecycle
    def begin(self, plan: MigrationPlan, *, resume: str = "continue") -> Resume: ...
    def apply(self, step: Step, *, position: int | None = None) -> None: ...
    def backfill_ranges(
        self, step: Step, *, after_id: Any = None, size: Callable[[], int | None] | None = None
    ) -> Iterable[tuple[Any, Any]]: ...
    def backfill_batch(self, step: Step, lo: Any, hi: Any, *, position: int = 0, batch: int = 0) -> int: ...
    def load(self) -> Load: ...
    def step_done(self, step: Step, *, position: int) -> None: ...
    def undo(self, step: Step, *, position: int | None = None) -> None: ...
    def expose(self, app: AppVersion) -> None: ...
    def finish(self, status: Status) -> None: ...


class BaseBackend:
    """Defaults for an engine with nothing to lock and nothing to resume (the in-memory table)."""

    on_event: EventSink | None = None

    def in_progress(self, plan_name: str) -> bool:
        """Is a cut-off run of this plan recorded (so building it again means resuming it)?"""
        return False

    def resume_point(self, plan: MigrationPlan) -> int:
        return 0

    def caveats(self) -> list[str]:
        """What this run did that a rollback cannot undo (e.g. the user's triggers fired by the backfill)."""
        return []

    def lost(self) -> bool:
        """Is the connection to the engine gone (so nothing more can run, not even an undo)?"""
        return False

    def load(self) -> Load:
        """What the engine says about the app's load and its standbys, between two backfill batches."""
        return Load()

    def begin(self, plan: MigrationPlan, *, resume: str = "continue") -> Resume:
        return Resume()

    def step_done(self, step: Step, *, position: int) -> None:
        return None

    def finish(self, status: Status) -> None:
        return None

    def expose(self, app: AppVersion) -> None:
        """Make the schema version ``app`` expects available (a versioned view on a database)."""
        return None


__all__ = [
    "Backend", "BaseBackend", "Dialect", "EngineFacts", "EventSink", "Resume", "Session", "Status", "sql_literal",
]  # fmt: skip
