"""VALIDATE CONSTRAINT: check the rows that existed before a NOT VALID constraint, without blocking writes.

``VALIDATE CONSTRAINT`` takes a SHARE UPDATE EXCLUSIVE lock: reads and writes go on while it scans. Run it after
the backfill, when every old row holds its value. Undoing it changes nothing: validating wrote no data and
changed no definition (undoing the ``AddConstraint`` before it removes the constraint). PostgreSQL only.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._common import check_object_name
from ..dispatch import SqlRun, sql_statements
from .base import Step


@dataclass(frozen=True, repr=False)
class ValidateConstraint(Step):
    """Validate constraint ``constraint`` (involving ``column``) against the rows already there."""

    engines = frozenset({"postgresql"})
    elsewhere = "validate a constraint"

    kind = "validate_constraint"
    column_fields = ("column",)
    phase = "migrate"

    table: str
    column: str
    constraint: str

    def __post_init__(self) -> None:
        super().__post_init__()
        check_object_name(self.constraint, kind="constraint")

    def reverse(self) -> Step:
        return KeepValidated(self.table, self.column, self.constraint, label=f"undo_{self.name}")

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.column)
        return list(columns)

    def describe(self) -> str:
        return f"validate constraint {self.constraint} against the existing rows (writes go on)"


@dataclass(frozen=True, repr=False)
class KeepValidated(ValidateConstraint):
    """The undo of a validation: nothing to do (no data or definition changed)."""

    kind = "keep_validated"

    def describe(self) -> str:
        return f"nothing to undo for {self.constraint}: validating changed no data"



@sql_statements.register
def _sql(step: ValidateConstraint, run: SqlRun) -> list[str]:
    q = run.dialect.quote
    return [f"ALTER TABLE {run.table.ref} VALIDATE CONSTRAINT {q(step.constraint)}"]


@sql_statements.register
def _undo_sql(step: KeepValidated, run: SqlRun) -> list[str]:
    return []
