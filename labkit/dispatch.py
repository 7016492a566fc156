"""What an operation registers next to itself: how each engine carries it out.

A step class (``labkit/steps/<operation>.py``) is plain data. Beside it, in the same module, the operation
registers its implementations on the generic functions below, the way Alembic registers
``@Operations.implementation_for(AddColumnOp)``::

    @memory_apply.register
    def _(step: AddColumn, run: MemoryRun) -> None: ...

    @sql_statements.register
    def _(step: AddColumn, run: SqlRun) -> list[str]: ...

The backends only call these functions; they never name a step class. Dispatch is ``functools.singledispatch``:
it follows the method resolution order, so a subclass of a step runs with its parent's implementation unless it
registers its own. An operation that an engine cannot run simply registers nothing for it, and the backend
refuses the plan before anything changes (``StepDoesNotFitError``, naming the engine).

SQL that differs per engine lives in the operation's module too, registered for that engine (Alembic's
``DefaultImpl`` / ``PostgresqlImpl`` by ``__dialect__``, Django's schema editors), never chosen by a test of the
engine's name inside an implementation::

    @sql_statements.register                      # every SQL engine (the generic form)
    def _(step: DropIndex, run: SqlRun) -> list[str]: ...

    @sql_statements.register_for("postgresql")    # PostgreSQL's own (wins over the generic form there)
    def _(step: DropIndex, run: SqlRun) -> list[str]: ...

What the dialects offer every operation (quoting, literals, types) is ``Dialect``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import singledispatch, update_wrapper
from typing import TYPE_CHECKING, Any, Protocol, cast

from .errors import NotImplementedHere, StepDoesNotFitError

if TYPE_CHECKING:
    from .apps import AppVersion
    from .backends.dialect import Dialect, Session, SqlTable
    from .steps.base import Step
    from .table import Table

# ---------------------------------------------------------------- the contexts an implementation receives


class RunPlan(Protocol):
    """The plan being run, as an implementation may read it (``MigrationPlan``): its steps and app versions."""

    @property
    def steps(self) -> Sequence[Step]: ...
    @property
    def apps(self) -> Sequence[AppVersion]: ...


@dataclass
class MemoryRun:
    """What an in-memory implementation may use: the table, the plan being run, and the backfill journal.

    ``journal`` maps a column to the batches written into it, each as (ids, the values they held before),
    so that an undo can put back exactly what a backfill overwrote.
    """

    table: Table
    plan: RunPlan | None = None
    journal: dict[str, list[tuple[Sequence[int], list[Any]]]] = field(default_factory=dict)


class SqlRun(Protocol):
    """What an SQL implementation may use (the SQL backend provides it)."""

    @property
    def table(self) -> SqlTable: ...
    @property
    def db(self) -> Session: ...
    @property
    def dialect(self) -> Dialect: ...
    @property
    def plan(self) -> RunPlan | None: ...

    def batch_predicate(self) -> str:
        """The ``WHERE`` condition of one batch: the rows whose key lies between two bound key values."""
        ...

    def view_statements(self, app: AppVersion, aliases: dict[str, str]) -> list[str]:
        """The statements that create ``app``'s versioned view (``aliases``: a name it shows -> a real column)."""
        ...

    def view_columns(self, view: str) -> list[str]:
        """The columns a view shows (as the table will be when the step runs)."""
        ...

    def view_without(self, view: str, column: str) -> list[str] | None:
        """The statements that create one of the plan's versioned views again, once dropped, without ``column`` (same
        name, same other columns); None for a view that is not the plan's, or not a plain one."""
        ...


# ---------------------------------------------------------------- the generic functions operations register on


@singledispatch
def memory_apply(step: Step, run: MemoryRun) -> None:
    """Carry out a (non-batched) step on the in-memory table."""
    raise NotImplementedHere


@singledispatch
def memory_batch(step: Step, run: MemoryRun, lo: int, hi: int) -> int:
    """Carry out one batch (ids ``lo..hi``) of a batched step on the in-memory table; return rows touched."""
    raise NotImplementedHere


@singledispatch
def memory_check(step: Step, run: MemoryRun) -> None:
    """Refuse, before anything changes, a step the in-memory table cannot run as given (default: accept)."""
    return None


class PerEngine:
    """A generic function of ``(step, run, ...)``: implementations registered per step class (``register``, for
    every SQL engine) and per step class and engine (``register_for("postgresql")``); a call walks the step's class
    and its parents, most specific first, and takes the first registered for it: the engine's own form, else the
    generic one (see ``dispatch``)."""

    def __init__(self, default: Callable[..., Any]) -> None:
        self._default = default
        self._any: Any = singledispatch(default)
        self._engines: dict[str, Any] = {}
        update_wrapper(self, default)

    def register(self, func: Callable[..., Any]) -> Callable[..., Any]:
        self._any.register(func)
        return func

    def register_for(self, engine: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def add(func: Callable[..., Any]) -> Callable[..., Any]:
            self._engines.setdefault(engine, singledispatch(self._default)).register(func)
            return func

        return add

    def dispatch(self, cls: type, engine: str | None = None) -> Callable[..., Any]:
        """The implementation a step of class ``cls`` gets on ``engine``: the most specific class first (a subclass's
        generic form wins over its parent's engine form), and for one class the engine's form over the generic."""
        own = self._engines.get(engine) if engine is not None else None
        for klass in cls.__mro__[:-1]:  # (object: the default)
            if own is not None and klass in own.registry:
                return cast("Callable[..., Any]", own.registry[klass])
            if klass in self._any.registry:
                return cast("Callable[..., Any]", self._any.registry[klass])
        return cast("Callable[..., Any]", self._any.dispatch(object))

    def implemented(self, cls: type, engine: str | None = None) -> bool:
        return self.dispatch(cls, engine) is not self._any.dispatch(object)

    def __call__(self, step: Step, run: SqlRun, *args: Any) -> Any:
        return self.dispatch(type(step), run.dialect.name)(step, run, *args)


def _sql_statements(step: Step, run: SqlRun) -> list[str]:
    """The statements that carry out a (non-batched) step, run in one transaction under the lock timeout."""
    raise NotImplementedHere


def _sql_batch(step: Step, run: SqlRun) -> str:
    """The statement that carries out one batch of a batched step; it binds the batch's ``lo`` and ``hi`` ids."""
    raise NotImplementedHere


def _sql_check(step: Step, run: SqlRun) -> None:
    """Refuse, before anything changes, a step this database cannot run as given (default: accept)."""
    return None


sql_statements = PerEngine(_sql_statements)
sql_batch = PerEngine(_sql_batch)
sql_check = PerEngine(_sql_check)


def implemented(generic: Callable[..., Any], step: Step, engine: str | None = None) -> bool:
    """Has an implementation been registered on ``generic`` for ``step``'s class (or one of its parents), for every
    engine or for ``engine``?"""
    if isinstance(generic, PerEngine):
        return generic.implemented(type(step), engine)
    registry: Any = generic
    return bool(registry.dispatch(type(step)) is not registry.dispatch(object))


def require(step: Step, table: str, engine: str, *generics: Callable[..., Any]) -> None:
    """Refuse ``step`` on ``engine`` unless the step declares it (``Step.engines``) and the implementation it needs
    is registered."""
    if engine not in step.engines and step.elsewhere:
        names = {"memory": "the in-memory table", "sqlite": "SQLite", "postgresql": "PostgreSQL"}
        can = " and ".join(names.get(e, e) for e in sorted(step.engines))
        raise step.refuse(f"{engine} cannot {step.elsewhere} on an existing table without rebuilding it ({can} can)")
    if not any(implemented(g, step, engine) for g in generics):
        where = "in-memory" if engine == "memory" else engine
        raise StepDoesNotFitError(step.name, table, f"the {where} backend cannot run {type(step).__name__}")


__all__ = [
    "MemoryRun",
    "NotImplementedHere",
    "PerEngine",
    "SqlRun",
    "implemented",
    "memory_apply",
    "memory_batch",
    "memory_check",
    "require",
    "sql_batch",
    "sql_check",
    "sql_statements",
]
