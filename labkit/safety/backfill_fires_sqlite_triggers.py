"""backfill-fires-sqlite-triggers (SQLite): the backfill's UPDATEs fire the table's own triggers, which SQLite has
no way to keep quiet: a warning, unless the step accepts it."""

from __future__ import annotations

from collections.abc import Iterator

from ..backends.base import EngineFacts
from .backfill_fires_user_triggers import fired
from .finding import Finding
from .rule import Rule
from .walk import StepState


def _check(states: list[StepState], facts: EngineFacts | None) -> Iterator[Finding]:
    for st, found in fired(states, facts):
        yield RULE.finding(
            st.step.name,
            f"Every row the backfill writes fires {', '.join(found)} on sqlite; what those triggers do is not "
            "undone by a rollback.",
            "Make the trigger ignore the new column (UPDATE OF its own columns), or accept its effects "
            "(fire_triggers=True on the step).",
        )


RULE = Rule(
    id="backfill-fires-sqlite-triggers",
    severity="warning",
    problem="a backfill is an UPDATE of every row: the table's own UPDATE triggers fire for each one (an "
    "updated_at rewritten, an audit row written), and a rollback cannot take their effects back. SQLite has no "
    "switch that keeps them quiet.",
    solution="limit the trigger to the columns it cares about (UPDATE OF ...), or accept its effects on the step "
    "(fire_triggers=True).",
    check=_check,
    engines=frozenset({"sqlite"}),
    needs_facts=True,
)
