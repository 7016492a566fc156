"""ADD CONSTRAINT ... NOT VALID: a CHECK or FOREIGN KEY that new writes obey at once, old rows checked later.

Adding a validated constraint scans the whole table under an ACCESS EXCLUSIVE lock: every query waits for the
scan. ``NOT VALID`` makes the change instant and enforces the constraint on every write from then on; the
existing rows are checked by ``ValidateConstraint`` after the backfill, under a lock that lets reads and writes
go on (strong_migrations' and pgroll's way). A UNIQUE constraint cannot be NOT VALID: it is added ``USING
INDEX`` of an index built concurrently before (``CreateIndex``), which is instant too.

PostgreSQL only: SQLite has no ADD CONSTRAINT (a copied column takes its CHECK and REFERENCES in ADD COLUMN).
"""

from __future__ import annotations

from dataclasses import dataclass

from .._common import check_definition, check_object_name
from ..dispatch import SqlRun, sql_statements
from ..errors import IrreversibleStepError
from .base import Step


@dataclass(frozen=True, repr=False)
class AddConstraint(Step):
    """Add constraint ``constraint`` (``definition``: ``CHECK (...)``, ``FOREIGN KEY (...) REFERENCES ...`` or
    ``UNIQUE USING INDEX ...``) that involves ``column``; ``not_valid``: old rows are validated later."""

    engines = frozenset({"postgresql"})
    elsewhere = "add or drop a constraint"

    kind = "add_constraint"
    column_fields = ("column",)
    phase = "migrate"  # a copy's constraints go in once its dual write fills the column (see copy_column.py)

    table: str
    column: str
    constraint: str
    definition: str  # after the name: "CHECK (...)", "FOREIGN KEY (...) REFERENCES ...", "UNIQUE USING INDEX ..."
    not_valid: bool = True  # NOT VALID: checked for new writes at once, the rows already there by a later validate

    def __post_init__(self) -> None:
        super().__post_init__()
        check_object_name(self.constraint, kind="constraint")
        check_definition(self.definition, kind="constraint definition")

    def reverse(self) -> Step:
        return DropConstraint(self.table, self.column, self.constraint, label=f"undo_{self.name}")

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.column)
        return list(columns)

    def describe(self) -> str:
        later = " NOT VALID (old rows checked later)" if self.not_valid else ""
        return f"add constraint {self.constraint} on {self.column}: {self.definition}{later}"


@dataclass(frozen=True, repr=False)
class DropConstraint(Step):
    """Drop constraint ``constraint`` (involving ``column``), if it is there."""

    engines = frozenset({"postgresql"})
    elsewhere = "add or drop a constraint"

    kind = "drop_constraint"
    column_fields = ("column",)
    phase = "contract"

    table: str
    column: str
    constraint: str

    def __post_init__(self) -> None:
        super().__post_init__()
        check_object_name(self.constraint, kind="constraint")

    def reverse(self) -> Step:

        raise IrreversibleStepError(self.name, "the constraint's definition is not kept")

    def fit(self, columns: list[str]) -> list[str]:
        return list(columns)

    def describe(self) -> str:
        return f"drop constraint {self.constraint}"



@sql_statements.register
def _add_sql(step: AddConstraint, run: SqlRun) -> list[str]:
    q = run.dialect.quote
    if any(c.name == step.constraint for c in run.table.catalog().constraints):  # a resumed run may meet it done
        return []
    later = " NOT VALID" if step.not_valid else ""
    return [f"ALTER TABLE {run.table.ref} ADD CONSTRAINT {q(step.constraint)} {step.definition}{later}"]


@sql_statements.register
def _drop_sql(step: DropConstraint, run: SqlRun) -> list[str]:
    q = run.dialect.quote
    return [f"ALTER TABLE {run.table.ref} DROP CONSTRAINT IF EXISTS {q(step.constraint)}"]
