"""app-uses-missing-column: an app version rolled out while a column it names does not exist."""

from __future__ import annotations

from collections.abc import Iterator

from ..backends.base import EngineFacts
from .finding import Finding
from .rule import Rule
from .walk import StepState


def _check(states: list[StepState], facts: EngineFacts | None) -> Iterator[Finding]:
    for st in states:
        if st.columns is None or st.columns_after is None:  # a misfit: step-does-not-fit reports it
            return
        s, app = st.step, st.rolls_out
        if app is None:
            continue
        present = {*(st.columns if s.deploy_timing == "before" else st.columns_after), *st.aliases_after}
        missing = sorted(app.columns - present)
        if missing:
            yield RULE.finding(
                s.name,
                f"App {app.name} rolls out while {', '.join(map(repr, missing))} does not exist, so its requests fail.",
                "Expand before you deploy and contract after: add the column before this release, drop it after.",
            )


RULE = Rule(
    id="app-uses-missing-column",
    severity="error",
    echoes="expand before deploy, the order strong_migrations enforces",
    problem="an app version rolled out before the column it names exists (or after it is gone) fails every "
    "request that names it.",
    solution="expand before you deploy, contract after: add columns before the release that uses them, drop "
    "them after the release that stopped using them.",
    check=_check,
    needs_facts=True,
)
