"""one-way-dual-write: during a rollout, the new app version's writes never reach the column the old one reads."""

from __future__ import annotations

from collections.abc import Iterator

from ..backends.base import EngineFacts
from ..steps import StartDualWrite
from .finding import Finding
from .rule import Rule
from .walk import StepState


def _check(states: list[StepState], facts: EngineFacts | None) -> Iterator[Finding]:
    pairs = {(st.step.source, st.step.target) for st in states if isinstance(st.step, StartDualWrite)}
    for st in states:
        old, new = st.app, st.rolls_out
        if old is None or new is None or old.name == new.name:
            continue
        for a, b in sorted(pairs):
            for src, dst in ((a, b), (b, a)):
                if dst not in new.writes or src in new.writes or src not in old.reads or (dst, src) in st.copies:
                    continue
                yield RULE.finding(
                    st.step.name,
                    f"While {old.name} and {new.name} share the traffic in this rollout, {new.name} writes {dst!r} "
                    f"but not {src!r}, which {old.name} reads, and no dual write copies {dst!r} into {src!r}: "
                    f"{old.name} serves stale values of every row {new.name} changed (lost writes).",
                    f"Make the dual write go both ways (StartDualWrite(..., both_ways=True)), or let {new.name} "
                    f"write {src!r} too until {old.name} is gone.",
                )


RULE = Rule(
    id="one-way-dual-write",
    severity="error",
    echoes="no squawk rule (it reads one statement); pgroll's up and down triggers, both ways",
    problem="a rollout runs the old and the new app version side by side. If the new one writes only the new "
    "column while the old one still reads the old column, and the dual write copies only old -> new, the old "
    "version keeps serving the value from before every write the new version made.",
    solution="dual write both ways while the versions overlap (a write to either column reaches the other), or "
    "have the new version write both columns until the old one is gone.",
    check=_check,
)
