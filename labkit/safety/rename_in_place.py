"""rename-in-place: renaming a column the running app still uses."""

from __future__ import annotations

from collections.abc import Iterator

from ..backends.base import EngineFacts
from ..steps import RenameColumnInPlace
from .finding import Finding
from .rule import Rule
from .walk import StepState, app_uses


def _check(states: list[StepState], facts: EngineFacts | None) -> Iterator[Finding]:
    for st in states:
        s = st.step
        if isinstance(s, RenameColumnInPlace) and app_uses(st, s.old):
            who = f"app {st.app_during.name}" if st.app_during else "the running app"
            yield RULE.finding(
                s.name,
                f"Renaming {s.old!r} to {s.new!r} in place breaks every request of {who} that names {s.old!r}.",
                "Add the new column, dual-write, backfill in batches, switch reads, and drop the old column "
                "last (build_rename_column_migration).",
            )


RULE = Rule(
    id="rename-in-place",
    severity="error",
    echoes="squawk: renaming-column; strong_migrations: rename_column",
    problem="``ALTER TABLE ... RENAME COLUMN`` is instant, and so is the outage: every query of the running app "
    "that names the old column fails until the new release is fully rolled out (and the new release fails if it "
    "rolls out first).",
    solution="add the new column, dual-write, backfill, switch reads, then drop the old one "
    "(``build_rename_column_migration``), or expose the new name through a view.",
    check=_check,
)
