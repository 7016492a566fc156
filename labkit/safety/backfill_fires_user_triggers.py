"""backfill-fires-user-triggers (PostgreSQL): the backfill's UPDATEs would fire the table's own triggers, because
the role may not SET session_replication_role: refused before any change, unless the step accepts it."""

from __future__ import annotations

from collections.abc import Iterator

from ..backends.base import EngineFacts
from ..backends.sql import fires_on_update
from .finding import Finding
from .rule import Rule
from .walk import StepState

HELP = ("As a superuser: GRANT SET ON PARAMETER session_replication_role TO the migrating role (PostgreSQL 15+), and "
        "labkit keeps them quiet in the backfill's transactions; or limit the trigger to its own columns (UPDATE OF "
        "...); or accept what it does: fire_triggers=True on the step (a plan file: \"fire_triggers\": true).")


def fired(states: list[StepState], facts: EngineFacts | None) -> Iterator[tuple[StepState, list[str]]]:
    """Each batched step that would fire user triggers the role cannot keep quiet, and has not accepted it."""
    if facts is None or facts.catalog is None or facts.quiet_triggers:
        return
    for st in states:
        if st.step.batched and not getattr(st.step, "fire_triggers", False):
            found = fires_on_update(facts.catalog, st.step)
            if found:
                yield st, found


def _check(states: list[StepState], facts: EngineFacts | None) -> Iterator[Finding]:
    for st, found in fired(states, facts):
        yield RULE.finding(
            st.step.name,
            f"Every row {st.step.name} writes would fire {', '.join(found)}: this role may not SET "
            "session_replication_role, which keeps a backfill's UPDATEs from firing the table's own triggers (an "
            "updated_at rewritten on every row, an audit row per row); a rollback cannot take that back.",
            HELP,
        )


RULE = Rule(
    id="backfill-fires-user-triggers",
    severity="error",
    problem="a backfill is an UPDATE of every row: the table's own UPDATE triggers would fire for each one (an "
    "updated_at rewritten, an audit row written), and a rollback cannot take their effects back. labkit keeps them "
    "quiet with session_replication_role = replica in the backfill's transactions (its own triggers are ENABLE "
    "ALWAYS), which a superuser may set, or a role granted SET on it.",
    solution="grant the migrating role SET on session_replication_role, limit the trigger to the columns it "
    "cares about (UPDATE OF ...), or accept its effects on the step (fire_triggers=True).",
    check=_check,
    engines=frozenset({"postgresql"}),
    needs_facts=True,
    blocks=True,
)
