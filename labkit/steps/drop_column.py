"""DROP COLUMN: the contract step that removes the old structure once nothing uses it."""

from __future__ import annotations

from dataclasses import dataclass

from .._common import check_object_name
from ..dispatch import MemoryRun, SqlRun, memory_apply, sql_check, sql_statements
from ..errors import IrreversibleStepError
from .base import Step

RENAMED = ("index", "constraint", "statistics", "sequence", "cluster")


@dataclass(frozen=True, repr=False)
class DropColumn(Step):
    """Remove a column and its data. Not reversible: that is why it belongs at the very end."""

    kind = "drop_column"
    column_fields = ("column",)
    phase = "contract"
    deploy_timing = "before"

    table: str
    column: str
    # after the drop, in its transaction: ("index" | "constraint" | "statistics", name now, name to take), e.g.
    # the copies of the dropped column's indexes, constraints and statistics taking back the names the originals
    # had (PostgreSQL), then ("cluster", index, its name taken): CLUSTER ON the copy of the clustered index; and
    # before it, ("sequence", its name, the column to own it): a serial's sequence goes to its copy
    renames: tuple[tuple[str, str, str], ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        for kind, now, then in self.renames:
            if kind not in RENAMED:
                raise self.refuse(f"renames: {kind!r} is not one of {', '.join(RENAMED)}")
            check_object_name(now, kind="index" if kind == "cluster" else kind)
            check_object_name(then, kind={"sequence": "column", "cluster": "index"}.get(kind, kind))

    def reverse(self) -> Step:
        raise IrreversibleStepError(self.name, f"dropping {self.column!r} destroyed its data")

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.column)
        return [c for c in columns if c != self.column]

    def describe(self) -> str:
        app = f"app {self.deploy} rolls out first, then " if self.deploy else ""
        taken = [t for k, _, t in self.renames if k not in ("sequence", "cluster")]
        names = f"; its copies take the names {', '.join(taken)}" if taken else ""
        names += "".join(f"; sequence {n} goes to {c}" for k, n, c in self.renames if k == "sequence")
        return f"{app}drop column {self.column} (irreversible){names}"


@memory_apply.register
def _apply_in_memory(step: DropColumn, run: MemoryRun) -> None:
    run.table.drop_column(step.column)


@sql_statements.register
def _sql(step: DropColumn, run: SqlRun) -> list[str]:
    return _drop(step, run, [])  # PostgreSQL drops the column's indexes with it


@sql_statements.register_for("sqlite")
def _sql_sqlite(step: DropColumn, run: SqlRun) -> list[str]:
    if not run.table.has_column(step.column):
        return []
    # SQLite refuses to drop an indexed column: its indexes go first
    indexes = run.table.catalog().about(step.column).indexes
    return _drop(step, run, [f"DROP INDEX IF EXISTS {run.dialect.quote(i.name)}" for i in indexes])


def _drop(step: DropColumn, run: SqlRun, before: list[str]) -> list[str]:
    if not run.table.has_column(step.column):  # safe to re-run: a resumed run (or an undo) may meet it done
        return []
    d, t = run.dialect, run.table
    views = [v for v in t.views if step.column in run.view_columns(v)]  # a view naming it blocks the drop
    # SQLite rewrites the whole table here (see the rule drop-column-rewrites-table)
    drop = f"ALTER TABLE {t.ref} DROP COLUMN {d.quote(step.column)}"
    q = d.quote

    def qualified(name: str) -> str:  # each part quoted whole: a name may hold a dot
        return f"{q(t.schema)}.{q(name)}" if t.schema else q(name)

    # a serial's copy draws from the same sequence: it goes to the copy, not with the drop
    before += [f"ALTER SEQUENCE {qualified(now)} OWNED BY {t.ref}.{q(then)}"
               for kind, now, then in step.renames if kind == "sequence"]  # fmt: skip
    rename = {
        "index": lambda now, then: f"ALTER INDEX {qualified(now)} RENAME TO {q(then)}",
        "statistics": lambda now, then: f"ALTER STATISTICS {qualified(now)} RENAME TO {q(then)}",
        "constraint": lambda now, then: f"ALTER TABLE {t.ref} RENAME CONSTRAINT {q(now)} TO {q(then)}",
    }
    after = [rename[kind](now, then) for kind, now, then in step.renames if kind in rename]
    after += [f"ALTER TABLE {t.ref} CLUSTER ON {q(then)}" for kind, _, then in step.renames if kind == "cluster"]
    # the plan's own version views are rebuilt without the column, so an app version still running on one (the one
    # deployed after labkit start, while the next rolls out) keeps working; any other view naming it is dropped
    rebuilt = [s for v in views for s in run.view_without(v, step.column) or []]
    return [*(d.drop_view_sql(v) for v in views), *before, drop, *after, *rebuilt]


@sql_check.register
def _check_sql(step: DropColumn, run: SqlRun) -> None:
    if step.renames:  # (PostgreSQL's check, below, accepts them)
        raise step.refuse(f"{run.dialect.name} cannot rename an index or a constraint (renames=...)")


@sql_check.register_for("postgresql")
def _check_postgresql(step: DropColumn, run: SqlRun) -> None:
    return None
