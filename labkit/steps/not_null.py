"""SET NOT NULL / DROP NOT NULL on an existing column (PostgreSQL).

``SET NOT NULL`` alone scans the whole table under an ACCESS EXCLUSIVE lock. Given a validated
``CHECK (column IS NOT NULL)`` (``AddConstraint`` NOT VALID, then ``ValidateConstraint``), PostgreSQL 12+ skips
the scan; the check is dropped in the same transaction, as pgroll does. ``DROP NOT NULL`` is instant; its undo,
``SET NOT NULL`` without such a check, scans (a rollback pays that once). SQLite cannot change a column's
nullability without rebuilding the table: refused before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._common import check_object_name
from ..dispatch import SqlRun, sql_statements
from .base import Step


@dataclass(frozen=True, repr=False)
class SetNotNull(Step):
    """Make ``column`` NOT NULL using the validated CHECK ``check`` (then dropped), if given."""

    engines = frozenset({"postgresql"})
    elsewhere = "change a column's NOT NULL"

    kind = "set_not_null"
    column_fields = ("column",)
    phase = "migrate"

    table: str
    column: str
    check: str | None = None  # a validated CHECK (column IS NOT NULL) that lets SET NOT NULL skip its scan

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.check is not None:
            check_object_name(self.check, kind="constraint")

    def reverse(self) -> Step:
        return DropNotNull(self.table, self.column, label=f"undo_{self.name}")

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.column)
        return list(columns)

    def describe(self) -> str:
        using = f", using the validated {self.check} (no scan)" if self.check else ""
        return f"make {self.column} NOT NULL{using}"


@dataclass(frozen=True, repr=False)
class DropNotNull(Step):
    """Let ``column`` hold NULL (instant), e.g. an old column that the new app version no longer writes."""

    engines = frozenset({"postgresql"})
    elsewhere = "change a column's NOT NULL"

    kind = "drop_not_null"
    column_fields = ("column",)
    phase = "migrate"

    table: str
    column: str

    def reverse(self) -> Step:
        return SetNotNull(self.table, self.column, label=f"undo_{self.name}")

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.column)
        return list(columns)

    def describe(self) -> str:
        return f"let {self.column} hold NULL (the next app version stops writing it)"



@sql_statements.register
def _set_sql(step: SetNotNull, run: SqlRun) -> list[str]:
    q, t = run.dialect.quote, run.table.ref
    out = [f"ALTER TABLE {t} ALTER COLUMN {q(step.column)} SET NOT NULL"]
    if step.check:
        out.append(f"ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {q(step.check)}")
    return out


@sql_statements.register
def _drop_sql(step: DropNotNull, run: SqlRun) -> list[str]:
    q = run.dialect.quote
    return [f"ALTER TABLE {run.table.ref} ALTER COLUMN {q(step.column)} DROP NOT NULL"]
