"""Builders for the plans the course teaches, and the unsafe baseline it contrasts them with."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, Literal

from ._common import SQL, check_batch_size, check_name, check_rename, short_name, sql_by_dialect
from .apps import AppVersion
from .backends.base import sql_literal
from .backends.dialect import SqlTable
from .backends.engine import backend_for
from .chunking import AUTO_START_ROWS, DEFAULT_CHUNK_MS, check_chunk_ms
from .compose import renumbered
from .copy_column import ColumnCopy, column_copy
from .errors import (
    ColumnExistsError,
    ColumnNotFoundError,
    InvalidArgumentError,
    KeyColumnError,
    StepDoesNotFitError,
)
from .plan import MigrationPlan
from .steps import (
    AddColumn,
    AddConstraint,
    Backfill,
    CreateIndex,
    DropColumn,
    DropJournals,
    FixRows,
    GuardFix,
    RenameColumnInPlace,
    RenameInView,
    SetDefault,
    SetNotNull,
    StartDualWrite,
    Step,
    StopDualWrite,
    SwitchReads,
    ValidateConstraint,
)
from .steps.column_settings import SetColumnSettings
from .steps.set_comment import NO_COMMENTS, SetColumnComment
from .table import TableLike


def continue_versions(plan: MigrationPlan, table: TableLike) -> MigrationPlan:
    """``plan`` with its app versions numbered after those whose views an earlier plan left on ``table`` (the
    versions that may still run): a second plan on a table needs no ``labkit retire`` first. Its first version is
    the app as it runs now, under a new name (v4 after a plan that ended on v3)."""
    if not isinstance(table, SqlTable) or not plan.apps or _resuming(table, plan.name):
        return plan  # (a run of this very plan under way: its views are its own, and its fingerprint stays)
    d = table.db.dialect
    left = set(table.views)
    taken = [n for n in range(1, 100) if d.view_name(table.qualified, f"v{n}") in left]
    mine = [a.name for a in plan.apps]
    if not any(d.view_name(table.qualified, v) in left for v in mine):
        return plan
    return renumbered(plan, max(taken))


def _continuing(build: Callable[..., MigrationPlan]) -> Callable[..., MigrationPlan]:
    """A builder whose plan's versions continue those an earlier plan left on the table (``continue_versions``)."""

    @functools.wraps(build)
    def wrapper(table: TableLike, *args: Any, **kwargs: Any) -> MigrationPlan:
        return continue_versions(build(table, *args, **kwargs), table)

    return wrapper


def _columns(table: TableLike) -> list[str]:
    return backend_for(table).data_columns()


def _resuming(table: TableLike, plan_name: str) -> bool:
    """A cut-off run of this very plan is recorded in the database: building it again resumes it."""
    return backend_for(table).in_progress(plan_name)


def _need(table: TableLike, column: str) -> None:
    cols = _columns(table)
    if column in cols:
        return
    if column in table.column_names:  # it exists: in the key
        key = table.key if isinstance(table, SqlTable) else ("id",)
        raise KeyColumnError(table.name, column, key)
    raise ColumnNotFoundError(table.name, column, ["id", *cols])


def _free(table: TableLike, column: str) -> None:
    check_name(column)
    if column in _columns(table):
        raise ColumnExistsError(table.name, column)


@_continuing
def build_add_column_migration(
    table: TableLike,
    column: str,
    *,
    default: Any = None,
    backfill: Callable[[dict[str, Any]], Any] | None = None,
    backfill_sql: str | Mapping[str, str] | None = None,
    source: str | None = None,
    sql_type: str | None = None,
    batch_size: int | Literal["auto"] = "auto",
    chunk_ms: float = DEFAULT_CHUNK_MS,
    pause: float = 0.0,
) -> MigrationPlan:
    """Add ``column`` with expand/migrate/contract.

    Without ``backfill`` it is one expand step (a nullable column, or one with a constant ``default``).
    With ``backfill`` (a function of the row, e.g. the domain of ``email``) the new column is computed: a
    dual write keeps it right for rows the app writes while the batched backfill fills the old rows, then
    app v2 (which reads it and writes it itself) rolls out and the dual write stops.

    Args:
        backfill_sql: the same computation as an SQL expression over the row, for a database (where a trigger
            cannot call Python); one string, or ``{"sqlite": ..., "postgresql": ...}``.
        source: the column ``backfill`` reads; the dual write fires on writes to it. Guessed when the table
            has a single data column, required otherwise.
        sql_type: the new column's type on a database (TEXT when not given).
        pause: seconds to wait between backfill batches on a database.

    WHY: an ``ADD COLUMN`` alone is safe, but a column the app must find *filled* is not: the old rows need a
    backfill, and rows the app writes while it runs need the dual write, or they keep a stale value forever (the
    lost update). The builder returns the whole expand -> migrate -> contract sequence as data, in the only order
    that is safe (dual write *before* the backfill, reads switched *after* it), so a learner cannot forget a step
    and the safety rules, the SQL view and the runner all read the same plan.
    """
    sizing = _sizing(table, batch_size, chunk_ms)
    if sql_type is not None and isinstance(table, SqlTable):  # a bad type is refused now, not at the run
        table.db.dialect.check_type(table.db, sql_type)
    computed = backfill is not None or backfill_sql is not None
    name = f"add {table.name}.{column}" + (f" computed from {source}" if computed and source else "")
    resuming = _resuming(table, name)
    if not resuming:
        _free(table, column)
    data = [c for c in _columns(table) if c != column] if resuming else _columns(table)
    add = AddColumn(table.qualified, column, default=default, sql_type=sql_type)
    if not computed:
        apps = (AppVersion("v1", data, data),)
        return MigrationPlan(name, [add], apps=apps)
    if backfill is not None and not callable(backfill):
        raise TypeError("backfill must be a function of the row (a dict), e.g. lambda row: row['email'].lower()")
    if backfill_sql is not None and not isinstance(backfill_sql, (str, Mapping)):
        raise TypeError("backfill_sql must be an SQL expression, or a {dialect: expression} mapping")
    sql = sql_by_dialect(backfill_sql)
    if source is None:
        if len(data) != 1:
            raise InvalidArgumentError(
                f"say which column {column!r} is computed from: source= one of {', '.join(data)} "
                "(the dual write fires when the app writes it)"
            )
        source = data[0]
        name = f"add {table.name}.{column} computed from {source}"
    _need(table, source)
    v1 = AppVersion("v1", data, data)
    v2 = AppVersion("v2", [*data, column], [*data, column])
    steps = [
        add,
        StartDualWrite(table.qualified, source, column, compute=backfill, sql=sql),
        Backfill(table.qualified, column, compute=backfill, sql=sql, pause=pause, **sizing),
        SwitchReads(table.qualified, source, column, deploy="v2"),
        StopDualWrite(table.qualified, source, column, compute=backfill, sql=sql),
    ]
    if isinstance(table, SqlTable):  # backfill_sql is compiled against the table now, not when a trigger holds it
        backend_for(table).check_step(steps[1])
    return MigrationPlan(name, steps, apps=(v1, v2))


def rename_apps(data: list[str], old: str, new: str) -> tuple[AppVersion, AppVersion, AppVersion]:
    """v1 uses ``old``; v2 reads ``new`` and writes both; v3 uses ``new`` only."""
    others = [c for c in data if c != old]
    return (
        AppVersion("v1", data, data),
        AppVersion("v2", [new, *others], [old, new, *others]),
        AppVersion("v3", [new, *others], [new, *others]),
    )


@_continuing
def build_rename_column_migration(
    table: TableLike,
    old: str,
    new: str,
    *,
    batch_size: int | Literal["auto"] = "auto",
    chunk_ms: float = DEFAULT_CHUNK_MS,
    pause: float = 0.0,
    approach: Literal["copy", "view"] = "copy",
) -> MigrationPlan:
    """Rename ``old`` to ``new`` with no downtime.

    ``approach="copy"`` (A, any engine): add ``new`` -> dual write both ways -> batched backfill -> switch
    reads (v2 rolls out) -> stop dual write -> v3 rolls out, then drop ``old``. On a database the copy gets
    every property the catalog gives ``old`` (type, NOT NULL, default, comment, CHECK, foreign keys, indexes:
    see ``labkit.copy_column``); what it cannot keep is an error of ``validate_migration_safety``, and the
    runner refuses the plan before any change.

    ``approach="view"`` (B, databases only, pgroll's way): app v2's view shows ``old`` as ``new`` and v2
    rolls out; then the column is renamed in place, which v2's view survives. No copy, no trigger, no
    backfill; it needs every app to read and write through its versioned view.

    WHY: ``RENAME COLUMN`` is instant for the database and an outage for the app: every running instance still
    names the old column. A rename without downtime is really "add the new name, keep both in step, move the
    app, drop the old name", with three app versions (old only, both, new only) so that each release meets a
    schema it can use. The copy is the portable approach; the views approach (B) trades the copy's extra writes
    for the rule that every app reads through a view.
    """
    sizing = _sizing(table, batch_size, chunk_ms)
    if approach not in ("copy", "view"):
        raise InvalidArgumentError(f"approach must be 'copy' or 'view', got {approach!r}")
    if approach == "view":
        return _rename_through_view(table, old, new)
    name = f"rename {table.name}.{old} to {new}"
    resuming = _resuming(table, name)
    check_rename(table.name, old, new)
    if resuming:  # a cut-off run: the table is part way; rebuild the plan it started from
        data = [c for c in _columns(table) if c != new]
        if old not in data:
            data = [old if c == new else c for c in _columns(table)]
    else:
        _need(table, old)
        _free(table, new)
        data = _columns(table)
    if isinstance(table, SqlTable):  # a real column: every property the catalog gives it is copied too
        copy = column_copy(table.catalog(), old, new, table.db.dialect.name, table.qualified)
    else:
        copy = ColumnCopy(AddColumn(table.qualified, new))
    steps = [
        copy.add,
        *copy.with_add,
        StartDualWrite(table.qualified, old, new, both_ways=True),
        *copy.with_dual_write,
        Backfill(table.qualified, new, source=old, pause=pause, **sizing),
        *copy.after_backfill,
        SwitchReads(table.qualified, old, new, deploy="v2"),
        *copy.after_switch,
        StopDualWrite(table.qualified, old, new, both_ways=True),
        *copy.after_stop,
        DropColumn(table.qualified, old, deploy="v3", renames=tuple(copy.renames)),
    ]
    return MigrationPlan(name, steps, apps=rename_apps(data, old, new))


def _rename_through_view(table: TableLike, old: str, new: str) -> MigrationPlan:
    name = f"rename {table.name}.{old} to {new} through views"
    check_rename(table.name, old, new)
    columns = _columns(table)
    if _resuming(table, name) and new in columns:
        columns = [old if c == new else c for c in columns]
    else:
        _need(table, old)
        _free(table, new)
    v1, v2, _ = rename_apps(columns, old, new)
    v2 = AppVersion("v2", v2.reads, [c for c in v2.writes if c != old])  # v2 only knows the new name
    steps = [
        RenameInView(table.qualified, old, new, version="v2", deploy="v2"),
        RenameColumnInPlace(table.qualified, old, new),
    ]
    return MigrationPlan(name, steps, apps=(v1, v2))


@_continuing
def build_naive_rename_migration(table: TableLike, old: str, new: str) -> MigrationPlan:
    """The unsafe baseline: rename in place, then roll out the app that uses the new name."""
    _need(table, old)
    check_rename(table.name, old, new)
    _free(table, new)
    data = _columns(table)
    v1, v2, _ = rename_apps(data, old, new)
    v2_new_only = AppVersion("v2", v2.reads, [c for c in v2.writes if c != old])
    steps = [RenameColumnInPlace(table.qualified, old, new, deploy="v2")]
    return MigrationPlan(f"naive rename {table.name}.{old} to {new}", steps, apps=(v1, v2_new_only))


def current_comment(table: TableLike, column: str) -> str | None:
    """The comment ``column`` has now, read from PostgreSQL's catalog (refused elsewhere, before any change)."""
    engine = table.db.dialect.name if isinstance(table, SqlTable) else "memory"
    if not isinstance(table, SqlTable) or engine != "postgresql":
        where = "the in-memory table" if engine == "memory" else engine
        raise StepDoesNotFitError(SetColumnComment.kind, table.name, f"{where} {NO_COMMENTS}")
    return table.catalog().column(column).comment  # (ColumnNotFoundError if it has no such column)


@_continuing
def build_comment_migration(table: TableLike, column: str, comment: str | None) -> MigrationPlan:
    """Set (or, with ``None``, remove) the comment of ``column`` (PostgreSQL); undone, it gets back the one it had."""
    previous = current_comment(table, column)  # refuses an engine with no comments before anything runs
    step = SetColumnComment(table.qualified, column, comment, previous)
    return MigrationPlan(f"comment on {table.name}.{column}", [step])


# ---------------------------------------------------------------- beyond add and rename (notebook 09)


def _fit_to_type(table: SqlTable, copy: ColumnCopy, sql_type: str) -> None:
    """What of the old column's properties the new type can hold: a collation only if it is collatable, a
    storage or compression only if it is not stored PLAIN (an integer); the rest is copied as it is."""
    collatable, plain = table.db.query(
        "SELECT typcollation <> 0, typstorage = 'p' FROM pg_type WHERE oid = %s::regtype", [sql_type]
    )[0]
    if not collatable:
        kept = tuple(c for c in copy.add.constraints if not c.upper().startswith("COLLATE "))
        copy.add = replace(copy.add, constraints=kept)
    if plain:
        fitted = [replace(s, storage=None, compression=None) if isinstance(s, SetColumnSettings) else s
                  for s in copy.with_add]  # fmt: skip
        copy.with_add = [s for s in fitted if not isinstance(s, SetColumnSettings) or s.statistics is not None
                         or s.options]  # fmt: skip


def _sizing(table: TableLike, batch_size: int | Literal["auto"], chunk_ms: float) -> dict[str, Any]:
    """A backfill's ``batch_size`` / ``chunk_ms``: ``"auto"`` sizes each batch on a database to take about
    ``chunk_ms`` (``labkit.chunking``); in memory, where a batch takes microseconds and a lab run must repeat
    exactly, it is a fixed 1,000 rows. A number is a fixed size everywhere."""
    if batch_size != "auto":
        return {"batch_size": check_batch_size(batch_size)}
    try:
        chunk_ms = check_chunk_ms(chunk_ms)
    except ValueError as exc:
        raise InvalidArgumentError(str(exc)) from None
    if isinstance(table, SqlTable):
        return {"batch_size": AUTO_START_ROWS, "chunk_ms": chunk_ms}
    return {"batch_size": AUTO_START_ROWS}


def _one_app(table: TableLike) -> tuple[AppVersion]:
    data = _columns(table)
    return (AppVersion("v1", data, data),)


def _pg_quote(name: str) -> str:
    return '"' + check_name(name).replace('"', '""') + '"'


@_continuing
def build_change_type_migration(
    table: TableLike,
    column: str,
    new_column: str,
    sql_type: str,
    *,
    using: str | Mapping[str, str] | None = None,
    convert: Callable[[dict[str, Any]], Any] | None = None,
    back: str | None = None,
    batch_size: int | Literal["auto"] = "auto",
    chunk_ms: float = DEFAULT_CHUNK_MS,
    pause: float = 0.0,
) -> MigrationPlan:
    """Change ``column``'s type with no downtime: copy it into ``new_column`` of type ``sql_type``.

    ``ALTER COLUMN ... TYPE`` rewrites the table under an exclusive lock (``ChangeTypeInPlace``, the baseline).
    Instead: add ``new_column`` of the new type (on a database with every property of ``column``: NOT NULL,
    default, constraints, indexes, as a rename copies them) -> dual write with the conversion -> batched
    backfill -> v2 (reads the new column, writes both) -> stop the dual write -> v3, then drop ``column``. The
    app moves to the new name.

    ``new_column`` = ``column`` keeps the name (PostgreSQL, as pgroll does): the copy goes into a column of
    labkit's, app v2 reads and writes it under ``column``'s name through its versioned view (and only it: the
    dual write's way back keeps ``column`` whole for a rollback), and ``complete`` drops ``column`` and renames the
    copy to it; v2's view stays (``labkit retire`` removes it once no app uses it).

    Args:
        using: the conversion as SQL over the row (default ``CAST(column AS sql_type)``); one string or per
            engine.
        convert: the same conversion in Python, for the in-memory table.
        back: the way back as SQL over the row (PostgreSQL), for a write that sets only ``new_column``: the dual
            write sets ``column`` from it, so a new version that writes only the new column loses nothing if the
            plan is rolled back. Without ``using`` it is ``CAST(new_column AS <column's type>)``; with ``using``
            and no ``back`` there is no way back, and the new version must write both columns until ``complete``.
    """
    sizing = _sizing(table, batch_size, chunk_ms)
    if isinstance(table, SqlTable):
        table.db.dialect.check_type(table.db, sql_type)
    if new_column == column:
        return _change_type_keeping_name(table, column, sql_type, using=using, back=back, pause=pause, **sizing)
    name = f"change {table.name}.{column} to {sql_type} as {new_column}"
    check_rename(table.name, column, new_column)
    resuming, data = _copy_start(table, name, column, new_column)
    sql = sql_by_dialect(using if using is not None else f"CAST({_pg_quote(column)} AS {sql_type})")
    if isinstance(table, SqlTable):
        copy = column_copy(table.catalog(), column, new_column, table.db.dialect.name, table.qualified)
        copy.add = AddColumn(table.qualified, new_column, sql_type=sql_type, constraints=copy.add.constraints)
        if table.db.dialect.name == "postgresql":
            _fit_to_type(table, copy, sql_type)
    else:
        copy = ColumnCopy(AddColumn(table.qualified, new_column))
    pg = isinstance(table, SqlTable) and table.db.dialect.name == "postgresql"
    if isinstance(table, SqlTable) and pg and back is None and using is None and column in table.column_names:
        back = f"CAST({_pg_quote(new_column)} AS {table.catalog().column(column).type})"  # the plain cast's way back
    elif back is not None and not pg:
        raise InvalidArgumentError("back= (the conversion's way back) runs in a PostgreSQL trigger only")
    dual = StartDualWrite(table.qualified, column, new_column, compute=convert, sql=sql, back=back)
    steps = [
        copy.add,
        *copy.with_add,
        dual,
        *copy.with_dual_write,
        Backfill(table.qualified, new_column, compute=convert, sql=sql, pause=pause, **sizing),
        *copy.after_backfill,
        SwitchReads(table.qualified, column, new_column, deploy="v2"),
        *copy.after_switch,
        StopDualWrite(table.qualified, column, new_column, compute=convert, sql=sql),
        *copy.after_stop,
        DropColumn(table.qualified, column, deploy="v3", renames=tuple(copy.renames)),
    ]
    if isinstance(table, SqlTable) and not resuming:  # the conversion compiles now, not when a trigger holds it
        backend_for(table).check_step(dual)
    return MigrationPlan(name, steps, apps=rename_apps(data, column, new_column))


def _copy_start(table: TableLike, name: str, column: str, copy: str) -> tuple[bool, list[str]]:
    """Is plan ``name`` resuming a cut-off run (its copy made already), and the app's data columns: ``column`` must
    be there and ``copy`` free, unless resuming."""
    if _resuming(table, name):
        return True, [c for c in _columns(table) if c != copy]
    _need(table, column)
    _free(table, copy)
    return False, _columns(table)


def _change_type_keeping_name(
    table: TableLike, column: str, sql_type: str, *, using: str | Mapping[str, str] | None, back: str | None,
    pause: float, **sizing: Any,
) -> MigrationPlan:  # fmt: skip
    if not isinstance(table, SqlTable) or table.db.dialect.name != "postgresql":
        raise InvalidArgumentError(
            "a type change that keeps the column's name shows the copy under it through app v2's view, which needs "
            "PostgreSQL (an in-memory table has no views; SQLite's report no row count to an ORM): give the copy a "
            "name of its own"
        )
    name = f"change {table.name}.{column} to {sql_type}"
    copied = short_name(f"{column}_labkit_new")
    resuming, data = _copy_start(table, name, column, copied)
    if using is None:
        back = back or f"CAST({_pg_quote(copied)} AS {table.catalog().column(column).type})"
    elif back is None:
        raise InvalidArgumentError(
            f"keeping the name {column!r}, app v2 writes only the new type (through its view): give back=, the "
            f"conversion's way back as SQL over the row ({copied!r} in it), so that a rollback keeps v2's writes"
        )
    sql = sql_by_dialect(using if using is not None else f"CAST({_pg_quote(column)} AS {sql_type})")
    copy = column_copy(table.catalog(), column, copied, "postgresql", table.qualified)
    copy.add = AddColumn(table.qualified, copied, sql_type=sql_type, constraints=copy.add.constraints)
    _fit_to_type(table, copy, sql_type)
    dual = StartDualWrite(table.qualified, column, copied, sql=sql, back=back)
    steps = [
        copy.add,
        *copy.with_add,
        dual,
        *copy.with_dual_write,
        Backfill(table.qualified, copied, sql=sql, pause=pause, **sizing),
        *copy.after_backfill,
        RenameInView(table.qualified, copied, column, version="v2", deploy="v2", shadows=True),
        *copy.after_switch,
        StopDualWrite(table.qualified, column, copied, sql=sql),
        *copy.after_stop,
        DropColumn(table.qualified, column, renames=tuple(copy.renames)),
        RenameColumnInPlace(table.qualified, copied, column),
    ]
    if not resuming:  # the conversion compiles now, not when a trigger holds it
        backend_for(table).check_step(dual)
    return MigrationPlan(name, steps, apps=(AppVersion("v1", data, data), AppVersion("v2", data, data)))


@_continuing
def build_add_volatile_default_migration(
    table: TableLike,
    column: str,
    default: SQL,
    *,
    sql_type: str | None = None,
    not_null: bool = False,
    constraints: tuple[str, ...] = (),
    batch_size: int | Literal["auto"] = "auto",
    chunk_ms: float = DEFAULT_CHUNK_MS,
) -> MigrationPlan:
    """Add ``column`` whose default calls a VOLATILE function (``gen_random_uuid()``, ``clock_timestamp()``): as
    written, ``ADD COLUMN ... DEFAULT`` evaluates it for every row, rewriting the table under ACCESS EXCLUSIVE. Instead
    (PostgreSQL): add it nullable, with no default (instant), set the default (new rows get their value from then
    on), fill the rows already there in batches (``WHERE column IS NULL``: each its own value, as the statement would
    have given it), then, for ``not_null``, ``CHECK (column IS NOT NULL) NOT VALID``, ``VALIDATE``, ``SET NOT NULL``.
    No app version reads or writes the column before the plan ends."""
    _free(table, column)
    if isinstance(table, SqlTable) and sql_type is not None:
        table.db.dialect.check_type(table.db, sql_type)
    sizing = _sizing(table, batch_size, chunk_ms)
    steps: list[Step] = [
        AddColumn(table.qualified, column, sql_type=sql_type, constraints=constraints),
        SetDefault(table.qualified, column, default.text, None),
        Backfill(table.qualified, column, sql=default.text, **sizing),
    ]
    if not_null:
        check = short_name(f"{table.name}_{column}_not_null")
        steps += [AddConstraint(table.qualified, column, check, f"CHECK ({_pg_quote(column)} IS NOT NULL)"),
                  ValidateConstraint(table.qualified, column, check), SetNotNull(table.qualified, column, check)]
    return MigrationPlan(f"add {table.name}.{column} filled by {default.text}", steps, apps=_one_app(table))


@_continuing
def build_set_not_null_migration(
    table: TableLike,
    column: str,
    *,
    fill: Any = None,
    batch_size: int | Literal["auto"] = "auto",
    chunk_ms: float = DEFAULT_CHUNK_MS,
) -> MigrationPlan:
    """Make ``column`` NOT NULL without a scan under lock (PostgreSQL): ``CHECK (column IS NOT NULL) NOT VALID``
    (instant; new writes obey it), ``VALIDATE`` it (scans while reads and writes go on), then ``SET NOT NULL``,
    which trusts the validated check (no scan), and drop the check. A NULL left in the column fails the
    validation, and the plan rolls back.

    ``fill``: the value the NULLs already there get (a constant, or ``SQL("...")`` over the row). The plan then
    deploys app v2 first, which never writes NULL into the column (``AppVersion.never_null``): the check must not
    refuse a write of the app's. Then it fixes the NULLs in batches while the app writes (``FixRows``, each row's old
    value journaled in a column the plan adds, so a rollback puts the NULLs back), and only then adds the check. From
    a terminal, ``labkit start`` stops after v2's deploy for you to roll it out, and carries on when run again."""
    _need(table, column)
    if isinstance(table, SqlTable) and table.catalog().column(column).not_null:
        raise InvalidArgumentError(f"{table.name}.{column} is NOT NULL already (identity and serial columns are): "
                                   "there is nothing to migrate")  # fmt: skip
    check = short_name(f"{table.name}_{column}_not_null")
    steps: list[Step] = [
        AddConstraint(table.qualified, column, check, f"CHECK ({_pg_quote(column)} IS NOT NULL)"),
        ValidateConstraint(table.qualified, column, check),
        SetNotNull(table.qualified, column, check),
    ]
    if fill is None:
        return MigrationPlan(f"make {table.name}.{column} NOT NULL", steps, apps=_one_app(table))
    data = _columns(table)
    literal = table.db.dialect.literal if isinstance(table, SqlTable) else sql_literal
    try:
        value = literal(fill)
    except TypeError as exc:
        raise InvalidArgumentError(f"fill is a constant or SQL(...): {exc}") from None
    if value.strip("() ").upper() == "NULL":
        raise InvalidArgumentError("fill=None fills nothing: give the value the NULLs get")
    add = _journal(table, column, "was", label=f"journal_{column}")
    apps = (AppVersion("v1", data, data), AppVersion("v2", data, data, never_null=[column]))
    fix = FixRows(table.qualified, column, f"{_pg_quote(column)} IS NULL", value, add.column, label=f"fill_{column}",
                  **_sizing(table, batch_size, chunk_ms))  # fmt: skip
    return MigrationPlan(f"make {table.name}.{column} NOT NULL, filling its NULLs",
                         [add, _guard(add, fix, deploy="v2"), fix, *steps, DropJournals(table.qualified,
                                                                                          (add.column,))],
                         apps=apps)  # fmt: skip


@_continuing
def build_update_migration(
    table: TableLike,
    column: str,
    value: SQL,
    *,
    where: SQL | None = None,
    batch_size: int | Literal["auto"] = "auto",
    chunk_ms: float = DEFAULT_CHUNK_MS,
) -> MigrationPlan:
    """A data migration's ``UPDATE table SET column = value [WHERE where]`` (PostgreSQL), in batches while the app
    writes: as written, one statement holds a row lock on every row it updates until it commits, so every app write
    to those rows waits for the whole of it. Each batch is its own short transaction (``FixRows``), each updated row's
    old value journaled in a column the plan adds, so a rollback puts back the old value of every row still holding
    what the update wrote (a row the app wrote since keeps the app's write). Not one atomic statement any more:
    a row the app writes between two batches is updated by its batch after, as the statement would have updated it
    had it run then."""
    _need(table, column)
    add = _journal(table, column, "upd", label=f"journal_{column}")
    fix = FixRows(table.qualified, column, where.text if where is not None else "TRUE", value.text, add.column,
                  label=f"update_{column}", **_sizing(table, batch_size, chunk_ms))  # fmt: skip
    return MigrationPlan(f"update {table.name}.{column} in batches",
                         [add, _guard(add, fix), fix, DropJournals(table.qualified, (add.column,))],
                         apps=_one_app(table))  # fmt: skip


def _guard(journal: AddColumn, fix: FixRows, **step: Any) -> GuardFix:
    """The trigger that tells the app's writes of the fixed column from the fix's (``GuardFix``), added after the
    journal and before the fix."""
    return GuardFix(fix.table, fix.column, journal.column, label=f"guard_{fix.name}", **step)


def _journal(table: TableLike, column: str, suffix: str, **step: Any) -> AddColumn:
    """The step that adds a data fix's journal: a ``text[]`` column (each fixed row's [old, new] in their text form,
    exact for every type: ``FixRows``). PostgreSQL's; elsewhere no type, and the runner refuses the fix before any
    change."""
    journal = short_name(f"{column}_labkit_{suffix}")
    _free(table, journal)
    postgres = isinstance(table, SqlTable) and table.db.dialect.name == "postgresql"
    sql_type = "text[]" if postgres else None
    return AddColumn(table.qualified, journal, sql_type=sql_type, **step)


@_continuing
def build_add_index_migration(
    table: TableLike,
    column: str,
    *,
    unique: bool = False,
    index: str | None = None,
    dedupe: Any = None,
    batch_size: int | Literal["auto"] = "auto",
    chunk_ms: float = DEFAULT_CHUNK_MS,
) -> MigrationPlan:
    """Index ``column`` without blocking writes: ``CREATE INDEX CONCURRENTLY`` on PostgreSQL (a failed build,
    which leaves an INVALID index, is dropped and tried again). SQLite builds it under its write lock.

    ``dedupe`` (with ``unique=True``, PostgreSQL): ``SQL("...")`` over the row giving each duplicate a value of its
    own (``SQL("email || '+dup' || id")``). Every row whose value a row with a smaller key already has gets it,
    in journaled batches while the app writes (``FixRows``: a rollback puts the old values back), before the
    unique index is built; a duplicate left in the column would fail the build, and the plan would roll back."""
    _need(table, column)
    name = index or short_name(f"{table.name}_{column}_{'key' if unique else 'idx'}")
    step = CreateIndex(table.qualified, column, name, f"({_pg_quote(column)})", unique=unique)
    if dedupe is None:
        return MigrationPlan(f"index {table.name}.{column}", [step], apps=_one_app(table))
    if not unique or not isinstance(dedupe, SQL):
        raise InvalidArgumentError("dedupe is an SQL(...) expression giving each duplicate its own value, and needs "
                                   "unique=True")  # fmt: skip
    key = table.key if isinstance(table, SqlTable) else ("id",)
    if len(key) != 1:
        raise InvalidArgumentError(f"dedupe finds duplicates by the key, which must be one column; {table.name}'s is "
                                   f"{', '.join(key) or 'missing'}")  # fmt: skip
    c, t = _pg_quote(column), _pg_quote(table.name)
    k = '"' + key[0].replace('"', '""') + '"'  # a key column: not a name check_name lets a plan use
    ref = table.ref if isinstance(table, SqlTable) else t
    first = f"labkit_first.{c} = {t}.{c} AND labkit_first.{k} < {t}.{k}"  # a row before it holds its value
    where = f"EXISTS (SELECT 1 FROM {ref} AS labkit_first WHERE {first})"
    add = _journal(table, column, "dup", label=f"journal_{column}_dup")
    fix = FixRows(table.qualified, column, where, f"({dedupe.text})", add.column, label=f"dedupe_{column}",
                  **_sizing(table, batch_size, chunk_ms))  # fmt: skip
    steps = [add, _guard(add, fix), fix, step, DropJournals(table.qualified, (add.column,))]
    return MigrationPlan(f"unique index on {table.name}.{column}, its duplicates fixed first", steps,
                         apps=_one_app(table))  # fmt: skip


@_continuing
def build_add_foreign_key_migration(
    table: TableLike, column: str, references: str, *, constraint: str | None = None, on_delete: str | None = None
) -> MigrationPlan:
    """Add a foreign key on ``column`` (``references``: e.g. ``accounts (id)``) without blocking writes
    (PostgreSQL): ``ADD CONSTRAINT ... NOT VALID`` (instant; new writes are checked at once), then ``VALIDATE``
    (checks the old rows while reads and writes go on). A row that breaks it fails the validation, and the plan
    rolls back."""
    _need(table, column)
    name = constraint or short_name(f"{table.name}_{column}_fkey")
    action = f" ON DELETE {on_delete}" if on_delete else ""
    definition = f"FOREIGN KEY ({_pg_quote(column)}) REFERENCES {references}{action}"
    steps = [AddConstraint(table.qualified, column, name, definition),
             ValidateConstraint(table.qualified, column, name)]  # fmt: skip
    return MigrationPlan(f"foreign key {table.name}.{column} -> {references}", steps, apps=_one_app(table))
