"""CREATE STATISTICS: an extended statistics object (PostgreSQL), rebuilt on a copied column.

PostgreSQL drops every statistics object that names a column with the column; a rename by copy builds each one
again on the copy (same kinds, the copy in place of the old column) before readers switch, and the copy takes the
old name when the old column goes. Building one takes a SHARE UPDATE EXCLUSIVE lock: writes go on. The statistics
themselves come with the next ANALYZE, as they would for the original.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._common import check_definition, check_object_name
from ..dispatch import SqlRun, sql_statements
from .base import Step

KINDS = ("ndistinct", "dependencies", "mcv")


@dataclass(frozen=True, repr=False)
class CreateStatistics(Step):
    """Create statistics object ``statistics`` ``ON`` these columns or expressions (naming ``column``)."""

    engines = frozenset({"postgresql"})
    elsewhere = "create extended statistics"

    kind = "create_statistics"
    column_fields = ("column",)
    phase = "migrate"

    table: str
    column: str
    statistics: str  # the statistics object's name
    on: str  # "a, b" or "a, (lower(b))"
    kinds: tuple[str, ...] = ()  # empty: every kind
    target: int | None = None  # ALTER STATISTICS ... SET STATISTICS
    drop: bool = False  # the undo: drop it

    def __post_init__(self) -> None:
        super().__post_init__()
        check_object_name(self.statistics, kind="statistics")
        check_definition(self.on, kind="statistics columns")
        for kind in self.kinds:
            if kind not in KINDS:
                raise self.refuse(f"kinds: {kind!r} is not one of {', '.join(KINDS)}")
        if self.target is not None and (isinstance(self.target, bool) or not isinstance(self.target, int)):
            raise self.refuse(f"target must be an integer, got {self.target!r}")

    def reverse(self) -> Step:
        return CreateStatistics(self.table, self.column, self.statistics, self.on, self.kinds, self.target,
                                drop=not self.drop, label=f"undo_{self.name}")  # fmt: skip

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.column)
        return list(columns)

    def describe(self) -> str:
        if self.drop:
            return f"drop statistics {self.statistics}"
        return f"create statistics {self.statistics} ({', '.join(self.kinds) or 'all kinds'}) on {self.on}"


@sql_statements.register
def _sql(step: CreateStatistics, run: SqlRun) -> list[str]:
    d, t = run.dialect, run.table
    ref = f"{d.quote(t.schema)}.{d.quote(step.statistics)}" if t.schema else d.quote(step.statistics)
    if step.drop:
        return [f"DROP STATISTICS IF EXISTS {ref}"]
    kinds = f" ({', '.join(step.kinds)})" if step.kinds else ""
    out = [f"CREATE STATISTICS IF NOT EXISTS {ref}{kinds} ON {step.on} FROM {t.ref}"]
    if step.target is not None:
        out.append(f"ALTER STATISTICS {ref} SET STATISTICS {step.target}")
    return out
