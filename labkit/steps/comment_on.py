"""COMMENT ON INDEX / CONSTRAINT: the documentation of an index or a constraint, given to its copy.

A rename by copy rebuilds the old column's indexes and constraints; their comments are set on the copies right
after they are built (a comment follows its object when the copy later takes the old name). Metadata only, under
the lock timeout like every DDL statement. PostgreSQL only.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._common import check_object_name
from ..dispatch import SqlRun, sql_statements
from .base import Step

TARGETS = ("index", "constraint")


@dataclass(frozen=True, repr=False)
class CommentOn(Step):
    """Set the comment of index or constraint ``target`` (on ``column``) to ``comment``; ``previous`` is the one
    it replaces (``None``: none)."""

    engines = frozenset({"postgresql"})
    elsewhere = "comment on an index or a constraint"

    kind = "comment_on"
    column_fields = ("column",)
    phase = "migrate"

    table: str
    column: str
    on: str  # "index" or "constraint"
    target: str  # the index's or the constraint's name
    comment: str | None  # the new comment; null removes it
    previous: str | None = None  # the comment it replaces (null: none), which a rollback puts back

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.on not in TARGETS:
            raise self.refuse(f"on must be 'index' or 'constraint', got {self.on!r}")
        check_object_name(self.target, kind=self.on)
        for name in ("comment", "previous"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise self.refuse(f"{name} must be text or None, got {type(value).__name__}")

    def reverse(self) -> Step:
        return CommentOn(self.table, self.column, self.on, self.target, self.previous, self.comment,
                         label=f"undo_{self.name}")  # fmt: skip

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.column)
        return list(columns)

    def describe(self) -> str:
        if self.comment is None:
            return f"remove the comment of {self.on} {self.target}"
        return f"comment on {self.on} {self.target}: {self.comment!r}"


@sql_statements.register
def _sql(step: CommentOn, run: SqlRun) -> list[str]:
    d, t = run.dialect, run.table
    if step.on == "constraint":
        target = f"CONSTRAINT {d.quote(step.target)} ON {t.ref}"
    else:
        target = f"INDEX {d.quote(t.schema)}.{d.quote(step.target)}" if t.schema else f"INDEX {d.quote(step.target)}"
    return [f"COMMENT ON {target} IS {d.literal(step.comment)}"]
