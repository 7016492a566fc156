"""The in-memory table: columnar storage with a managed integer primary key and dual-write triggers."""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import count
from typing import TYPE_CHECKING, Any, Protocol

from ._common import check_name, check_rename
from .errors import (
    ColumnExistsError,
    ColumnNotFoundError,
    InvalidArgumentError,
    InvalidNameError,
    NotNullViolationError,
    RowNotFoundError,
    StepDoesNotFitError,
)

if TYPE_CHECKING:
    import pandas as pd



@dataclass(frozen=True)
class DualWriteTrigger:
    """Keeps ``target`` in step with ``source`` on every insert and update (like an AFTER trigger).

    ``compute`` derives the target from the whole row; without it the target is a copy of the source.
    ``both_ways`` also copies ``target`` back into ``source`` when a writer sets only the target, so that
    old and new app versions can run side by side during a rename.
    """

    source: str
    target: str
    compute: Callable[[dict[str, Any]], Any] | None = None
    both_ways: bool = False


@dataclass(frozen=True)
class TableSnapshot:
    """An exact, comparable copy of a table's schema and rows."""

    name: str
    column_names: tuple[str, ...]
    ids: tuple[Any, ...]  # the key of each row (an int in memory; any type, or a tuple, in a database)
    columns: tuple[tuple[Any, ...], ...]
    # which in-memory table it was taken of (Table.serial; 0 for a database's): not part of equality, but a check
    # can tell "this table, put back" from "a new table made equal"
    origin: int = field(default=0, compare=False, repr=False)


_SERIALS = count(1)


class TableLike(Protocol):
    """What every table offers, in memory (``Table``) or in a database (``DbTable``): the builders, the runner,
    the safety checks, the traffic and the views take either."""

    @property
    def name(self) -> str: ...
    @property
    def qualified(self) -> str:
        """What a plan names it by: ``schema.table`` outside the current schema, else its name."""
        ...
    @property
    def column_names(self) -> list[str]: ...
    @property
    def data_columns(self) -> list[str]: ...
    @property
    def row_count(self) -> int: ...
    @property
    def ids(self) -> Sequence[int]: ...
    def __len__(self) -> int: ...
    def has_column(self, column: str) -> bool: ...
    def insert(self, row: Mapping[str, Any] | None = None) -> int: ...
    def update(self, row_id: int, values: Mapping[str, Any]) -> None: ...
    def delete(self, row_id: int) -> None: ...
    def get(self, row_id: int) -> dict[str, Any]: ...
    def rows(self) -> list[dict[str, Any]]: ...
    def column(self, name: str) -> list[Any]: ...
    def snapshot(self) -> TableSnapshot: ...
    def to_frame(self) -> pd.DataFrame: ...


class Table:
    """An in-memory table with an integer primary key ``id`` managed by the table.

    Storage is columnar: one Python list per data column and one ``array('q')`` of ids kept in ascending
    order, so a million rows cost a few list slots per row and a batch is a slice.
    """

    def __init__(self, name: str, columns: Sequence[str]) -> None:
        check_name(name, kind="table")
        if isinstance(columns, str):
            raise TypeError("columns must be a sequence of names, not one string")
        cols = [check_name(c) for c in columns]
        seen: set[str] = set()
        for c in cols:
            if c in seen:
                raise ColumnExistsError(name, c)
            seen.add(c)
        self._name = name
        self.serial = next(_SERIALS)  # this table object, among every Table made in this process
        self._ids: array[int] = array("q")
        self._cols: dict[str, list[Any]] = {c: [] for c in cols}
        self._defaults: dict[str, Any] = {c: None for c in cols}
        self._not_null: set[str] = set()
        self._next_id = 1
        self._triggers: list[DualWriteTrigger] = []

    @classmethod
    def from_columns(cls, name: str, columns: Mapping[str, Sequence[Any]]) -> Table:
        """A table loaded column by column (ids 1..n): the fast way to build a large table."""
        table = cls(name, list(columns))
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise InvalidArgumentError(f"columns must have the same length, got lengths {sorted(lengths)}")
        n = lengths.pop() if lengths else 0
        table._cols = {c: list(v) for c, v in columns.items()}
        table._ids.extend(range(1, n + 1))
        table._next_id = n + 1
        return table

    # ------------------------------------------------------------------ read-only facts
    @property
    def name(self) -> str:
        return self._name

    @property
    def qualified(self) -> str:
        return self._name  # a table in memory has no schema

    @property
    def row_count(self) -> int:
        """How many rows the table has.

        WHY: the backfill is split into batches from it, the safety rules judge a batch size against it
        (``unbatched-backfill``), and the progress of a backfill is counted in it; on a database it is a
        ``COUNT(*)``, here the length of the id array.
        """
        return len(self._ids)

    @property
    def column_names(self) -> list[str]:
        """``id`` first, then the data columns in order.

        WHY: every step is checked against the columns the table will have when it runs (``Step.fit``), and
        the traffic simulator asks it which columns an app version can use; a list in table order, so a view of
        the rows reads like ``SELECT *``.
        """
        return ["id", *self._cols]

    @property
    def data_columns(self) -> list[str]:
        return list(self._cols)

    @property
    def triggers(self) -> tuple[DualWriteTrigger, ...]:
        return tuple(self._triggers)

    @property
    def ids(self) -> Sequence[int]:
        """The row ids in ascending order (a read-only view is not enforced: do not mutate)."""
        return self._ids

    def has_column(self, column: str) -> bool:
        return column in self._cols

    def __len__(self) -> int:
        return len(self._ids)

    def __repr__(self) -> str:
        return f"Table({self._name!r}, columns={list(self._cols)!r}, rows={self.row_count})"

    # ------------------------------------------------------------------ rows
    def _pos(self, row_id: int) -> int:
        i = bisect_left(self._ids, row_id) if isinstance(row_id, int) else len(self._ids)
        if i == len(self._ids) or self._ids[i] != row_id:
            raise RowNotFoundError(self._name, row_id)
        return i

    def _check_columns(self, names: Iterable[str]) -> None:
        for c in names:
            if c not in self._cols:
                raise ColumnNotFoundError(self._name, c, self.column_names)

    def insert(self, row: Mapping[str, Any] | None = None) -> int:
        """Insert a row (missing columns take their default) and return its new id.

        WHY: the app's writes go through it, so it behaves as a database's ``INSERT`` does: a column left out
        takes its default, the dual-write triggers fire (knowing which columns the writer named), and NOT NULL
        is enforced after them. An app that relies on defaults is the ordinary app a migration must not break.
        """
        values = dict(row or {})
        _refuse_id(values)
        self._check_columns(values)
        full = {c: values.get(c, self._defaults[c]) for c in self._cols}
        self._fire_triggers(full, written=set(values))
        for c in self._not_null:
            if full[c] is None:
                raise NotNullViolationError(self._name, c)
        row_id = self._next_id
        self._next_id += 1
        self._ids.append(row_id)
        for c, v in full.items():
            self._cols[c].append(v)
        return row_id

    def insert_many(self, rows: Iterable[Mapping[str, Any]]) -> list[int]:
        return [self.insert(r) for r in rows]

    def update(self, row_id: int, values: Mapping[str, Any]) -> None:
        """Set some columns of one row; dual-write triggers then keep their targets in step."""
        i = self._pos(row_id)
        values = dict(values)
        _refuse_id(values)
        self._check_columns(values)
        full = {c: self._cols[c][i] for c in self._cols}
        full.update(values)
        self._fire_triggers(full, written=set(values))
        for c in self._not_null:
            if full[c] is None:
                raise NotNullViolationError(self._name, c)
        for c, v in full.items():
            self._cols[c][i] = v

    def delete(self, row_id: int) -> None:
        i = self._pos(row_id)
        del self._ids[i]
        for col in self._cols.values():
            del col[i]

    def get(self, row_id: int) -> dict[str, Any]:
        i = self._pos(row_id)
        return {"id": row_id, **{c: col[i] for c, col in self._cols.items()}}

    def rows(self) -> list[dict[str, Any]]:
        names = list(self._cols)
        cols = [self._cols[c] for c in names]
        return [{"id": rid, **dict(zip(names, vals))} for rid, *vals in zip(self._ids, *cols)]

    def column(self, name: str) -> list[Any]:
        """A copy of one column's values in id order."""
        if name == "id":
            return list(self._ids)
        self._check_columns([name])
        return list(self._cols[name])

    # ------------------------------------------------------------------ schema
    def add_column(self, name: str, default: Any = None, *, not_null: bool = False) -> None:
        """Append a column; existing rows get ``default`` (a constant, as ADD COLUMN ... DEFAULT).

        WHY: the expand step. A new column is nullable or has a constant default, so existing rows are valid at
        once and no app version notices it; a NOT NULL column without a default is refused, as PostgreSQL
        refuses it on a table with rows.
        """
        check_name(name)
        if name in self._cols:
            raise ColumnExistsError(self._name, name)
        if not_null and default is None:
            raise NotNullViolationError(self._name, name)
        self._cols[name] = [default] * len(self._ids)
        self._defaults[name] = default
        if not_null:
            self._not_null.add(name)

    def drop_column(self, name: str) -> None:
        """Remove a column and its values.

        WHY: the contract step, the one change that cannot be undone (its data is gone), which is why plans put
        it last, after every app version that reads the column has gone. It refuses while a dual-write trigger
        still uses the column, as a database would refuse to drop a column a trigger needs.
        """
        self._check_columns([name])
        for t in self._triggers:
            if name in (t.source, t.target):
                raise StepDoesNotFitError(
                    "drop_column",
                    self._name,
                    f"column {name!r} is still used by a dual-write trigger; stop the dual write first",
                )
        del self._cols[name]
        del self._defaults[name]
        self._not_null.discard(name)

    def rename_column(self, old: str, new: str) -> None:
        """Rename in place, keeping the column's position (what ALTER TABLE ... RENAME COLUMN does)."""
        self._check_columns([old])
        check_name(new)
        check_rename(self._name, old, new)
        if new in self._cols:
            raise ColumnExistsError(self._name, new)
        self._cols = {(new if c == old else c): v for c, v in self._cols.items()}
        self._defaults = {(new if c == old else c): v for c, v in self._defaults.items()}
        if old in self._not_null:
            self._not_null.discard(old)
            self._not_null.add(new)

    # ------------------------------------------------------------------ triggers (dual writes)
    def add_trigger(self, trigger: DualWriteTrigger) -> None:
        self._check_columns([trigger.source, trigger.target])
        if trigger in self._triggers:
            raise InvalidArgumentError(f"trigger {trigger} is already installed")
        self._triggers.append(trigger)

    def remove_trigger(self, trigger: DualWriteTrigger) -> None:
        self._triggers.remove(trigger)

    def _fire_triggers(self, full: dict[str, Any], written: set[str]) -> None:
        for t in self._triggers:
            if t.source in written and (t.compute is not None or t.target not in written):
                full[t.target] = t.compute(dict(full)) if t.compute else full[t.source]
            elif t.both_ways and t.target in written and t.source not in written:
                full[t.source] = full[t.target]

    # ------------------------------------------------------------------ batches
    def positions_between(self, lo_id: int, hi_id: int) -> tuple[int, int]:
        """Positions ``[start, stop)`` of the rows with ``lo_id <= id <= hi_id``."""
        return bisect_left(self._ids, lo_id), bisect_right(self._ids, hi_id)

    def read_slice(self, column: str, start: int, stop: int) -> list[Any]:
        return self._cols[column][start:stop]

    def write_slice(self, column: str, start: int, values: list[Any]) -> None:
        """Overwrite ``len(values)`` cells of ``column`` from position ``start`` (no triggers fire)."""
        if column in self._not_null and any(v is None for v in values):
            raise NotNullViolationError(self._name, column)
        self._cols[column][start : start + len(values)] = values

    def rows_slice(self, start: int, stop: int) -> list[dict[str, Any]]:
        names = list(self._cols)
        cols = [self._cols[c][start:stop] for c in names]
        ids = self._ids[start:stop]
        return [{"id": rid, **dict(zip(names, vals))} for rid, *vals in zip(ids, *cols)]

    # ------------------------------------------------------------------ copies and views
    def snapshot(self) -> TableSnapshot:
        return TableSnapshot(
            name=self._name,
            column_names=tuple(self.column_names),
            ids=tuple(self._ids),
            columns=tuple(tuple(v) for v in self._cols.values()),
            origin=self.serial,
        )

    def copy(self) -> Table:
        other = Table(self._name, list(self._cols))
        other._ids = array("q", self._ids)
        other._cols = {c: list(v) for c, v in self._cols.items()}
        other._defaults = dict(self._defaults)
        other._not_null = set(self._not_null)
        other._next_id = self._next_id
        other._triggers = list(self._triggers)
        return other


    def to_frame(self) -> pd.DataFrame:  # pandas is imported here, not at the top, so the core stays light
        """A pandas DataFrame indexed by ``id`` with the data columns in order."""
        import pandas as pd

        index = pd.Index(list(self._ids), name="id", dtype="int64")
        frame = pd.DataFrame({c: pd.Series(v, index=index, dtype=object) for c, v in self._cols.items()}, index=index)
        typed: pd.DataFrame = frame.infer_objects()  # pandas-stubs types infer_objects() as Any
        return typed

    def memory_bytes(self) -> int:
        """Bytes held by the table's own containers and the distinct value objects they point to."""
        import sys

        total = sys.getsizeof(self._ids)
        seen: set[int] = set()
        for col in self._cols.values():
            total += sys.getsizeof(col)
            for v in col:
                if id(v) not in seen:
                    seen.add(id(v))
                    total += sys.getsizeof(v)
        return total


def _refuse_id(values: Mapping[str, Any]) -> None:
    if "id" in values:
        raise InvalidNameError("id", reason="'id' is managed by the table and cannot be set")
