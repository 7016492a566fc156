"""Builders for the plans the course teaches, and the unsafe baseline it contrasts them with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._common import check_batch_size, check_name
from .apps import AppVersion
from .backends import backend_for
from .errors import ColumnExistsError, ColumnNotFoundError, SameNameError
from .plan import MigrationPlan
from .steps import (
    AddColumn,
    Backfill,
    DropColumn,
    RenameColumnInPlace,
    StartDualWrite,
    StopDualWrite,
    SwitchReads,
)


def _columns(table: Any) -> list[str]:
    return backend_for(table).data_columns()


def _need(table: Any, column: str) -> None:
    cols = _columns(table)
    if column not in cols:
        raise ColumnNotFoundError(table.name, column, ["id", *cols])


def _free(table: Any, column: str) -> None:
    check_name(column)
    if column in _columns(table):
        raise ColumnExistsError(table.name, column)


def build_add_column_migration(
    table: Any,
    column: str,
    *,
    default: Any = None,
    backfill: Callable[[dict[str, Any]], Any] | None = None,
    source: str | None = None,
    batch_size: int = 1000,
) -> MigrationPlan:
    """Add ``column`` with expand/migrate/contract.

    Without ``backfill`` it is one expand step (a nullable column, or one with a constant ``default``).
    With ``backfill`` (a function of the row, e.g. the domain of ``email``) the new column is computed: a
    dual write keeps it right for rows the app writes while the batched backfill fills the old rows, then
    app v2 (which reads it and writes it itself) rolls out and the dual write stops.

    Args:
        source: the column ``backfill`` reads; the dual write fires on writes to it. Guessed when the table
            has a single data column, required otherwise.
    """
    check_batch_size(batch_size)
    _free(table, column)
    data = _columns(table)
    add = AddColumn(table.name, column, default=default)
    if backfill is None:
        apps = (AppVersion("v1", data, data),)
        return MigrationPlan(f"add {table.name}.{column}", [add], apps=apps)
    if not callable(backfill):
        raise TypeError("backfill must be a function of the row (a dict), e.g. lambda row: row['email'].lower()")
    if source is None:
        if len(data) != 1:
            raise ValueError(
                f"say which column {column!r} is computed from: source= one of {', '.join(data)} "
                "(the dual write fires when the app writes it)"
            )
        source = data[0]
    _need(table, source)
    v1 = AppVersion("v1", data, data)
    v2 = AppVersion("v2", [*data, column], [*data, column])
    steps = [
        add,
        StartDualWrite(table.name, source, column, compute=backfill),
        Backfill(table.name, column, compute=backfill, batch_size=batch_size),
        SwitchReads(table.name, source, column, deploy="v2"),
        StopDualWrite(table.name, source, column, compute=backfill),
    ]
    return MigrationPlan(f"add {table.name}.{column} computed from {source}", steps, apps=(v1, v2))


def rename_apps(data: list[str], old: str, new: str) -> tuple[AppVersion, AppVersion, AppVersion]:
    """v1 uses ``old``; v2 reads ``new`` and writes both; v3 uses ``new`` only."""
    others = [c for c in data if c != old]
    return (
        AppVersion("v1", data, data),
        AppVersion("v2", [new, *others], [old, new, *others]),
        AppVersion("v3", [new, *others], [new, *others]),
    )


def build_rename_column_migration(table: Any, old: str, new: str, *, batch_size: int = 1000) -> MigrationPlan:
    """Rename ``old`` to ``new`` with no downtime.

    add ``new`` -> dual write both ways -> batched backfill -> switch reads (v2 rolls out) -> stop dual
    write -> v3 rolls out, then drop ``old``.
    """
    check_batch_size(batch_size)
    _need(table, old)
    if old == new:
        raise SameNameError(table.name, old)
    _free(table, new)
    data = _columns(table)
    steps = [
        AddColumn(table.name, new),
        StartDualWrite(table.name, old, new, both_ways=True),
        Backfill(table.name, new, source=old, batch_size=batch_size),
        SwitchReads(table.name, old, new, deploy="v2"),
        StopDualWrite(table.name, old, new, both_ways=True),
        DropColumn(table.name, old, deploy="v3"),
    ]
    return MigrationPlan(f"rename {table.name}.{old} to {new}", steps, apps=rename_apps(data, old, new))


def build_naive_rename_migration(table: Any, old: str, new: str) -> MigrationPlan:
    """The unsafe baseline: rename in place, then roll out the app that uses the new name."""
    _need(table, old)
    if old == new:
        raise SameNameError(table.name, old)
    _free(table, new)
    data = _columns(table)
    v1, v2, _ = rename_apps(data, old, new)
    v2_new_only = AppVersion("v2", v2.reads, [c for c in v2.writes if c != old])
    steps = [RenameColumnInPlace(table.name, old, new, deploy="v2")]
    return MigrationPlan(f"naive rename {table.name}.{old} to {new}", steps, apps=(v1, v2_new_only))
