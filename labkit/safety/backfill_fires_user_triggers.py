"""backfill-fires-user-triggers: the backfill's UPDATEs fire the table's own triggers (SQLite, or a PostgreSQL
role that may not set session_replication_role): ``updated_at`` rewritten, audit rows written, for every row."""

from __future__ import annotations

from collections.abc import Iterator

from ..backends.base import EngineFacts
from ..backends.sql import fires_on_update
from .finding import Finding
from .rule import Rule
from .walk import StepState


def _check(states: list[StepState], facts: EngineFacts | None) -> Iterator[Finding]:
    if facts is None or facts.catalog is None or facts.quiet_triggers:
        return
    for st in states:
        if st.step.batched:
            fired = fires_on_update(facts.catalog, st.step)
            if fired:
                yield RULE.finding(
                    st.step.name,
                    f"Every row the backfill writes fires {', '.join(fired)} on {facts.engine}; what those "
                    "triggers do is not undone by a rollback.",
                    "Make the trigger ignore the new column (UPDATE OF its own columns), or accept its effects; "
                    "on PostgreSQL, run as a role that may SET session_replication_role.",
                )


RULE = Rule(
    id="backfill-fires-user-triggers",
    severity="warning",
    problem="a backfill is an UPDATE of every row: the table's own UPDATE triggers fire for each one (an "
    "updated_at rewritten, an audit row written), and a rollback cannot take their effects back.",
    solution="labkit keeps them quiet on PostgreSQL (session_replication_role = replica in the backfill's "
    "transactions; its own triggers are ENABLE ALWAYS). Where it cannot, limit the trigger to the columns it "
    "cares about (UPDATE OF ...), or accept what it does.",
    check=_check,
    engines=frozenset({"sqlite", "postgresql"}),
    needs_facts=True,
)
