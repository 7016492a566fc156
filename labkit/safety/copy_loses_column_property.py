"""copy-loses-column-property: a copied column would lose what the catalog gives the old one, or the copy
could not finish (its last step, dropping the old column, would fail or take more with it)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from ..backends.base import EngineFacts
from ..copy_column import column_copy
from ..steps import AddColumn, Backfill, DropColumn, SetColumnSettings, StartDualWrite, Step
from .finding import Finding
from .rule import Rule
from .walk import StepState


def copies(states: list[StepState]) -> list[tuple[str, Backfill, DropColumn]]:
    """Each copy in the plan: a column the plan adds, kept in step with ``source`` by a dual write (a copy, or a
    conversion: a type change) and filled by a backfill, then ``source`` dropped. ``(source, backfill, drop)``."""
    steps = [st.step for st in states]
    added = {s.column for s in steps if isinstance(s, AddColumn)}
    fed = {s.target: s.source for s in steps if isinstance(s, StartDualWrite)}
    found = []
    for i, s in enumerate(steps):
        if not isinstance(s, Backfill) or s.target not in added:
            continue
        source = s.source or fed.get(s.target)
        drop = next((d for d in steps[i:] if isinstance(d, DropColumn) and d.column == source), None)
        if source is not None and drop is not None:
            found.append((source, s, drop))
    return found


def _check(states: list[StepState], facts: EngineFacts | None) -> Iterator[Finding]:
    if facts is None or facts.catalog is None:
        return
    steps = [st.step for st in states]
    for source, backfill, drop in copies(states):
        if source not in facts.catalog.column_names:
            continue  # a cut-off run already dropped it: nothing left to lose
        needed = column_copy(facts.catalog, source, backfill.target, facts.engine, backfill.table)
        for reason in needed.cannot:
            yield RULE.finding(drop.name, f"Copying {source!r} into {backfill.target!r}: {reason}.",
                               "Rename it through views (approach B), or change the schema first.")  # fmt: skip
        for step in needed.steps:
            if not _kept(step, steps, conversion=backfill.source is None):
                yield RULE.finding(
                    backfill.name,
                    f"{backfill.target!r} would not get what {source!r} has: {step.describe()}"
                    f"{_differs(step, steps)}.",
                    "Build the plan with build_rename_column_migration(table, ...), which reads the catalog "
                    "and adds these steps.",
                )


def _plain(step: Step) -> Step:
    """The step as its SQL sees it: no label or deploy (names in the history, not in the database), a column's
    type as the engine spells it (no type is TEXT; case and spacing do not matter)."""
    out = dataclasses.replace(step, label=None, deploy=None)
    if isinstance(out, AddColumn):
        out = dataclasses.replace(out, sql_type=" ".join((out.sql_type or "text").lower().split()))
    return out


def _differs(step: Step, steps: list[Step]) -> str:
    """What a step of the same kind on the same column in the plan gives differently, field by field."""
    column = getattr(step, "column", None)
    near = [s for s in steps if type(s) is type(step) and getattr(s, "column", None) == column]
    if not near:
        return ""
    mine, theirs = _plain(step), _plain(near[0])
    diff = [f"{f.name}={getattr(theirs, f.name)!r} where the copy needs {getattr(mine, f.name)!r}"
            for f in dataclasses.fields(mine) if getattr(mine, f.name) != getattr(theirs, f.name)]  # fmt: skip
    return f" (your {step.kind} of {column!r} has {'; '.join(diff)})" if diff else ""


def _kept(step: Step, steps: list[Step], *, conversion: bool) -> bool:
    """Is ``step`` in the plan (as its SQL sees it: ``_plain``)? A conversion (a type change) adds its column with
    the new type, and gives it only the settings that type can hold (no storage or compression for an integer:
    ``builders._fit_to_type``)."""
    if _plain(step) in [_plain(s) for s in steps]:
        return True
    if conversion and isinstance(step, AddColumn):
        return True
    if conversion and isinstance(step, SetColumnSettings):
        wanted = (step.column, step.statistics, step.options)
        kept = [(s.column, s.statistics, s.options) for s in steps if isinstance(s, SetColumnSettings)]
        return wanted in kept or (step.statistics is None and not step.options)
    return False


RULE = Rule(
    id="copy-loses-column-property",
    severity="error",
    echoes="pgroll duplicates a column's constraints, indexes, default and comment before a backfill",
    problem="a rename by copy ends by dropping the old column, and with it everything the catalog attached to it: "
    "NOT NULL, DEFAULT, CHECK, foreign keys, indexes, UNIQUE, the comment. A copy without them accepts rows the "
    "table used to reject; a column another table's foreign key, a view or the primary key needs cannot be "
    "dropped at all, so the plan fails at its very last step.",
    solution="copy every property with build_rename_column_migration (it reads the catalog); where a property "
    "cannot be copied on this engine, rename through views (approach B) instead.",
    check=_check,
    engines=frozenset({"sqlite", "postgresql"}),
    needs_facts=True,
    blocks=True,
)
