"""Is the copy right? Before the contract drops the old column, compare every row's new value with what the old
one says it should be, on the server, key range by key range.

spirit checks its copy with a CRC32 per chunk because it copies between two tables. A backfill here fills a column of
the same table, so the server can compare the two values of each row directly, which is exact where a checksum is
only probably right: the rows whose new value is not exactly what the plan makes of the old one (the copy's source
itself, or the plan's SQL conversion / computation), compared as the application reads them back (``_differs``),
counted in one read of the table; only when rows differ are the
key ranges read one by one, to name each range with a difference and its first differing key. ``labkit complete``
refuses to contract then (``labkit verify`` runs the check alone).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from . import keys
from ._common import sql_for
from .backends.db import DbTable
from .plan import MigrationPlan
from .steps import AddColumn, Backfill, StartDualWrite

VERIFY_ROWS = 500_000  # rows per compared range: one read of about 50-300 ms (the fewer ranges, the faster)


@dataclass(frozen=True)
class Mismatch:
    column: str
    lo: Any
    hi: Any
    rows: int  # rows in the range whose new value differs
    first: Any  # the first such key

    def __str__(self) -> str:
        return (f"{self.column}: {self.rows:,} row(s) differ in keys {keys.show(self.lo)}..{keys.show(self.hi)} "
                f"(first: {keys.show(self.first)})")  # fmt: skip


@dataclass
class Verification:
    """What was compared, how long it took, and every range that differs."""

    columns: list[str] = field(default_factory=list)
    ranges: int = 0
    rows: int = 0
    seconds: float = 0.0
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def summary(self) -> str:
        if not self.columns:
            return "nothing to verify: the plan fills no column from another"
        what = ", ".join(self.columns)
        if self.ok:
            return f"verified {what}: {self.rows:,} rows, every one as expected"
        return f"{what}: {len(self.mismatches)} key range(s) differ: " + "; ".join(map(str, self.mismatches[:5]))


def expectations(plan: MigrationPlan, engine: str) -> list[tuple[str, str]]:
    """``(column, SQL of what it must hold)`` for each column the plan adds and backfills: its source column, or
    the SQL expression of its conversion or computation (the one the dual write uses)."""
    added = {s.column for s in plan.steps if isinstance(s, AddColumn)}
    duals = {s.target: s for s in plan.steps if isinstance(s, StartDualWrite)}
    out = []
    for s in plan.steps:
        if not isinstance(s, Backfill) or s.target not in added:
            continue
        dual = duals.get(s.target)
        expr = sql_for(s.sql, engine) or (sql_for(dual.sql, engine) if dual is not None else None)
        source = s.source or (dual.source if dual is not None and expr is None else None)
        if expr is not None:
            out.append((s.target, f"({expr})"))
        elif source is not None:
            out.append((s.target, source))
    return out


def _differs(table: DbTable, column: str, want: str, *, copy: bool) -> str:
    """SQL true for a row whose ``column`` is not exactly ``want``: not as the application reads the two back.

    PostgreSQL: their text forms, ``want`` cast to the column's declared type first (what the dual write's
    assignment stores). ``=`` is not exact: it says ``-0`` is ``0`` (float8), ``1.000`` is ``1.0`` (numeric), boxes
    of one area are equal, and json and point have no ``=`` at all (verify crashed on them). SQLite: ``IS`` and,
    for a copy of a column (one declared type on both sides), the same storage class (``IS`` says ``1`` is ``1.0``);
    a computed value is stored with the column's affinity, so its class may differ from the expression's."""
    d = table.db.dialect
    ours = d.quote(column)
    if d.name == "postgresql":
        declared = table.catalog().column(column).type
        return f"({ours})::text IS DISTINCT FROM (CAST({want} AS {declared}))::text"
    same = f"{ours} IS {want}" + (f" AND typeof({ours}) = typeof({want})" if copy else "")
    return f"NOT ({same})"


def verify_copy(table: DbTable, plan: MigrationPlan, *, rows_per_range: int = VERIFY_ROWS) -> Verification:
    """Compare, range by range, each column ``plan`` fills with what it must hold (see ``expectations``)."""
    db, d = table.db, table.db.dialect
    found = Verification()
    began = time.perf_counter()
    keyset = table.keyset()
    key = table.key

    def fetch(sql: str, params: list[Any]) -> Any:
        rows = db.query(sql, params)
        return keys.value_of(rows[0], key) if rows else None

    for column, expected in expectations(plan, d.name):
        if not (table.has_column(column) and (expected.startswith("(") or table.has_column(expected))):
            continue  # not added yet, or its source already dropped: nothing left to compare
        found.columns.append(column)
        want = expected if expected.startswith("(") else d.quote(expected)
        names = ", ".join(d.quote(k) for k in key)
        differs = _differs(table, column, want, copy=not expected.startswith("("))
        # one read of the whole table first (a sequential scan, in parallel on PostgreSQL; it blocks no writer):
        # the key ranges are walked only to say where a difference is
        rows, differing = db.query(  # (CASE, not FILTER: SQLite before 3.30 has no FILTER)
            f"SELECT count(*), coalesce(sum(CASE WHEN {differs} THEN 1 ELSE 0 END), 0) FROM {table.ref}"
        )[0]
        found.rows += rows
        found.ranges += 1
        if not differing:
            continue
        first_key = names if len(key) == 1 else "NULL"
        sql = (f"SELECT count(*), sum(CASE WHEN {differs} THEN 1 ELSE 0 END), "
               f"min(CASE WHEN {differs} THEN {first_key} END) FROM {table.ref} WHERE {keyset.predicate}")  # fmt: skip
        for lo, hi in keyset.walk(fetch, lambda: rows_per_range):
            bound = [*keys.params(lo, key), *keys.params(hi, key)]
            _, count, first = db.query(sql, bound)[0]
            found.ranges += 1
            if count:
                if len(key) > 1:
                    first = fetch(f"SELECT {names} FROM {table.ref} WHERE {keyset.predicate} AND {differs} "
                                  f"ORDER BY {names} LIMIT 1", bound)  # fmt: skip
                found.mismatches.append(Mismatch(column, lo, hi, int(count), first))
    found.seconds = time.perf_counter() - began
    return found
