"""drop-column-still-read: dropping a column the live app (or a dual write) still uses."""

from __future__ import annotations

from collections.abc import Iterator

from ..backends.base import EngineFacts
from ..steps import DropColumn
from .finding import Finding
from .rule import Rule
from .walk import StepState, app_uses


def _check(states: list[StepState], facts: EngineFacts | None) -> Iterator[Finding]:
    for st in states:
        s = st.step
        if not isinstance(s, DropColumn):
            continue
        if s.column in st.dual_write_columns:
            yield RULE.finding(
                s.name,
                f"Dropping {s.column!r} while a dual write still reads or writes it breaks every app write.",
                "Stop the dual write (stop_dual_write) before dropping the column.",
            )
        elif app_uses(st, s.column):
            who = f"app {st.app_during.name}" if st.app_during else "the running app"
            yield RULE.finding(
                s.name,
                f"Dropping {s.column!r} while {who} still uses it fails every request that names it.",
                "Switch reads away from the column and roll out an app version that no longer names it "
                "before the drop (deploy= on the drop step, or an earlier switch_reads).",
            )


RULE = Rule(
    id="drop-column-still-read",
    severity="error",
    echoes="squawk: ban-drop-column; strong_migrations: remove_column",
    problem="dropping a column that the live app still reads or writes makes each of those requests fail.",
    solution="switch reads away and roll out an app version that no longer names the column, then drop it; stop "
    "every dual write that reads or writes it first.",
    check=_check,
)
