"""Approach B for a pure rename: expose the new name through the new version's view, rename at contract.

This is how pgroll renames: no copy, no trigger, no backfill. App v2 reads and writes ``new`` through its
versioned view (``SELECT old AS new``); once v1 is gone, ``RenameColumnInPlace`` renames the column itself,
which both engines do instantly, and the view keeps working. It needs every app to go through the views.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._common import check_name
from ..errors import IrreversibleStepError
from .base import Step


@dataclass(frozen=True, repr=False)
class RenameInView(Step):
    """Create app ``version``'s view, in which column ``old`` is called ``new`` (database only)."""

    kind = "rename_in_view"
    phase = "expand"
    column_fields = ("old", "new")

    table: str
    old: str
    new: str
    version: str = "v2"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_name(self.version, kind="app version")
        if self.old == self.new:
            raise self._refuse("old and new must be different names")

    def reverse(self) -> Step:
        return RemoveView(self.table, self.version, label=f"undo_{self.name}")

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.old)
        self._absent(columns, self.new)
        return list(columns)  # the table itself does not change

    def describe(self) -> str:
        return f"app {self.version}'s view shows {self.old} as {self.new} (no copy, no trigger)"


@dataclass(frozen=True, repr=False)
class RemoveView(Step):
    """Drop app ``version``'s view (used by rollback)."""

    kind = "remove_view"
    phase = "expand"

    table: str
    version: str

    def reverse(self) -> Step:
        raise IrreversibleStepError(self.name, "it only exists to roll a rename_in_view back")

    def fit(self, columns: list[str]) -> list[str]:
        return list(columns)

    def describe(self) -> str:
        return f"drop app {self.version}'s view"
