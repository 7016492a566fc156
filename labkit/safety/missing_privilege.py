"""missing-privilege: the role (or the process) may not do what the plan needs, so it would fail at a step."""

from __future__ import annotations

from collections.abc import Iterator

from ..backends.base import EngineFacts
from .finding import Finding
from .rule import Rule
from .walk import StepState


def _check(states: list[StepState], facts: EngineFacts | None) -> Iterator[Finding]:
    if facts is None or not states:
        return
    for missing in facts.missing_privileges:
        yield RULE.finding(states[0].step.name, f"On {facts.table!r}, {missing}.",
                           "Grant what is missing, or run the plan as the table's owner.")  # fmt: skip


RULE = Rule(
    id="missing-privilege",
    severity="error",
    echoes="gh-ost's and pt-online-schema-change's privilege checks before they start",
    problem="a migration runs ALTER TABLE (the owner's right), creates trigger functions and views, and writes its "
    "state; a role without those rights gets half-way, then fails on a permission error.",
    solution="run as the table's owner (or a member of its role), with CREATE on its schema (and on the database "
    "for the app versions' view schemas).",
    check=_check,
    engines=frozenset({"sqlite", "postgresql"}),
    needs_facts=True,
    blocks=True,
)
