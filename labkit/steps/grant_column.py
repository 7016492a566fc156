"""GRANT on a column: the column-level privileges a role holds on the old column, given on its copy.

A role granted ``SELECT (email)`` rather than SELECT on the whole table reads the copy only once it holds the same
grant (the version views run with the reader's rights). Granted right after ``ADD COLUMN``, before any app reads
the copy; undone by REVOKE. PostgreSQL only.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._common import check_object_name
from ..dispatch import SqlRun, sql_statements
from .base import Step

PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "REFERENCES")


@dataclass(frozen=True, repr=False)
class GrantColumn(Step):
    """Grant each ``(role, privilege, with grant option)`` on ``column`` (role ``""``: PUBLIC); ``revoke``:
    take them back."""

    engines = frozenset({"postgresql"})
    elsewhere = "grant privileges on a column"

    kind = "grant_column"
    column_fields = ("column",)
    phase = "expand"

    table: str
    column: str
    privileges: tuple[tuple[str, str, bool], ...]  # [role, privilege, with grant option]; role "": PUBLIC
    revoke: bool = False  # take the privileges back instead

    def __post_init__(self) -> None:
        super().__post_init__()
        for item in self.privileges:
            if not (isinstance(item, tuple) and len(item) == 3 and item[1] in PRIVILEGES and isinstance(item[2], bool)):
                raise self.refuse(f"privileges: {item!r} is not (role, one of {', '.join(PRIVILEGES)}, true/false)")
            if item[0]:
                check_object_name(item[0], kind="role")

    def reverse(self) -> Step:
        return GrantColumn(self.table, self.column, self.privileges, revoke=not self.revoke, label=f"undo_{self.name}")

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.column)
        return list(columns)

    def describe(self) -> str:
        listed = ", ".join(f"{p} to {r or 'PUBLIC'}" for r, p, _ in self.privileges)
        return f"{'revoke' if self.revoke else 'grant'} {listed} on column {self.column}"


@sql_statements.register
def _sql(step: GrantColumn, run: SqlRun) -> list[str]:
    q = run.dialect.quote
    target = f"({q(step.column)}) ON {run.table.ref}"
    out = []
    for role, privilege, grantable in step.privileges:
        who = q(role) if role else "PUBLIC"
        if step.revoke:
            out.append(f"REVOKE {privilege} {target} FROM {who}{' CASCADE' if grantable else ''}")
        else:
            out.append(f"GRANT {privilege} {target} TO {who}{' WITH GRANT OPTION' if grantable else ''}")
    return out
