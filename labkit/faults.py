"""Failure injection: parse and check ``fail_at`` before anything runs.

Spellings (several may be joined with commas, or given as a list):

- ``"backfill"``: fail at the start of the step named ``backfill``, before it changes anything;
- ``"backfill:3"``: fail at the third batch of that step (batches 1 and 2 are applied, 3 is not);
- ``"rollback:add_column"``: fail while undoing ``add_column``; needs a forward fault to start the rollback,
  e.g. ``"backfill:3,rollback:add_column"``. The rollback then stops there: ``status == "rollback_failed"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .errors import InvalidFaultError
from .plan import MigrationPlan


@dataclass(frozen=True)
class Faults:
    step: str | None = None
    batch: int | None = None
    rollback: frozenset[str] = frozenset()

    def at(self, step: str, batch: int | None) -> bool:
        return self.step == step and self.batch == batch


def parse_faults(fail_at: str | Sequence[str] | None, plan: MigrationPlan, row_count: int) -> Faults:
    """Turn ``fail_at`` into ``Faults``, or raise ``InvalidFaultError`` with the reason."""
    if fail_at is None or fail_at == "" or fail_at == []:
        return Faults()
    if isinstance(fail_at, str):
        parts = [p.strip() for p in fail_at.split(",")]
    elif isinstance(fail_at, Sequence):
        parts = [str(p).strip() for p in fail_at]
    else:
        raise InvalidFaultError(fail_at, "give a string such as 'backfill:3' or a list of them")
    names = [s.name for s in plan.steps]
    index = {n: i for i, n in enumerate(names)}
    forward: tuple[str, int | None] | None = None
    rollback: set[str] = set()
    for part in parts:
        if not part:
            raise InvalidFaultError(fail_at, "empty fault point")
        if part.startswith("rollback:"):
            target = part.split(":", 1)[1]
            if target not in index:
                raise InvalidFaultError(fail_at, f"no step named {target!r}; steps: {', '.join(names)}")
            rollback.add(target)
            continue
        name, _, batch_text = part.partition(":")
        if name not in index:
            raise InvalidFaultError(fail_at, f"no step named {name!r}; steps: {', '.join(names)}")
        if forward is not None:
            raise InvalidFaultError(fail_at, "only one forward fault point per run")
        batch: int | None = None
        if batch_text:
            step = plan.steps[index[name]]
            if not step.batched:
                raise InvalidFaultError(fail_at, f"step {name!r} is not batched; use {name!r} alone")
            if not batch_text.isdigit() or int(batch_text) < 1:
                raise InvalidFaultError(fail_at, f"batch must be a whole number from 1, got {batch_text!r}")
            batch = int(batch_text)
            count = step.batch_count(row_count)
            if batch > count:
                raise InvalidFaultError(
                    fail_at,
                    f"step {name!r} will run {count} batch(es) on {row_count} rows, so batch {batch} never comes",
                )
        forward = (name, batch)
    if rollback and forward is None:
        raise InvalidFaultError(fail_at, "a rollback fault needs a forward fault to start the rollback")
    if forward is not None:
        fname, fbatch = forward
        for target in rollback:
            undone = index[target] < index[fname] or (target == fname and (fbatch or 0) > 1)
            if not undone:
                raise InvalidFaultError(
                    fail_at, f"step {target!r} is not undone when the plan fails at {fname!r}, so it cannot fail then"
                )
        return Faults(fname, fbatch, frozenset(rollback))
    return Faults()


def fault_matrix(plan: MigrationPlan, row_count: int) -> list[str]:
    """Every step at its start, and every batched step at its first, middle and last batch: the failure
    points a plan must survive (used by the tests and by the exercises' self-checks)."""
    points = []
    for step in plan.steps:
        points.append(step.name)
        if step.batched:
            n = step.batch_count(row_count)
            points += [f"{step.name}:{k}" for k in sorted({1, (n + 1) // 2, n}) if k >= 1]
    return points
