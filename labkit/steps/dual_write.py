"""Dual writes on and off: keep the new column in step with every write the running app makes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._common import check_name
from .base import Step


@dataclass(frozen=True, repr=False)
class StartDualWrite(Step):
    """Install a trigger so that writes to ``source`` also set ``target`` (and back, if ``both_ways``).

    ``compute`` derives the target from the row (a computed column); without it the target is a copy,
    which is what a rename needs. ``both_ways`` also copies writes of the new column into the old one,
    so the old app version keeps reading fresh values while the new one writes.
    """

    kind = "start_dual_write"
    phase = "migrate"

    table: str
    source: str
    target: str
    compute: Callable[[dict[str, Any]], Any] | None = None
    both_ways: bool = False

    def __post_init__(self) -> None:
        check_name(self.table, kind="table")
        check_name(self.source)
        check_name(self.target)
        if self.source == self.target:
            raise self._refuse("source and target must be different columns")

    def reverse(self) -> Step:
        return StopDualWrite(
            self.table, self.source, self.target, self.compute, self.both_ways, label=f"undo_{self.name}"
        )

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.source, self.target)
        return list(columns)

    def describe(self) -> str:
        how = "computed from the row" if self.compute else "copied"
        back = f", and {self.target} -> {self.source}" if self.both_ways else ""
        return f"every write to {self.source} also sets {self.target} ({how}){back}"


@dataclass(frozen=True, repr=False)
class StopDualWrite(Step):
    """Remove the dual-write trigger once the app writes the new column itself."""

    kind = "stop_dual_write"
    phase = "contract"
    deploy_timing = "before"

    table: str
    source: str
    target: str
    compute: Callable[[dict[str, Any]], Any] | None = None
    both_ways: bool = False

    def __post_init__(self) -> None:
        check_name(self.table, kind="table")
        check_name(self.source)
        check_name(self.target)

    def reverse(self) -> Step:
        return StartDualWrite(
            self.table, self.source, self.target, self.compute, self.both_ways, label=f"undo_{self.name}"
        )

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.source, self.target)
        return list(columns)

    def describe(self) -> str:
        return f"stop copying writes of {self.source} into {self.target}"
