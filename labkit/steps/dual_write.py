"""Dual writes on and off: keep the new column in step with every write the running app makes.

In memory a dual write is a ``DualWriteTrigger`` on the table; on SQLite, AFTER INSERT / AFTER UPDATE OF
triggers; on PostgreSQL, one BEFORE INSERT OR UPDATE PL/pgSQL trigger. Their SQL is below, per dialect.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._common import TRIGGER_PREFIX, SqlByDialect, sql_by_dialect, sql_for
from ..dispatch import MemoryRun, SqlRun, memory_apply, memory_check, sql_check, sql_statements
from ..table import DualWriteTrigger
from .backfill import derive_copy, refuse_python_only, refuse_sql_only, refuse_what_does_not_compile
from .base import Meaning, Step

if TYPE_CHECKING:
    from ..backends.dialect import Dialect
    from .base import PlanWalk


@dataclass(frozen=True, repr=False)
class _DualWrite(Step):
    """The fields a dual write is made of; starting and stopping one share them."""

    column_fields = ("source", "target")

    table: str
    source: str
    target: str
    compute: Callable[[dict[str, Any]], Any] | None = None  # Python only: the target from the row (in memory)
    both_ways: bool = False  # also copy writes of target back into source (old and new versions side by side)
    sql: SqlByDialect = None  # on a database: what the trigger sets the target to
    # PostgreSQL: the conversion's way back, an SQL expression over the row setting the source when a writer
    # changed only the target (a new version that writes only the converted column loses nothing on rollback)
    back: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "sql", sql_by_dialect(self.sql))  # a {dialect: expression} dict is welcome
        if self.source == self.target:
            raise self.refuse("source and target must be different columns")

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.source, self.target)
        return list(columns)

    def _other(self, cls: type[_DualWrite]) -> _DualWrite:
        return cls(
            self.table, self.source, self.target, self.compute, self.both_ways, self.sql, self.back,
            label=f"undo_{self.name}",
        )

    def _trigger(self) -> DualWriteTrigger:
        return DualWriteTrigger(self.source, self.target, self.compute, self.both_ways)


@dataclass(frozen=True, repr=False)
class StartDualWrite(_DualWrite):
    """Install a trigger so that writes to ``source`` also set ``target`` (and back, if ``both_ways``).

    ``compute`` derives the target from the row (a computed column); without it the target is a copy,
    which is what a rename needs. ``both_ways`` also copies writes of the new column into the old one,
    so the old app version keeps reading fresh values while the new one writes.
    """

    kind = "start_dual_write"
    phase = "migrate"

    def reverse(self) -> Step:
        return self._other(StopDualWrite)

    def describe(self) -> str:
        how = "computed from the row" if (self.compute or self.sql) else "copied"
        back = f", and {self.target} -> {self.source}" if self.both_ways else ""
        back += f", and {self.source} = {self.back} when a writer sets only {self.target}" if self.back else ""
        return f"every write to {self.source} also sets {self.target} ({how}){back}"

    def track(self, walk: PlanWalk) -> None:
        walk.dual_writes[(self.source, self.target)] = frozenset({self.source, self.target})
        walk.copies.add((self.source, self.target))
        if self.both_ways or self.back:
            walk.copies.add((self.target, self.source))
        walk.fed.add(self.target)

    def derive(self, meanings: dict[str, Meaning]) -> None:
        derive_copy(meanings, self.target, self.source, self.compute)


@dataclass(frozen=True, repr=False)
class StopDualWrite(_DualWrite):
    """Remove the dual-write trigger once the app writes the new column itself."""

    kind = "stop_dual_write"
    phase = "contract"
    deploy_timing = "before"

    def reverse(self) -> Step:
        return self._other(StartDualWrite)

    def describe(self) -> str:
        return f"stop copying writes of {self.source} into {self.target}"

    def track(self, walk: PlanWalk) -> None:
        walk.dual_writes.pop((self.source, self.target), None)
        walk.copies -= {(self.source, self.target), (self.target, self.source)}


# ---------------------------------------------------------------- in memory: a trigger object on the table


@memory_check.register
def _check_in_memory(step: _DualWrite, run: MemoryRun) -> None:
    refuse_sql_only(step, step.compute, step.sql)


@memory_apply.register
def _start_in_memory(step: StartDualWrite, run: MemoryRun) -> None:
    run.table.add_trigger(step._trigger())


@memory_apply.register
def _stop_in_memory(step: StopDualWrite, run: MemoryRun) -> None:
    trigger = step._trigger()
    if trigger not in run.table.triggers:
        raise step.refuse("there is no such dual write to stop")
    run.table.remove_trigger(trigger)


# ---------------------------------------------------------------- SQL: triggers, per dialect


@sql_check.register
def _check_sql(step: _DualWrite, run: SqlRun) -> None:
    _check_expression(step, run)
    if step.back is not None:  # (PostgreSQL's check, below, takes it)
        raise step.refuse(f"back= (a conversion's way back) is PostgreSQL's; {run.dialect.name} has none")


@sql_check.register_for("postgresql")
def _check_postgresql(step: _DualWrite, run: SqlRun) -> None:
    _check_expression(step, run)


def _check_expression(step: _DualWrite, run: SqlRun) -> None:
    refuse_python_only(step, step.compute, step.sql, run.dialect.name)
    if isinstance(step, StartDualWrite):  # stopping it runs no expression (nor is back= compiled here: it names
        refuse_what_does_not_compile(step, step.sql, run)  # the column the plan adds, not there before the run)


@sql_statements.register_for("sqlite")
def _start_sqlite(step: StartDualWrite, run: SqlRun) -> list[str]:
    match = " AND ".join(f"{run.dialect.quote(k)} = NEW.{run.dialect.quote(k)}" for k in run.table.key or ("id",))
    return _sqlite_triggers(run.dialect, run.table.name, step.source, step.target,
                            sql_for(step.sql, run.dialect.name), step.both_ways, match)  # fmt: skip


@sql_statements.register_for("postgresql")
def _start_postgresql(step: StartDualWrite, run: SqlRun) -> list[str]:
    return _postgres_trigger(run.dialect, run.table.qualified, step.source, step.target,
                             sql_for(step.sql, run.dialect.name), step.both_ways, step.back)  # fmt: skip


@sql_statements.register_for("sqlite")
def _stop_sqlite(step: StopDualWrite, run: SqlRun) -> list[str]:
    d, t = run.dialect, run.table.name
    return [f"DROP TRIGGER IF EXISTS {d.quote(n)}" for n in sqlite_trigger_names(t, step.source, step.target)]


@sql_statements.register_for("postgresql")
def _stop_postgresql(step: StopDualWrite, run: SqlRun) -> list[str]:
    d = run.dialect
    name, function = postgres_trigger_names(d, run.table.qualified, step.source, step.target)
    return [f"DROP TRIGGER IF EXISTS {d.quote(name)} ON {run.table.ref}", f"DROP FUNCTION IF EXISTS {function}()"]


def sqlite_trigger_names(table: str, source: str, target: str) -> list[str]:
    base = f"{TRIGGER_PREFIX}{table}_{source}_{target}"
    return [f"{base}_ins_fwd", f"{base}_upd_fwd", f"{base}_ins_back", f"{base}_upd_back"]


def _sqlite_triggers(
    d: Dialect, table: str, source: str, target: str, expr: str | None, both_ways: bool, match: str
) -> list[str]:
    """AFTER triggers that update the row just written (``match``: its key equals NEW's)."""
    q = d.quote
    t, s, g = q(table), q(source), q(target)
    ins_f, upd_f, ins_b, upd_b = (q(n) for n in sqlite_trigger_names(table, source, target))
    if expr:  # a computed column: always recompute from the row (its new values, in an AFTER trigger)
        value = f"({expr})"
        return [
            f"CREATE TRIGGER IF NOT EXISTS {ins_f} AFTER INSERT ON {t} FOR EACH ROW "
            f"BEGIN UPDATE {t} SET {g} = {value} WHERE {match}; END",
            f"CREATE TRIGGER IF NOT EXISTS {upd_f} AFTER UPDATE OF {s} ON {t} FOR EACH ROW "
            f"BEGIN UPDATE {t} SET {g} = {value} WHERE {match}; END",
        ]
    # a copy (a rename): copy when the writer set only the old column; with both_ways, also back
    stmts = [
        f"CREATE TRIGGER IF NOT EXISTS {ins_f} AFTER INSERT ON {t} FOR EACH ROW WHEN NEW.{g} IS NULL "
        f"BEGIN UPDATE {t} SET {g} = NEW.{s} WHERE {match}; END",
        f"CREATE TRIGGER IF NOT EXISTS {upd_f} AFTER UPDATE OF {s} ON {t} FOR EACH ROW "
        f"WHEN NEW.{g} IS OLD.{g} AND NEW.{g} IS NOT NEW.{s} "
        f"BEGIN UPDATE {t} SET {g} = NEW.{s} WHERE {match}; END",
    ]
    if both_ways:  # a write of the new column alone (a NULL too) flows back into the old one
        stmts += [
            f"CREATE TRIGGER IF NOT EXISTS {ins_b} AFTER INSERT ON {t} FOR EACH ROW "
            f"WHEN NEW.{s} IS NULL AND NEW.{g} IS NOT NULL "
            f"BEGIN UPDATE {t} SET {s} = NEW.{g} WHERE {match}; END",
            f"CREATE TRIGGER IF NOT EXISTS {upd_b} AFTER UPDATE OF {g} ON {t} FOR EACH ROW "
            f"WHEN NEW.{s} IS OLD.{s} AND NEW.{s} IS NOT NEW.{g} "
            f"BEGIN UPDATE {t} SET {s} = NEW.{g} WHERE {match}; END",
        ]
    return stmts


def postgres_trigger_name(table: str, source: str, target: str) -> str:
    """Identifiers are at most 63 bytes in PostgreSQL: long generated names stay unique with a hash."""
    name = f"{TRIGGER_PREFIX}{table}_{source}_{target}"
    return name if len(name) <= 63 else name[:50] + "_" + hashlib.sha1(name.encode()).hexdigest()[:12]


def postgres_trigger_names(d: Dialect, qualified: str, source: str, target: str) -> tuple[str, str]:
    """The trigger's name, and its function's, quoted in the table's schema."""
    schema, _, table = qualified.rpartition(".")
    name = postgres_trigger_name(table, source, target)
    return name, f"{d.quote(schema)}.{d.quote(name)}" if schema else d.quote(name)  # a column's dot stays in its name


def _postgres_trigger(
    d: Dialect, qualified: str, source: str, target: str, expr: str | None, both_ways: bool, back: str | None
) -> list[str]:
    q = d.quote
    name, function = postgres_trigger_names(d, qualified, source, target)
    table = d.quote_table(qualified)
    s, g = q(source), q(target)

    def changed(col: str) -> str:
        # "did this write change the column?" compared as text: json, xml, point ... have no equality operator
        return f"NEW.{col}::text IS DISTINCT FROM OLD.{col}::text"

    def kept(col: str) -> str:
        return f"NEW.{col}::text IS NOT DISTINCT FROM OLD.{col}::text"

    if expr:  # computed from the row: evaluate the expression over NEW as if it were the row
        compute = f"NEW.{g} := (SELECT {expr} FROM (SELECT NEW.*) AS _row);"
        on_insert = compute
        # computed too for a row the backfill has not reached yet, written by an app that leaves the source alone
        # (else a NOT NULL check the copy carries, enforced on every write already, would refuse that update)
        on_update = f"IF {changed(s)} OR NEW.{g} IS NULL THEN {compute} END IF;"
        if back:  # who wrote it is told by what the write changed: the target alone flows back, converted
            undo = f"NEW.{s} := (SELECT {back} FROM (SELECT NEW.*) AS _row);"
            on_insert = f"IF NEW.{g} IS NULL THEN {compute} ELSIF NEW.{s} IS NULL THEN {undo} END IF;"
            on_update = (f"IF {kept(g)} AND ({changed(s)} OR NEW.{g} IS NULL) THEN {compute} "
                         f"ELSIF {changed(g)} AND {kept(s)} THEN {undo} END IF;")  # fmt: skip
    else:
        on_insert = f"IF NEW.{g} IS NULL THEN NEW.{g} := NEW.{s};"
        # copied too: a row the backfill has not reached yet, written by an app that leaves the column out
        # (else the copy's NOT NULL check, enforced on every write already, would refuse that app's update)
        # who wrote it is told by what the write changed: a version that knows only the old column leaves the new
        # one as it was, and the other way round (a NULL it writes is a value like any other, and flows too)
        on_update = (
            f"IF {kept(g)} AND ({changed(s)} OR (NEW.{g} IS NULL AND NEW.{s} IS NOT NULL)) THEN NEW.{g} := NEW.{s};"
        )
        if both_ways:
            on_insert += f" ELSIF NEW.{s} IS NULL THEN NEW.{s} := NEW.{g};"
            on_update += f" ELSIF {changed(g)} AND {kept(s)} THEN NEW.{s} := NEW.{g};"
        on_insert += " END IF;"
        on_update += " END IF;"
    body = f"BEGIN IF TG_OP = 'INSERT' THEN {on_insert} ELSE {on_update} END IF; RETURN NEW; END"
    return [
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $labkit$ {body} $labkit$",
        f"DROP TRIGGER IF EXISTS {q(name)} ON {table}",
        f"CREATE TRIGGER {q(name)} BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()",
        # ALWAYS: it fires in replica mode too (the backfill's own sessions, a logical replica applying writes)
        f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {q(name)}",
    ]
