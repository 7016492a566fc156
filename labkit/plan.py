"""A migration plan: a name, an ordered list of steps, and the app versions it rolls out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .apps import AppVersion
from .errors import InvalidPlanError, StepNotFoundError
from .steps import PHASES, DropJournals, Step

MAX_PLAN_NAME = 200  # characters: a plan's name keys its row in labkit_migrations


def one_copy_taking_its_name_back(plans: Sequence[MigrationPlan], name: str) -> None:
    """Refuse plans that would share one contract where more than one column copy takes back its column's name."""
    renames = [p for p in plans if any(s.kind == "rename_column_in_place" for s in p.steps)]
    if len(renames) > 1:  # each copy's contract drops its column and renames the copy under the live views
        raise InvalidPlanError(name, "two column copies that each take back their column's name at complete cannot "
                               "share one contract yet (the views of the app version in between are rebuilt twice: "
                               "its prepared statements fail, and for an instant it has no view): run one plan, then "
                               "the other")  # fmt: skip


def one_journal_drop(steps: Sequence[Step]) -> list[Step]:
    """``steps`` with the journal drops of several plans as one step, where the first was: one transaction drops
    them all (a failure between two drops could not be rolled back)."""
    journals = [s for s in steps if isinstance(s, DropJournals)]
    if len(journals) < 2:
        return list(steps)
    merged = DropJournals(journals[0].table, tuple(c for s in journals for c in s.columns))
    return [merged if s is journals[0] else s for s in steps if s is journals[0] or s not in journals]


@dataclass(frozen=True, eq=True)
class MigrationPlan:
    """Plain data: can be printed, compared and built by hand before anything runs.

    A plan holds the very steps it was given (no copies) and no run state: the same plan can run on several
    tables, and each ``MigrationRunner`` reports its own progress.

    Args:
        name: what the plan does, e.g. ``"rename users.name to full_name"``.
        steps: the steps, in order.
        apps: the app versions the plan's steps deploy (``AppVersion``), first the one live at the start.
            Optional: without it the traffic simulator assumes one app that uses every column.
    """

    name: str
    steps: tuple[Step, ...]
    apps: tuple[AppVersion, ...] = field(default=())

    def __init__(self, name: str, steps: Sequence[Step], *, apps: Sequence[AppVersion] = ()) -> None:
        if not isinstance(name, str) or not name.strip():
            raise InvalidPlanError(str(name), "a plan needs a non-empty name")
        if len(name) > MAX_PLAN_NAME:  # it keys the plan's row in labkit_migrations (an index entry has a limit)
            raise InvalidPlanError(name[:60] + "...", f"a plan's name is at most {MAX_PLAN_NAME} characters")
        steps = tuple(steps)
        if not steps:
            raise InvalidPlanError(name, "a plan needs at least one step")
        for s in steps:
            if not isinstance(s, Step):
                raise InvalidPlanError(name, f"{s!r} is not a step")
        names = [s.name for s in steps]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise InvalidPlanError(
                name, f"step names must be unique, {', '.join(dupes)} repeats; give the steps distinct labels"
            )
        tables = sorted({s.table for s in steps})
        if len(tables) > 1:
            raise InvalidPlanError(name, f"all steps must act on one table, got {', '.join(tables)}")
        apps = tuple(apps)
        app_names = [a.name for a in apps]
        if len(set(app_names)) != len(app_names):
            raise InvalidPlanError(name, "app version names must be unique")
        for s in steps:
            if s.deploy is not None and apps and s.deploy not in app_names:
                raise InvalidPlanError(
                    name, f"step {s.name!r} deploys {s.deploy!r}, which is not one of {', '.join(app_names)}"
                )
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "apps", apps)

    @property
    def table(self) -> str:
        return self.steps[0].table

    def step(self, name: str) -> Step:
        for s in self.steps:
            if s.name == name:
                return s
        raise StepNotFoundError(name, ", ".join(s.name for s in self.steps))

    def combined_with(self, other: MigrationPlan, name: str | None = None) -> MigrationPlan:
        """One plan doing both: every expand step (this plan's, then ``other``'s), then every migrate step, then
        every contract step, so nothing irreversible runs before a step that can still fail; the app versions of
        both, this plan's first (a version both name must be the same in both).

        WHY: two safe plans in a row are not a safe plan: the first one's contract (a drop) would run before the
        second one's steps, and a failure in those could not be rolled back. Phases are what make a plan safe, so
        the plans are merged by phase."""
        one_copy_taking_its_name_back((self, other), name or self.name)
        apps = list(self.apps)
        for a in other.apps:
            mine = next((b for b in apps if b.name == a.name), None)
            if mine is None:
                apps.append(a)
            elif mine != a:
                raise InvalidPlanError(name or self.name, f"app {a.name} is not the same in both plans: "
                                                          f"{mine.describe()} / {a.describe()}")  # fmt: skip
        steps = one_journal_drop([s for phase in PHASES for plan in (self, other) for s in plan.steps
                                  if s.phase == phase])  # fmt: skip
        return MigrationPlan(name or f"{self.name}; {other.name}", steps, apps=apps)

    def app(self, name: str) -> AppVersion:
        for a in self.apps:
            if a.name == name:
                return a
        raise KeyError(name)

    def __str__(self) -> str:
        lines = [f"MigrationPlan {self.name!r} on table {self.table!r}"]
        for i, s in enumerate(self.steps, 1):
            lines.append(f"  {i}. [{s.phase:<8}] {s.name:<24} {s.describe()}")
        for a in self.apps:
            lines.append(f"  app {a.describe()}")
        return "\n".join(lines)
