"""Walk a plan once and record, before each step, what the rules need to know.

The walk names no step class: each step says what it changes through ``Step.track(walk)``, and the columns
before and after each step come from one pass of ``Step.fit`` here, which every rule then reads.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

from ..apps import AppVersion
from ..errors import StepDoesNotFitError
from ..plan import MigrationPlan
from ..steps import Step
from ..steps.base import PlanWalk


@dataclass(frozen=True)
class StepState:
    """The state of the migration just before ``step`` runs."""

    index: int
    step: Step
    app: AppVersion | None  # the app version live before the step (and its rollout) starts
    app_during: AppVersion | None  # the app version live while the step's database change happens
    rolls_out: AppVersion | None  # the app version this step deploys, if any
    dual_writes: frozenset[str]  # targets kept in step by an active dual write
    dual_write_columns: frozenset[str]  # every column (source or target) an active dual write uses
    copies: frozenset[tuple[str, str]]  # (from, to) pairs an active dual write copies, each direction apart
    backfilled: frozenset[str]  # targets whose backfill has completed
    added: frozenset[str]  # columns added by this plan so far
    switched_away: frozenset[str]  # columns readers moved away from
    aliases_after: frozenset[str]  # names versioned views show once this step ran (approach B)
    shadowed: frozenset[str]  # table columns whose name the app means another column by (RenameInView.shadows)
    needs_backfill: frozenset[str]  # every column the plan backfills or dual-writes, anywhere in it
    columns: tuple[str, ...] | None  # data columns before the step; None: no table given, or an earlier misfit
    columns_after: tuple[str, ...] | None  # data columns after it; None also when this step does not fit
    misfit: StepDoesNotFitError | None  # why this step cannot run on the table as the earlier steps leave it


def walk(plan: MigrationPlan, columns: Sequence[str] | None = None) -> list[StepState]:
    """The state before each step of ``plan``; ``columns``: the table's data columns, when a table is known."""
    needs = _walk_only(plan.steps).fed
    apps = {a.name: a for a in plan.apps}
    app = plan.apps[0] if plan.apps else None
    state = PlanWalk()
    cols = list(columns) if columns is not None else None
    states = []
    for i, s in enumerate(plan.steps):
        new_app = apps.get(s.deploy) if s.deploy else None
        during = new_app if (new_app and s.deploy_timing == "before") else app
        after, misfit = None, None
        if cols is not None:
            try:
                after = s.fit(list(cols))
            except StepDoesNotFitError as exc:
                misfit = exc
        before = copy.deepcopy(state)
        s.track(state)  # once: the state after the step is what it leaves for the next
        states.append(
            StepState(
                index=i,
                step=s,
                app=app,
                app_during=during,
                rolls_out=new_app,
                dual_writes=frozenset(t for _, t in before.dual_writes),
                dual_write_columns=frozenset(c for used in before.dual_writes.values() for c in used),
                copies=frozenset(before.copies),
                backfilled=frozenset(before.backfilled),
                added=frozenset(before.added),
                switched_away=frozenset(before.switched_away),
                aliases_after=frozenset(state.aliases),
                shadowed=frozenset(before.shadowed),
                needs_backfill=frozenset(needs),
                columns=tuple(cols) if cols is not None else None,
                columns_after=tuple(after) if after is not None else None,
                misfit=misfit,
            )
        )
        cols = after
        if new_app is not None:
            app = new_app
    return states


def _walk_only(steps: Sequence[Step]) -> PlanWalk:
    state = PlanWalk()
    for s in steps:
        s.track(state)
    return state


def app_uses(state: StepState, column: str, *, during: bool = True) -> bool:
    """Does the live app still name ``column``? Without app versions: every column the plan did not add,
    until reads are switched away from it."""
    app = state.app_during if during else state.app
    if app is not None:
        return column in app.columns and column not in state.shadowed  # (a shadowed name means the copy)
    return column not in state.added and column not in state.switched_away
