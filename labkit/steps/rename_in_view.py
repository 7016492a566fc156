"""Approach B for a pure rename: expose the new name through the new version's view, rename at contract.

This is how pgroll renames: no copy, no trigger, no backfill. App v2 reads and writes ``new`` through its
versioned view (``SELECT old AS new``); once v1 is gone, ``RenameColumnInPlace`` renames the column itself,
which both engines do instantly, and the view keeps working. It needs every app to go through the views,
so it has no in-memory implementation: the in-memory table has no views, and refuses the plan up front.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._common import check_name, check_rename, short_name
from ..dispatch import MemoryRun, SqlRun, memory_check, sql_statements
from ..errors import IrreversibleStepError
from .base import Step

if TYPE_CHECKING:
    from .base import PlanWalk


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
    # the table has a column ``new`` too, which the view shows ``old`` in place of (a type change that keeps its
    # name: ``old`` is the converted copy); the view shows that column as ``hidden``, with a NULL default, so an
    # insert that leaves it out lets the dual write fill it from the copy, not the table's default
    shadows: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        check_name(self.version, kind="app version")
        check_rename(self.table, self.old, self.new)

    @property
    def hidden(self) -> str:
        """The name the view shows the shadowed column ``new`` under (``shadows``)."""
        return short_name(f"{self.new}_labkit_old")

    def aliases(self) -> dict[str, str]:
        """What the view shows -> the real column behind it, beyond the version's own columns."""
        return {self.new: self.old, **({self.hidden: self.new} if self.shadows else {})}

    def reverse(self) -> Step:
        return RemoveView(self.table, self.version, label=f"undo_{self.name}")

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.old)
        if self.shadows:
            self._need(columns, self.new)
        else:
            self._absent(columns, self.new)
        return list(columns)  # the table itself does not change

    def describe(self) -> str:
        if self.shadows:
            return (f"app {self.version}'s view shows {self.old} as {self.new} (and {self.new} itself as "
                    f"{self.hidden}, until it is dropped)")  # fmt: skip
        return f"app {self.version}'s view shows {self.old} as {self.new} (no copy, no trigger)"

    def track(self, walk: PlanWalk) -> None:
        walk.aliases.add(self.new)
        if self.shadows:  # the app names the copy by this name from now on, not the table's column
            walk.shadowed.add(self.new)


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


@memory_check.register
def _refuse_in_memory(step: RenameInView, run: MemoryRun) -> None:
    raise step.refuse("the in-memory table has no views: approach B needs a database")


@sql_statements.register
def _sql(step: RenameInView, run: SqlRun) -> list[str]:
    app = next((a for a in (run.plan.apps if run.plan else ()) if a.name == step.version), None)
    if app is None:
        raise step.refuse(f"the plan has no app version {step.version!r}")
    return run.view_statements(app, aliases=step.aliases())


@sql_statements.register
def _remove_sql(step: RemoveView, run: SqlRun) -> list[str]:
    name = run.dialect.view_name(run.table.qualified, step.version)
    return [run.dialect.drop_view_sql(name)] if name in run.table.views else []
