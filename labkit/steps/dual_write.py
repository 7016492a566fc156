"""Dual writes on and off: keep the new column in step with every write the running app makes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .base import Step


@dataclass(frozen=True, repr=False)
class _DualWrite(Step):
    """The fields a dual write is made of; starting and stopping one share them."""

    column_fields = ("source", "target")

    table: str
    source: str
    target: str
    compute: Callable[[dict[str, Any]], Any] | None = None
    both_ways: bool = False
    sql: str | tuple[tuple[str, str], ...] | None = None  # on a database: what the trigger sets the target to

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.sql, dict):  # {dialect: expression}: stored as a tuple so the step stays hashable
            object.__setattr__(self, "sql", tuple(sorted(self.sql.items())))
        if self.source == self.target:
            raise self._refuse("source and target must be different columns")

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.source, self.target)
        return list(columns)

    def _other(self, cls: type[_DualWrite]) -> _DualWrite:
        return cls(
            self.table, self.source, self.target, self.compute, self.both_ways, self.sql, label=f"undo_{self.name}"
        )


@dataclass(frozen=True, repr=False)
class StartDualWrite(_DualWrite):
    """Install a trigger so that writes to ``source`` also set ``target`` (and back, if ``both_ways``).

    ``compute`` derives the target from the row (a computed column); without it the target is a copy,
    which is what a rename needs. ``both_ways`` also copies writes of the new column into the old one,
    so the old app version keeps reading fresh values while the new one writes.
    """

    kind = "start_dual_write"
    phase = "migrate"

    def reverse(self) -> Step:
        return self._other(StopDualWrite)

    def describe(self) -> str:
        how = "computed from the row" if (self.compute or self.sql) else "copied"
        back = f", and {self.target} -> {self.source}" if self.both_ways else ""
        return f"every write to {self.source} also sets {self.target} ({how}){back}"


@dataclass(frozen=True, repr=False)
class StopDualWrite(_DualWrite):
    """Remove the dual-write trigger once the app writes the new column itself."""

    kind = "stop_dual_write"
    phase = "contract"
    deploy_timing = "before"

    def reverse(self) -> Step:
        return self._other(StartDualWrite)

    def describe(self) -> str:
        return f"stop copying writes of {self.source} into {self.target}"
