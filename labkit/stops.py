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
    """The plan's stops, in order of position (see the module's docstring for the three kinds). At each, the
    version to roll out is the one the plan has live there; a version that never writes NULL waits until the
    step that needs it (the fill), so versions deployed before it in between are rolled out at once, as one."""
    steps, contract = plan.steps, first_contract_step(plan)
    if not plan.apps:
        return (DeployStop(contract, (), "the contract phase comes next", steps[contract].name),) if (
            contract < len(steps)) else ()  # fmt: skip
    never = {a.name: set(a.never_null) for a in plan.apps}
    live_at, live = [], plan.apps[0].name  # the version the plan has live just before each step
    before: dict[int, str] = {}  # position -> the version that rolls out before the step there
    needed: dict[int, list[str]] = {}  # position -> why a stop is needed there
    for i, s in enumerate(steps):
        live_at.append(live)
        if not s.deploy or s.deploy == live:
            continue
        if s.deploy_timing == "before":
            before[i] = s.deploy
            needed.setdefault(i, []).append(f"the version live now still uses what {s.name} takes away")
        elif i < contract:
            fix = next((k for k in range(i + 1, contract)
                        if getattr(steps[k], "column", None) in never.get(s.deploy, ())), None)  # fmt: skip
            if fix is not None:
                needed.setdefault(fix, []).append(
                    f"app {s.deploy} writes no NULL into what {steps[fix].name} fixes: it must be out first")
        live = s.deploy
    if contract < len(steps):
        needed.setdefault(contract, []).append("the contract phase comes next")
    out: list[DeployStop] = []
    deployed = plan.apps[0].name
    for i in sorted(needed):
        versions = [live_at[i]] if live_at[i] != deployed else []
        if i in before:
            versions.append(before[i])
        if not versions and (out or i != contract):
            continue  # nothing to roll out here (a stop with nothing to deploy only as start's, before the contract)
        out.append(DeployStop(i, tuple(versions), "; ".join(needed[i]), steps[i].name))
        deployed = versions[-1] if versions else deployed
    if live != deployed:  # the last version deploys after the last step: the plan is done, then it rolls out
        out.append(DeployStop(len(steps), (live,), "the plan is done; its last app version rolls out now", None))
    return tuple(out)


def next_stop(plan: MigrationPlan, position: int, *, fresh: bool = False) -> DeployStop | None:
    """The stop a run from ``position`` (the index of the next step to run) ends at: the first one past it, or,
    for a run that has not started (``fresh``), the first one at all; None when the run goes to the end."""
    for s in deploy_stops(plan):
        if s.index > position or (fresh and s.index == position):
            return s if s.index < len(plan.steps) else None
    return None
