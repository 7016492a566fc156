"""another-plan-cut-off: a different plan's run on this table was cut off; its triggers may still fire."""

from __future__ import annotations

from collections.abc import Iterator

from ..backends.base import EngineFacts
from .finding import Finding
from .rule import Rule
from .walk import StepState


def _check(states: list[StepState], facts: EngineFacts | None) -> Iterator[Finding]:
    if facts is None:
        return
    for plan, step in facts.cut_off_runs:
        if facts.other_run_live:
            yield RULE.finding(
                None,
                f"Plan {plan!r} is under way on {facts.table!r} (at step {step!r}): a process is running it now.",
                "Wait for it to finish (labkit status shows where it is), then run this plan; or stop it "
                "(Ctrl-C) and undo it: labkit rollback.",
            )
            continue
        yield RULE.finding(
            None,
            f"Plan {plan!r} is unfinished on {facts.table!r} at step {step!r} (cut off, or stopped for its "
            "deploy): what it set up (a dual-write trigger, a half-filled column) is still in place.",
            f"Finish it first: build plan {plan!r} exactly as it was and run it again "
            "(MigrationRunner(table).execute_plan(plan)), or undo it: "
            "MigrationRunner(table, resume='rollback').execute_plan(plan).",
        )


RULE = Rule(
    id="another-plan-cut-off",
    severity="error",
    echoes="gh-ost and pgroll refuse to start while another migration of the table is unfinished",
    problem="a second plan on a table where another plan's run was cut off mixes two migrations: the first one's "
    "trigger keeps firing, and once the second changes the table the first can neither resume nor roll back.",
    solution="finish or undo the cut-off run first (the same plan, run again; or with resume='rollback').",
    check=_check,
    engines=frozenset({"sqlite", "postgresql"}),
    needs_facts=True,
    blocks=True,
)
