"""What every step shares: a stable name, a phase, progress, a reverse, and a schema check."""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from typing import ClassVar, Literal

from .._common import check_name
from ..errors import StepDoesNotFitError

Phase = Literal["expand", "migrate", "contract"]
PHASES: tuple[Phase, ...] = ("expand", "migrate", "contract")


class _Progress:
    """Mutable progress held by an otherwise frozen step (not part of equality or hashing)."""

    __slots__ = ("done", "started", "total")

    def __init__(self) -> None:
        self.done = 0
        self.total = 1
        self.started = False


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

    label: str | None = None
    deploy: str | None = None
    _progress: _Progress = field(default_factory=_Progress, init=False, compare=False, repr=False, hash=False)

    def __post_init__(self) -> None:
        check_name(self.table, kind="table")  # type: ignore[attr-defined]  # every subclass declares it
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
    def progress_pct(self) -> float:
        """0-100: how much of this step's work is currently applied to the table."""
        p = self._progress
        return 100.0 * p.done / p.total if p.total else 100.0

    @property
    def is_complete(self) -> bool:
        p = self._progress
        return p.done >= p.total

    @property
    def reversible(self) -> bool:
        try:
            self.reverse()
        except Exception:
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

    # helpers for subclasses -------------------------------------------------------------
    def _refuse(self, reason: str) -> StepDoesNotFitError:
        return StepDoesNotFitError(self.name, self.table, reason)

    def _need(self, columns: list[str], *names: str) -> None:
        for n in names:
            if n not in columns:
                raise self._refuse(f"column {n!r} does not exist (columns: {', '.join(['id', *columns])})")

    def _absent(self, columns: list[str], name: str) -> None:
        if name in columns:
            raise self._refuse(f"column {name!r} already exists")

    def _set_progress(self, done: int, total: int) -> None:
        """Record ``done`` of ``total`` units; a step with no units (a backfill of 0 rows) counts as done."""
        if total <= 0:
            done = total = 1
        self._progress.done = done
        self._progress.total = total
        self._progress.started = True


def _short(value: object) -> str:
    if callable(value):
        return getattr(value, "__name__", "<function>")
    return repr(value)
