"""drop-column-still-read (squawk: ban-drop-column; strong_migrations: remove_column).

Problem: dropping a column that the live app still reads or writes makes each of those requests fail.
Solution: switch reads away and roll out an app version that no longer names the column, then drop it;
stop every dual write that reads or writes it first.
"""

from __future__ import annotations

from ..steps import DropColumn
from .finding import Finding
from .walk import StepState, app_uses

RULE = "drop-column-still-read"


def check(states: list[StepState], table: object = None) -> list[Finding]:
    out = []
    for st in states:
        s = st.step
        if isinstance(s, DropColumn) and s.column in st.dual_write_columns:
            out.append(
                Finding(
                    RULE,
                    "error",
                    s.name,
                    f"Dropping {s.column!r} while a dual write still reads or writes it breaks every app write.",
                    "Stop the dual write (stop_dual_write) before dropping the column.",
                )
            )
        elif isinstance(s, DropColumn) and app_uses(st, s.column):
            who = f"app {st.app_during.name}" if st.app_during else "the running app"
            out.append(
                Finding(
                    RULE,
                    "error",
                    s.name,
                    f"Dropping {s.column!r} while {who} still uses it fails every request that names it.",
                    "Switch reads away from the column and roll out an app version that no longer names it "
                    "before the drop (deploy= on the drop step, or an earlier switch_reads).",
                )
            )
    return out
