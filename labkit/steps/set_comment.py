"""COMMENT ON COLUMN: set (or remove) the documentation the catalog keeps for a column (PostgreSQL).

A comment is metadata: no query reads it, so setting one is safe at any time and needs no app rollout. It
takes a brief lock on the table, so it runs under the lock timeout like every other DDL statement. The step
holds the comment it replaces, so that it can be undone exactly; ``build_comment_migration`` reads it from
the catalog.

Only PostgreSQL keeps column comments: the in-memory table and SQLite refuse the step before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..dispatch import MemoryRun, SqlRun, memory_check, sql_check, sql_statements
from .base import Step

if TYPE_CHECKING:
    pass


@dataclass(frozen=True, repr=False)
class SetColumnComment(Step):
    """Set ``column``'s comment to ``comment`` (``None`` removes it); ``previous`` is the comment it replaces."""

    kind = "set_column_comment"
    column_fields = ("column",)
    phase = "expand"  # additive: nothing that runs depends on a comment

    table: str
    column: str
    comment: str | None  # the new comment; null removes it
    previous: str | None = None  # the comment it replaces, which a rollback puts back

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("comment", "previous"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise self.refuse(f"{name} must be text or None, got {type(value).__name__}")

    def reverse(self) -> Step:
        return SetColumnComment(self.table, self.column, self.previous, self.comment, label=f"undo_{self.name}")

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.column)
        return list(columns)

    def describe(self) -> str:
        if self.comment is None:
            return f"remove the comment of column {self.column}"
        return f"comment on column {self.column}: {self.comment!r}"


NO_COMMENTS = "keeps no column comments (only PostgreSQL does)"


@memory_check.register
def _refuse_in_memory(step: SetColumnComment, run: MemoryRun) -> None:
    raise step.refuse(f"the in-memory table {NO_COMMENTS}")


@sql_check.register
def _check_sql(step: SetColumnComment, run: SqlRun) -> None:
    raise step.refuse(f"{run.dialect.name} {NO_COMMENTS}")


@sql_check.register_for("postgresql")
def _check_postgresql(step: SetColumnComment, run: SqlRun) -> None:
    if not run.table.has_column(step.column):  # a copy's column, added by an earlier step of the plan
        return
    now = run.table.catalog().column(step.column).comment
    if now not in (step.previous, step.comment):  # (already step.comment: a resumed run, or the undo's check)
        raise step.refuse(
            f"column {step.column}'s comment is now {now!r}, not {step.previous!r} as the plan says: its undo would "
            "put back the wrong one. Build the plan again (build_comment_migration reads the comment now)"
        )


@sql_statements.register
def _sql(step: SetColumnComment, run: SqlRun) -> list[str]:
    d = run.dialect
    target = f"{run.table.ref}.{d.quote(step.column)}"
    return [f"COMMENT ON COLUMN {target} IS {d.literal(step.comment)}"]
