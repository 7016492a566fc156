"""version-view-taken: a view the plan's app version would get is there already, another plan's."""

from __future__ import annotations

from collections.abc import Iterator

from ..backends.base import EngineFacts
from .finding import Finding
from .rule import Rule
from .walk import StepState


def _check(states: list[StepState], facts: EngineFacts | None) -> Iterator[Finding]:
    if facts is None:
        return
    for view in facts.taken_views:
        yield RULE.finding(
            None,
            f"The view {view} is there already, left by an earlier plan on {facts.table!r} for the app version that "
            "may still run on it: this plan's version of the same name would be deployed on that view instead.",
            f"Move the app off it (to the table, or to the view it should use), then drop it: labkit retire --db URL "
            f"--table {facts.table}; or name this plan's versions differently (apps=...).",
        )


RULE = Rule(
    id="version-view-taken",
    severity="error",
    echoes="pgroll names each version schema after its migration, so two migrations never share one",
    problem="labkit names a version's view after the version (labkit_v2.orders). A finished plan keeps the views "
    "of the versions that may still run; a later plan with a version of the same name would find the view made, "
    "deploy its version on a view that shows another plan's columns, and at its end drop it under the app that "
    "still uses it.",
    solution="retire the earlier plan's views once no app uses them (labkit retire), or name the new plan's "
    "versions differently.",
    check=_check,
    engines=frozenset({"sqlite", "postgresql"}),
    needs_facts=True,
    blocks=True,
)
