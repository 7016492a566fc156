"""pandas views: rows at each phase with changed cells marked, a plan, a history, findings.

Presentation sits on top of the core: this module imports pandas; the core never imports this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
from pandas.io.formats.style import Styler

from ..plan import MigrationPlan
from ..plan_sql import PlanSql
from ..runner import Event, MigrationRunner
from ..safety import Finding
from ..table import TableLike, TableSnapshot

if TYPE_CHECKING:
    from ..convert import Conversion

CHANGED_STYLE = "background-color: #fff3b0; font-weight: bold"
NEW_COLUMN_STYLE = "background-color: #e8f4ff"


def snapshot_frame(snapshot: TableSnapshot | TableLike) -> pd.DataFrame:
    """A snapshot (or a table: in memory or in a database) as a DataFrame indexed by ``id``."""
    if not isinstance(snapshot, TableSnapshot):
        return snapshot.to_frame()
    data = dict(zip(snapshot.column_names[1:], snapshot.columns))
    index = pd.Index(list(snapshot.ids), name="id", dtype="int64")
    frame = pd.DataFrame({c: pd.Series(list(v), index=index, dtype=object) for c, v in data.items()}, index=index)
    typed: pd.DataFrame = frame.infer_objects()  # the stubs say Any
    return typed


def _frame(x: TableSnapshot | TableLike | pd.DataFrame) -> pd.DataFrame:
    return x if isinstance(x, pd.DataFrame) else snapshot_frame(x)


def changed_cells(
    before: TableSnapshot | TableLike | pd.DataFrame, after: TableSnapshot | TableLike | pd.DataFrame
) -> pd.DataFrame:
    """True where a cell of ``after`` differs from ``before``: a new row, a new column, or a new value."""
    old, new = _frame(before), _frame(after)
    mask: pd.DataFrame = pd.DataFrame(True, index=new.index, columns=new.columns)
    rows = new.index.intersection(old.index)
    for c in new.columns:
        if c in old.columns:
            a = new.loc[rows, c].astype(object)
            b = old.loc[rows, c].astype(object)
            same = (a == b) | (a.isna() & b.isna())
            mask.loc[rows, c] = ~same
    return mask


def rows_view(
    table: TableLike | TableSnapshot,
    *,
    before: TableSnapshot | TableLike | pd.DataFrame | None = None,
    columns: Sequence[str] | None = None,
    ids: Iterable[int] | None = None,
    limit: int = 8,
    caption: str | None = None,
) -> Styler:
    """The rows of a table (or of a snapshot) as a styled DataFrame: cells changed since ``before`` in yellow.

    Args:
        columns: the columns to show, in this order (put the old and the new column side by side).
        ids: the rows to show; by default the first ``limit`` rows.
    """
    frame = _frame(table)
    if columns is not None:
        # a column that is gone (or not there yet) shows as such, in its place, instead of an error
        frame = frame.reindex(columns=list(columns), fill_value="(no column)")
    selected = list(ids) if ids is not None else list(frame.index[:limit])
    frame = frame.loc[[i for i in selected if i in frame.index]]
    styles = pd.DataFrame("", index=frame.index, columns=frame.columns)
    if before is not None:
        mask = changed_cells(before, table).reindex(index=frame.index, columns=frame.columns, fill_value=False)
        styles = styles.mask(mask.astype(bool), CHANGED_STYLE)
    styler: Styler = frame.style.apply(lambda _: styles, axis=None).set_uuid("labkit")
    styler = styler.format(na_rep="NULL")
    if caption:
        styler = styler.set_caption(caption)
    return styler


def plan_frame(
    plan: MigrationPlan, progress: Mapping[str, float] | None = None, *, runner: MigrationRunner | None = None
) -> pd.DataFrame:
    """One row per step: its phase, what it does, the app it rolls out, whether it can be undone, progress.

    A plan holds no run state: pass ``runner=`` (its ``progress_pct(step)`` per step) or ``progress=result.progress``
    to show how far a run got; without either every step shows 0 (nothing applied yet).
    """
    if runner is not None and progress is not None:
        raise TypeError("give runner= or progress=, not both")
    done = {s.name: runner.progress_pct(s) for s in plan.steps} if runner is not None else (progress or {})
    frame: pd.DataFrame = pd.DataFrame(
        [
            {
                "step": s.name,
                "phase": s.phase,
                "does": s.describe(),
                "deploys": s.deploy or "",
                "reversible": s.reversible,
                "progress_pct": round(done.get(s.name, 0.0), 1),
            }
            for s in plan.steps
        ],
        index=pd.RangeIndex(1, len(plan.steps) + 1, name="#"),
    )
    return frame


def history_frame(history: Sequence[Event]) -> pd.DataFrame:
    """The runner's history, one row per tick."""
    rows = [
        {
            "tick": e.tick,
            "kind": e.kind,
            "step": e.step or "",
            "batch": e.batch if e.batch is not None else pd.NA,
            "phase": e.phase or "",
            "progress_pct": round(e.progress, 1),
            "plan_pct": round(e.plan_progress, 1),
            "apps": " ".join(f"{k}:{v:.0%}" for k, v in e.apps),
            "detail": e.detail,
        }
        for e in history
    ]
    frame = pd.DataFrame(rows, columns=list(rows[0]) if rows else ["tick"])
    if "batch" in frame:
        frame["batch"] = frame["batch"].astype("Int64")
    indexed: pd.DataFrame = frame.set_index("tick")
    return indexed


def findings_frame(findings: Sequence[Finding]) -> pd.DataFrame:
    """Safety findings as a table (an empty table with the same columns when the plan is safe)."""
    cols = ["rule", "severity", "step", "message", "help"]
    frame: pd.DataFrame = pd.DataFrame([{c: getattr(f, c) for c in cols} for f in findings], columns=cols)
    return frame


def conversions_frame(conversions: Sequence[Conversion], *, squawk: bool = False) -> pd.DataFrame:
    """``labkit convert --explain`` as a table: each statement, the lock it takes as written (with ``squawk``, the
    rules squawk finds it breaks), and what labkit does instead (the plan's steps, what it asks for, why it
    refuses)."""
    rows = [{"statement": c.statement.strip(), "as written": c.naive_lock or "a change labkit does not convert",
             **({"squawk": _squawk_says(c)} if squawk else {}), "labkit": c.instead}
            for c in conversions]  # fmt: skip
    cols = ["statement", "as written", *(["squawk"] if squawk else []), "labkit"]
    frame: pd.DataFrame = pd.DataFrame(rows, columns=cols)
    return frame


def _squawk_says(c: Conversion) -> str:
    if c.engine != "postgresql":
        return "(squawk lints PostgreSQL's migrations only)"
    return ", ".join(c.squawk_rules()) or "nothing"


def compare_snapshots(before: TableSnapshot, after: TableSnapshot) -> dict[str, Any]:
    """What differs between two snapshots: schema, row ids, and the number of changed cells."""
    schema_same = before.column_names == after.column_names
    ids_same = before.ids == after.ids
    changed = 0
    if schema_same and ids_same:
        changed = sum(a != b for ca, cb in zip(before.columns, after.columns) for a, b in zip(ca, cb))
    return {
        "identical": before == after,
        "same_schema": schema_same,
        "same_row_ids": ids_same,
        "changed_cells": changed if schema_same and ids_same else None,
    }


def mismatches(
    table: TableLike, column: str, expected: Callable[[dict[str, Any]], Any], *, source: str | None = None
) -> pd.DataFrame:
    """Rows whose ``column`` differs from ``expected(row)``, with the expected value beside it."""
    rows = []
    for row in table.rows():
        want = expected(row)
        if row[column] != want:
            shown = {"id": row["id"]}
            if source:
                shown[source] = row[source]
            rows.append({**shown, column: row[column], f"expected {column}": want})
    cols = ["id", *([source] if source else []), column, f"expected {column}"]
    frame: pd.DataFrame = pd.DataFrame(rows, columns=cols).set_index("id")
    return frame


def step_sql(sql: Mapping[str, PlanSql], step: str) -> str:
    """What ``step`` runs on each engine (``plan_sql_on_engines``), one engine after the other: print it."""
    blocks = []
    for engine, plan in sql.items():
        blocks.append(f"{engine}\n{'-' * len(engine)}\n{plan.for_step(step)}")
    return "\n\n".join(blocks)
