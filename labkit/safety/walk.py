"""Walk a plan once and record, before each step, what the rules need to know."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..apps import AppVersion
from ..plan import MigrationPlan
from ..steps import AddColumn, Backfill, StartDualWrite, Step, StopDualWrite, SwitchReads


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
    backfilled: frozenset[str]  # targets whose backfill has completed
    added: frozenset[str]  # columns added by this plan so far
    switched_away: frozenset[str]  # columns readers moved away from
    needs_backfill: frozenset[str]  # every column the plan backfills or dual-writes, anywhere in it


def walk(plan: MigrationPlan, table: Any = None) -> list[StepState]:
    apps = {a.name: a for a in plan.apps}
    app = plan.apps[0] if plan.apps else None
    needs = frozenset(s.target for s in plan.steps if isinstance(s, (Backfill, StartDualWrite)))
    dual: set[str] = set()
    dual_cols: dict[str, set[str]] = {}  # dual-write step key -> columns it uses
    done: set[str] = set()
    added: set[str] = set()
    away: set[str] = set()
    states = []
    for i, s in enumerate(plan.steps):
        new_app = apps.get(s.deploy) if s.deploy else None
        during = new_app if (new_app and s.deploy_timing == "before") else app
        states.append(
            StepState(
                index=i,
                step=s,
                app=app,
                app_during=during,
                rolls_out=new_app,
                dual_writes=frozenset(dual),
                dual_write_columns=frozenset(c for cols in dual_cols.values() for c in cols),
                backfilled=frozenset(done),
                added=frozenset(added),
                switched_away=frozenset(away),
                needs_backfill=needs,
            )
        )
        if isinstance(s, AddColumn):
            added.add(s.column)
        elif isinstance(s, StartDualWrite):
            dual.add(s.target)
            dual_cols[f"{s.source}->{s.target}"] = {s.source, s.target}
        elif isinstance(s, StopDualWrite):
            dual.discard(s.target)
            dual_cols.pop(f"{s.source}->{s.target}", None)
        elif isinstance(s, Backfill):
            done.add(s.target)
        elif isinstance(s, SwitchReads):
            away.add(s.old)
        if new_app is not None:
            app = new_app
    return states


def app_uses(state: StepState, column: str, *, during: bool = True) -> bool:
    """Does the live app still name ``column``? Without app versions: every column the plan did not add,
    until reads are switched away from it."""
    app = state.app_during if during else state.app
    if app is not None:
        return column in app.columns
    return column not in state.added and column not in state.switched_away
