"""What every step shares: a stable name, a phase, a reverse, a schema check, and what it tells the checks.

A step holds no run state: progress belongs to the runner that runs it (``MigrationRunner.progress``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, ClassVar, Literal

from .._common import check_name
from ..errors import IrreversibleStepError, StepDoesNotFitError

Phase = Literal["expand", "migrate", "contract"]
PHASES: tuple[Phase, ...] = ("expand", "migrate", "contract")
Meaning = Callable[[dict[str, Any]], Any]  # what a column should hold, from the app's logical row


@dataclass
class PlanWalk:
    """What the steps so far have done, as far as the rules care; each step updates it in ``track()``."""

    added: set[str] = field(default_factory=set)  # columns the plan added
    dual_writes: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)  # (source, target) -> columns
    copies: set[tuple[str, str]] = field(default_factory=set)  # (from, to): a write to one reaches the other
    backfilled: set[str] = field(default_factory=set)  # targets whose backfill has completed
    fed: set[str] = field(default_factory=set)  # columns a backfill or a dual write fills
    switched_away: set[str] = field(default_factory=set)  # columns readers moved away from
    aliases: set[str] = field(default_factory=set)  # names a versioned view shows for a column of another name
    shadowed: set[str] = field(default_factory=set)  # columns whose name the app now means another column by (a view)


@dataclass(frozen=True, kw_only=True, repr=False)
class Step:
    """Base class of all steps. Subclasses are frozen dataclasses: a step is data, a backend runs it.

    ``deploy`` names the app version rolled out as part of this step. Following the rule "expand before
    deploy, contract after deploy", expand and migrate steps change the database first and then roll out
    the app (``deploy_timing = "after"``); contract steps roll out the app first, so nothing still uses
    what they remove (``deploy_timing = "before"``).
    """

    kind: ClassVar[str] = "step"
    column_fields: ClassVar[tuple[str, ...]] = ()  # fields holding column names, checked on construction
    phase: ClassVar[Phase] = "migrate"
    deploy_timing: ClassVar[Literal["before", "after"]] = "after"
    batched: ClassVar[bool] = False
    in_transaction: ClassVar[bool] = True  # False: its statements must run outside a transaction (CONCURRENTLY)
    # the engines that can carry it out, checked once before a run (``operations.require``); ``elsewhere``: what
    # the others cannot do in place, for the refusal ("validate a constraint")
    engines: ClassVar[frozenset[str]] = frozenset({"memory", "sqlite", "postgresql"})
    elsewhere: ClassVar[str] = ""

    table: str  # every subclass re-declares it first, so it comes first positionally
    label: str | None = None
    deploy: str | None = None

    def __post_init__(self) -> None:
        schema, _, table = self.table.rpartition(".")  # "schema.table": a table outside the current schema
        check_name(table, kind="table")
        if schema:
            check_name(schema, kind="schema")
        for f in self.column_fields:
            value = getattr(self, f)
            if value is not None:
                check_name(value)

    def __repr__(self) -> str:
        """Fields in declaration order, leaving out those still at their default."""
        shown = []
        own_first = sorted(fields(self), key=lambda f: f.name in ("label", "deploy"))
        for f in own_first:
            if not f.repr or f.name.startswith("_"):
                continue
            value = getattr(self, f.name)
            if f.default is not MISSING and value == f.default:
                continue
            shown.append(f"{f.name}={_short(value)}")
        return f"{type(self).__name__}({', '.join(shown)})"

    @property
    def name(self) -> str:
        """The stable snake_case name used in history, logs and ``fail_at``."""
        return self.label or self.kind

    @property
    def reversible(self) -> bool:
        """Does the step have a reverse? (Only ``IrreversibleStepError`` means no; any other error is a bug.)"""
        try:
            self.reverse()
        except IrreversibleStepError:
            return False
        return True

    def reverse(self) -> Step:
        """The step that undoes this one (raises ``IrreversibleStepError`` if there is none)."""
        raise NotImplementedError

    def fit(self, columns: list[str]) -> list[str]:
        """Check the step against the data columns the earlier steps leave; return the columns after it."""
        raise NotImplementedError

    def describe(self) -> str:
        """One line for a learner: what the step does."""
        raise NotImplementedError

    def rows_per_batch(self) -> int | None:
        """Batched steps: rows per batch (``None``: the whole table in one)."""
        raise NotImplementedError(f"{type(self).__name__} is not batched")

    def batch_count(self, row_count: int) -> int:
        """Batched steps: how many batches ``row_count`` rows make."""
        size = self.rows_per_batch()
        if row_count == 0:
            return 0
        return 1 if size is None else -(-row_count // size)

    # what the step tells the safety checks and the traffic simulator --------------------
    def sql_texts(self) -> list[str]:
        """The SQL expressions the step writes into DDL (e.g. a ``SQL("now()")`` default), for the checks."""
        return []

    def track(self, walk: PlanWalk) -> None:
        """Record in ``walk`` what this step changes that the safety rules care about (default: nothing)."""
        return None

    def derive(self, meanings: dict[str, Meaning]) -> None:
        """Add to ``meanings`` what a column this step fills should hold (default: it fills none)."""
        return None

    # helpers for subclasses and for the implementations registered beside them -----------
    def refuse(self, reason: str) -> StepDoesNotFitError:
        """The error that refuses this step, before anything changes (for implementations and checks)."""
        return StepDoesNotFitError(self.name, self.table, reason)

    def _need(self, columns: list[str], *names: str) -> None:
        for n in names:
            if n not in columns:
                raise self.refuse(f"column {n!r} does not exist (columns: {', '.join(['id', *columns])})")

    def _absent(self, columns: list[str], name: str) -> None:
        if name in columns:
            raise self.refuse(f"column {name!r} already exists")


def _short(value: object) -> str:
    if callable(value):
        return getattr(value, "__name__", "<function>")
    return repr(value)
