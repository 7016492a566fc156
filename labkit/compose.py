"""Several plans on one table as one plan: one expand, one migrate, one contract, and app versions that know what
every one of the plans does.

A migration file makes several changes to a table (Django writes a rename, an added field and a NOT NULL in one
migration); ``labkit convert`` turns each statement into a plan of its own, each with its own app versions, all
named from ``v1``. Run one after the other, they are a start / deploy / complete cycle each; merged naively, their
``v2`` are not the same version. ``compose`` merges them as one release train:

- **steps**: every plan's leading expand steps (the columns it adds) first, so a version another plan deploys can
  know them; then the rest of every plan's steps before its contract; then every plan's contract, so nothing
  irreversible runs before a step that can still fail; each plan's own order kept (not regrouped by phase: a type
  change's expand step that shows the copy under the column's name comes after its backfill), names made distinct;
- **app versions** walked with the steps: at each step that deploys a version of one of the plans, the composed
  version is what the app is then: the table's columns before the migration, with each plan's changes to its live
  version applied in order (what it reads and writes instead), plus every column a plan adds for the app to use
  (a column no version of its own plan names: an added field) once the step that adds it has run. The composed
  versions are named ``v1``, ``v2``, ... in the order they deploy. So the version deployed at the contract reads
  and writes the renamed column *and* the added one; ``labkit.stops`` then gives the fewest deploys the order
  allows.

Plans whose changes touch the same column are not composed (``InvalidPlanError``: run one, then the other), except
a plan that builds on a column an earlier one adds for the app (an index or a NOT NULL on an added field).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from .apps import AppVersion
from .errors import InvalidPlanError
from .plan import MAX_PLAN_NAME, MigrationPlan, one_copy_taking_its_name_back, one_journal_drop
from .steps import Step
from .stops import first_contract_step

_NAMES = ("column", "old", "new", "source", "target")  # step fields that name one of the table's columns
_SHAPE = frozenset({  # the steps that add, copy, rename, retype or drop a column (the others constrain or fill it)
    "add_column", "backfill", "change_type_in_place", "drop_column", "rename_column_in_place", "rename_in_view",
    "start_dual_write", "stop_dual_write", "switch_reads", "undo_backfill", "remove_view",
})  # fmt: skip
_REPLACING = frozenset({"drop_column", "rename_column_in_place"})  # a contract that takes a column away, or its name


def compose(plans: Sequence[MigrationPlan], base: Sequence[str], name: str | None = None) -> MigrationPlan:
    """One plan doing what ``plans`` do, in order, on one table whose data columns are ``base`` before any of them.
    See the module's docstring; ``InvalidPlanError`` when they cannot share one plan."""
    if not plans:
        raise InvalidPlanError(name or "composed", "nothing to compose")
    name = name or _name(plans)
    tables = sorted({p.table for p in plans})
    if len(tables) > 1:
        raise InvalidPlanError(name, f"one plan changes one table; these change {', '.join(tables)}")
    if len(plans) == 1:
        return plans[0]
    free, before = [], list(base)
    for p in plans:  # each plan was converted against the table as the steps of those before it leave it, their
        after = _after(p.steps, before)  # contracts aside (what they drop is still there for a later statement)
        named = {c for a in p.apps for c in (*a.reads, *a.writes)}
        free.append({c for c in after if c not in before and c not in named})
        before = _after(p.steps[: first_contract_step(p)], before)
    _disjoint(plans, free, name)
    tagged = _merged_steps(plans)
    if not any(p.apps for p in plans):
        return MigrationPlan(name, [s for _, s in tagged])
    live = [0] * len(plans)  # each plan's live version, by index into its apps
    columns, present = list(base), set[str]()  # the table's data columns as the steps leave them; free ones added
    current = AppVersion("v1", base, base)
    apps, steps = [current], []
    renamed: dict[tuple[int, str], str] = {}
    for i, step in tagged:
        if step.deploy_timing == "before" and step.deploy:
            current = _deploy(plans, i, step.deploy, live, base, free, present, apps, current, renamed)
        columns = step.fit(columns)
        present |= {c for f in free for c in f if c in columns}
        if step.deploy_timing == "after" and step.deploy:
            current = _deploy(plans, i, step.deploy, live, base, free, present, apps, current, renamed)
        steps.append((i, step))
    out = []
    for i, step in steps:
        changes: dict[str, object] = {}
        if step.deploy:
            changes["deploy"] = renamed.get((i, step.deploy))
        if isinstance(getattr(step, "version", None), str) and (i, step.version) in renamed:  # type: ignore[attr-defined]
            changes["version"] = renamed[(i, step.version)]  # type: ignore[attr-defined]
        out.append(dataclasses.replace(step, **changes) if changes else step)  # type: ignore[arg-type]
    return MigrationPlan(name, out, apps=apps)


def _name(plans: Sequence[MigrationPlan]) -> str:
    """The plans' names joined, or as many as fit a plan's name and how many more."""
    joined = "; ".join(p.name for p in plans)
    if len(joined) <= MAX_PLAN_NAME:
        return joined
    for k in range(len(plans) - 1, 0, -1):
        short = "; ".join(p.name for p in plans[:k]) + f"; and {len(plans) - k} more change(s)"
        if len(short) <= MAX_PLAN_NAME:
            return short
    return f"{len(plans)} changes of {plans[0].table}"


def _deploy(plans: Sequence[MigrationPlan], i: int, version: str, live: list[int], base: Sequence[str],
            free: list[set[str]], present: set[str], apps: list[AppVersion], current: AppVersion,
            renamed: dict[tuple[int, str], str]) -> AppVersion:  # fmt: skip
    """Plan ``i`` deploys its ``version``: the composed version the app is now (a new one, or the same)."""
    live[i] = [a.name for a in plans[i].apps].index(version)
    reads, writes, never = list(base), list(base), set()
    for j, plan in enumerate(plans):
        if plan.apps:
            first, now = plan.apps[0], plan.apps[live[j]]
            reads = _moved(reads, first.reads, now.reads)
            writes = _moved(writes, first.writes, now.writes)
            never |= set(now.never_null)
        added = [c for c in sorted(free[j]) if c in present]
        reads += [c for c in added if c not in reads]
        writes += [c for c in added if c not in writes]
    composed = AppVersion(f"v{len(apps) + 1}", reads, writes, [c for c in writes if c in never])
    if (composed.reads, composed.writes, composed.never_null) == (current.reads, current.writes, current.never_null):
        renamed.setdefault((i, version), current.name)  # the app as it is already: no deploy (a version's view
        return current  # shows only its columns: a plan that aliases one in its view composes with none, above)
    apps.append(composed)
    renamed[(i, version)] = composed.name
    return composed


def _moved(columns: list[str], before: Sequence[str], after: Sequence[str]) -> list[str]:
    """``columns`` with one plan's change from its first version (``before``) to its live one (``after``)."""
    gone, new = set(before) - set(after), [c for c in after if c not in before]
    return [c for c in columns if c not in gone] + [c for c in new if c not in columns]


def _after(steps: Sequence[Step], columns: Sequence[str]) -> list[str]:
    """The data columns ``steps`` leave of ``columns`` (a column a plan adds, named by none of its own versions, is
    one it adds for the app to use: an added field)."""
    out = list(columns)
    for s in steps:
        out = s.fit(out)
    return out


def _columns(plan: MigrationPlan, *, shape: bool, kinds: frozenset[str] | None = None) -> set[str]:
    """The columns ``plan``'s steps name: those whose shape they change (``shape``: added, copied, renamed,
    retyped, dropped), or those they only constrain, index or fill; ``kinds``: only steps of these kinds."""
    out: set[str] = set()
    for s in plan.steps:
        if (s.kind in _SHAPE) == shape and (kinds is None or s.kind in kinds):
            for field in _NAMES:
                value = getattr(s, field, None)
                out |= {value} if isinstance(value, str) else set()
    return out


def _disjoint(plans: Sequence[MigrationPlan], free: list[set[str]], name: str) -> None:
    """Refuse plans that change the shape of a column another one names (two copies of one column), or that
    constrain a column an earlier one drops or replaces at its contract (a NOT NULL on a column whose copy takes
    its name: the copy would not carry it); constraints and indexes on one column compose, and so does an index on
    a column an earlier plan adds or fills (its steps before the contract all run first)."""
    one_copy_taking_its_name_back(plans, name)
    aliased = [p for p in plans if any(s.kind == "rename_in_view" for s in p.steps)]
    versioned = [p for p in plans if len(p.apps) > 1 and p not in aliased]
    if aliased and versioned:  # its view shows the copy under the column's name; a composed version's would not
        raise InvalidPlanError(name, f"{aliased[0].name!r} shows a column through its own version's view, which a "
                               f"version of {versioned[0].name!r} would not: run one plan, then the other")  # fmt: skip
    shape = [_columns(p, shape=True) for p in plans]
    named = [_columns(p, shape=False) for p in plans]
    replaced = [_columns(p, shape=True, kinds=_REPLACING) for p in plans]
    for j in range(1, len(plans)):
        for i in range(j):
            shared = (shape[j] & (shape[i] | named[i])) | ((shape[i] & shape[j]) - free[i]) | (named[j] & replaced[i])
            if shared:
                raise InvalidPlanError(name, f"{plans[i].name!r} and {plans[j].name!r} both change "
                                             f"{', '.join(sorted(shared))}: run one plan, then the other")  # fmt: skip


def _merged_steps(plans: Sequence[MigrationPlan]) -> list[tuple[int, Step]]:
    """Every step: each plan's leading expand steps (the columns it adds), plan by plan; then the rest of each plan's
    steps before its contract; then each plan's contract; each plan's own order kept (a type change shows its
    copy under the column's name only after its backfill: an expand step after migrate steps), names made
    distinct; the plans' journals dropped in one step (one transaction: a failure between two drops could not
    roll back)."""
    taken: set[str] = set()
    out: list[tuple[int, Step]] = []
    parts = []
    for i, p in enumerate(plans):
        contract = first_contract_step(p)
        lead = next((k for k, s in enumerate(p.steps[:contract]) if s.phase != "expand"), contract)
        parts.append((i, p.steps[:lead], p.steps[lead:contract], p.steps[contract:]))
    # every plan's leading expand steps first (its new columns: a version another plan deploys earlier can then
    # know them), then the rest of each plan before its contract, then every contract
    order = [(i, steps) for k in (1, 2, 3) for i, *three in parts for steps in [three[k - 1]]]
    for i, steps in order:
        for s in steps:
            label, n = s.name, 2
            while label in taken:
                label, n = f"{s.name}_{n}", n + 1
            taken.add(label)
            out.append((i, s if label == s.name else dataclasses.replace(s, label=label)))
    tags = {id(s): i for i, s in out}  # (the one journal drop deploys nothing: its tag is never read)
    return [(tags.get(id(s), 0), s) for s in one_journal_drop([s for _, s in out])]


def renumbered(plan: MigrationPlan, offset: int) -> MigrationPlan:
    """``plan`` with each app version named ``vK`` renamed ``v(K + offset)``, in its apps and in the steps that name
    a version (what each deploys, the version a view is made for): a table's versions continue across plans, so
    the views an earlier plan left for the app still running are never the new plan's."""
    if offset == 0 or not plan.apps:
        return plan

    def new(name: str | None) -> str | None:
        if name is None or not (name.startswith("v") and name[1:].isdigit()):
            return name
        return f"v{int(name[1:]) + offset}"

    apps = [AppVersion(str(new(a.name)), a.reads, a.writes, a.never_null) for a in plan.apps]
    steps = []
    for s in plan.steps:
        changes: dict[str, object] = {}
        if s.deploy:
            changes["deploy"] = new(s.deploy)
        if isinstance(getattr(s, "version", None), str):
            changes["version"] = new(s.version)  # type: ignore[attr-defined]
        steps.append(dataclasses.replace(s, **changes) if changes else s)  # type: ignore[arg-type]
    return MigrationPlan(plan.name, steps, apps=apps)
