"""Where a plan run from a terminal stops for a deploy: the plan's deploy points, read from its steps.

In Python the runner rolls each app version out itself, as the plan says. From a terminal (``labkit start`` /
``labkit complete``) and from Alembic the roll-out is the user's, so the run must stop wherever the next step needs
a version live everywhere that is not live yet, and go on only when the user runs the next command:

- **the contract** (pgroll's start / complete): expand and migrate run; the contract waits. The version to roll out
  is the newest one the expand and migrate steps deploy (one deploy, however many versions the steps name). With
  none to roll out there, it is a stop only when it is the first (``start`` ends before the contract, as pgroll's);
- **a version that must be out before later steps**: a version that never writes NULL into a column, before the
  steps that fill that column's NULLs and check it (the old version would go on writing NULLs);
- **a version that must be out before a contract step** (``deploy_timing = "before"``): the version that no longer
  writes the old column, before the step that drops it. Running that step at once would fail every write the
  version deployed at the last stop still makes.

A stop is a position in the plan (the run stops before ``plan.steps[index]``) and the versions to roll out there,
in order, each everywhere before the next. Pure data, from the plan alone: the runner, the CLI, ``labkit status``
and the Alembic export read the same stops.
"""

from __future__ import annotations

from dataclasses import dataclass

from .plan import MigrationPlan


@dataclass(frozen=True)
class DeployStop:
    """The run stops before ``plan.steps[index]`` (``index == len(plan.steps)``: after the last step, the plan
    done) for ``versions`` to roll out, in order; ``reason`` says why the next step needs them."""

    index: int
    versions: tuple[str, ...]
    reason: str
    step_name: str | None  # the step the run stops before (None: after the last)

    @property
    def version(self) -> str | None:
        """The version live everywhere once the user has rolled out what this stop asks (None: none asked)."""
        return self.versions[-1] if self.versions else None


def first_contract_step(plan: MigrationPlan) -> int:
    """How many steps come before the contract phase (``len(plan.steps)``: the plan has no contract)."""
    return next((i for i, s in enumerate(plan.steps) if s.phase == "contract"), len(plan.steps))


def deploy_stops(plan: MigrationPlan) -> tuple[DeployStop, ...]:
    """The plan's stops, in order of position (see the module's docstring for the three kinds)."""
    steps, contract = plan.steps, first_contract_step(plan)
    never = {a.name: set(a.never_null) for a in plan.apps}
    live = plan.apps[0].name if plan.apps else None
    found: dict[int, tuple[list[str], list[str]]] = {}  # index -> (versions, reasons)
    pending: str | None = None  # deployed by an expand / migrate step, needed by nothing before the contract

    def stop(index: int, version: str | None, reason: str) -> None:
        versions, reasons = found.setdefault(index, ([], []))
        if version is not None and version not in versions:
            versions.append(version)
        reasons.append(reason)

    for i, s in enumerate(steps):
        if i == contract and (pending is not None or not found):  # a stop with nothing to deploy only as start's
            stop(i, pending, "the contract phase comes next")
            pending = None
        if not s.deploy or s.deploy == live:
            continue
        live = s.deploy
        if s.deploy_timing == "before":
            stop(i, s.deploy, f"the version live now still uses what {s.name} takes away")
            pending = None
            continue
        fixed = [t.name for t in steps[i + 1 : contract] if getattr(t, "column", None) in never.get(s.deploy, ())]
        if i < contract and fixed:
            stop(i + 1, s.deploy, f"app {s.deploy} writes no NULL into what {fixed[0]} fixes: it must be out first")
            pending = None
        else:
            pending = s.deploy
    if pending is not None:  # the last version deploys after the last step: the plan is done, then it rolls out
        stop(len(steps), pending, "the plan is done; its last app version rolls out now")
    return tuple(DeployStop(i, tuple(v), "; ".join(r), steps[i].name if i < len(steps) else None)
                 for i, (v, r) in sorted(found.items()))  # fmt: skip


def next_stop(plan: MigrationPlan, position: int, *, fresh: bool = False) -> DeployStop | None:
    """The stop a run from ``position`` (the index of the next step to run) ends at: the first one past it, or,
    for a run that has not started (``fresh``), the first one at all; None when the run goes to the end."""
    for s in deploy_stops(plan):
        if s.index > position or (fresh and s.index == position):
            return s if s.index < len(plan.steps) else None
    return None
