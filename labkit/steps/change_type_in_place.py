"""The unsafe baseline for a type change: ALTER TABLE ... ALTER COLUMN ... TYPE on a live table.

PostgreSQL rewrites the whole table (and rebuilds its indexes) under an ACCESS EXCLUSIVE lock: every read and
write of the table waits until the rewrite ends, seconds per million rows. (Only a change PostgreSQL can prove
changes no stored byte, such as ``varchar(50)`` to ``text``, skips the rewrite.) The safe way is expand/contract
into a new column (``build_change_type_migration``). SQLite has no ALTER COLUMN at all; the in-memory table has no
types. PostgreSQL only.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._common import check_definition
from ..dispatch import SqlRun, sql_statements
from ..errors import IrreversibleStepError
from .base import Step


@dataclass(frozen=True, repr=False)
class ChangeTypeInPlace(Step):
    """Change ``column``'s type to ``sql_type`` in place (``using``: an SQL expression for the conversion).
    ``previous``: the type to change back to on undo (without it the step cannot be undone)."""

    engines = frozenset({"postgresql"})
    elsewhere = "change a column's type"

    kind = "change_type_in_place"
    column_fields = ("column",)
    phase = "migrate"

    table: str
    column: str
    sql_type: str  # the new type, as SQL spells it: "bigint", "numeric(12,2)"
    using: str | None = None  # the conversion, an SQL expression over the column (ALTER ... TYPE ... USING)
    previous: str | None = None  # the type to change back to on undo; without it the step cannot be undone
    in_catalog: bool = False  # the server changes the catalog only (varchar(50) -> text): no rewrite, an instant lock

    def __post_init__(self) -> None:
        super().__post_init__()
        check_definition(self.sql_type, kind="type")
        if self.using is not None:
            check_definition(self.using, kind="USING expression")

    def reverse(self) -> Step:
        if self.previous is None:
            raise IrreversibleStepError(self.name, "the type it replaced is not known (give previous=)")
        return ChangeTypeInPlace(self.table, self.column, self.previous, None, self.sql_type,
                                 label=f"undo_{self.name}")  # fmt: skip

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.column)
        return list(columns)

    def describe(self) -> str:
        if self.in_catalog:
            return (f"change {self.column}'s type to {self.sql_type} in place (the catalog only: no rewrite, "
                    "an exclusive lock for an instant)")  # fmt: skip
        return f"change {self.column}'s type to {self.sql_type} in place (rewrites the table under an exclusive lock)"



@sql_statements.register
def _sql(step: ChangeTypeInPlace, run: SqlRun) -> list[str]:
    """PostgreSQL refuses to change the type of a column a view reads. labkit's own versioned views are dropped
    and made again around the ALTER, in its transaction, as a DBA would; a view of the user's makes the step fail
    (and roll back): that one is theirs to handle."""
    d, q, table = run.dialect, run.dialect.quote, run.table.qualified
    shown = set(run.table.views)
    views = {a.name: d.view_name(table, a.name) for a in (run.plan.apps if run.plan else ())}
    views = {version: view for version, view in views.items() if view in shown}
    columns = {version: run.view_columns(view) for version, view in views.items()}  # read before they go
    key = tuple(run.table.key) or ("id",)
    using = f" USING {step.using}" if step.using else ""
    return [
        *(d.drop_view_sql(view) for view in views.values()),
        f"ALTER TABLE {run.table.ref} ALTER COLUMN {q(step.column)} TYPE {step.sql_type}{using}",
        *(s for version in views for s in d.create_view_sql(table, version, {c: c for c in columns[version]}, key)),
    ]
