"""Rules that depend on the engine the plan will run on (they need ``table``: a database table handle).

- require-lock-timeout (squawk: require-timeout-settings; PostgreSQL). Problem: DDL waits for an ACCESS
  EXCLUSIVE lock behind any open transaction, and every later query queues behind the waiting DDL: the
  lock-queue outage. Solution: a lock_timeout on every DDL statement, with retries (labkit's default, 500 ms).
- adding-field-with-volatile-default (squawk: adding-field-with-default; strong_migrations: volatile default;
  PostgreSQL). Problem: ADD COLUMN with a VOLATILE default (random(), clock_timestamp(), gen_random_uuid()...)
  rewrites the whole table under an exclusive lock. Solution: add the column without a default, set the
  default afterwards, and backfill in batches.
- drop-column-rewrites-table (SQLite). Problem: SQLite's DROP COLUMN rewrites the table, holding the write
  lock for the whole copy (85-280 ms per million rows here). Solution: drop in a quiet window, or keep the
  unused column; it is harmless once nothing reads it.
"""

from __future__ import annotations

import re
from typing import Any

from .._common import SQL
from ..backends import backend_for
from ..steps import AddColumn, DropColumn
from .finding import Finding
from .walk import StepState

RULE = "engine-specific"
RULES = ("require-lock-timeout", "adding-field-with-volatile-default", "drop-column-rewrites-table")
_FUNCTION = re.compile(r"([a-z_][a-z0-9_]*)\s*\(", re.I)


def check(states: list[StepState], table: Any = None) -> list[Finding]:
    if table is None:
        return []
    dialect = backend_for(table).dialect
    db = getattr(table, "db", None)
    out: list[Finding] = []
    ddl = [st for st in states if st.step.kind != "backfill"]
    if dialect == "postgresql" and ddl and not getattr(db.dialect, "lock_timeout_ms", 0):
        out.append(
            Finding(
                "require-lock-timeout",
                "error",
                ddl[0].step.name,
                "DDL without a lock timeout can wait behind a long transaction while every other query queues "
                "behind it.",
                "Connect with a lock timeout (labkit.connect(url) uses 500 ms with retries); never 0.",
            )
        )
    for st in states:
        s = st.step
        if dialect == "postgresql" and isinstance(s, AddColumn) and isinstance(s.default, SQL):
            volatile = db.dialect.volatile_functions(db, sorted({m.lower() for m in _FUNCTION.findall(s.default.text)}))
            if volatile:
                out.append(
                    Finding(
                        "adding-field-with-volatile-default",
                        "error",
                        s.name,
                        f"Adding {s.column!r} with a volatile default ({', '.join(volatile)}) rewrites the whole "
                        "table under an exclusive lock.",
                        "Add the column with no default (or a constant), then backfill it in batches.",
                    )
                )
        if dialect == "sqlite" and isinstance(s, DropColumn):
            out.append(
                Finding(
                    "drop-column-rewrites-table",
                    "warning",
                    s.name,
                    f"On SQLite, dropping {s.column!r} rewrites the whole table while holding the write lock.",
                    "Drop in a quiet window, or leave the unused column in place.",
                )
            )
    return out
