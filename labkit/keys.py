"""A table's primary key in SQL: any type, any sign, one column or several (keyset batches, resume points).

A key value is a scalar for a one-column key and a tuple for a composite one. Batches compare the key as a row
value, ``(a, b) >= (?, ?)``, which SQLite (3.15+) and PostgreSQL order exactly as ``ORDER BY a, b`` does, so a
batch boundary walks the primary-key index. The last key a committed batch covered is kept in
``labkit_migrations`` as text (``encode`` / ``decode``), whatever its type, so that a resumed run starts after it.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


def columns_sql(quote: Callable[[str], str], key: Sequence[str], prefix: str = "") -> str:
    """``k`` or ``(k1, k2)``, quoted (``prefix``: e.g. ``NEW.`` in a trigger)."""
    names = [prefix + quote(k) for k in key]
    return names[0] if len(names) == 1 else "(" + ", ".join(names) + ")"


def marks_sql(param: str, key: Sequence[str]) -> str:
    """The placeholders of one key value: ``?`` or ``(?, ?)``."""
    return param if len(key) == 1 else "(" + ", ".join([param] * len(key)) + ")"


def params(value: Any, key: Sequence[str]) -> list[Any]:
    """A key value as the list of parameters ``marks_sql`` binds."""
    return list(value) if len(key) > 1 else [value]


def value_of(row: Sequence[Any], key: Sequence[str]) -> Any:
    """The key value of a fetched row holding the key's columns first."""
    return tuple(row[: len(key)]) if len(key) > 1 else row[0]


@dataclass(frozen=True)
class Keyset:
    """Keyset batches over a table's key: the one definition of where a batch starts, where it ends and which rows it
    covers. The Python executor (``SQLBackend.backfill_ranges``), the PL/pgSQL loop of ``plan_sql.runnable_sql`` and
    the emitted Alembic revisions all run these statements; none writes its own.

    Each statement binds key values in ``param`` placeholders (one per key column; a composite key compares as a row
    value), so every boundary is one short walk of the primary-key index: no keys pulled into memory, no ``OFFSET``
    over the table. The batches are fixed by the last key when the backfill starts: rows inserted later are the dual
    write's.

    Args:
        table: the table as SQL (quoted, schema-qualified).
        key: the key's column names (unquoted).
        quote: the dialect's identifier quoting.
        param: the driver's placeholder (``?`` or ``%s``).
    """

    table: str
    key: tuple[str, ...]
    quote: Callable[[str], str]
    param: str

    @property
    def _cols(self) -> str:
        return columns_sql(self.quote, self.key)

    @property
    def _mark(self) -> str:
        return marks_sql(self.param, self.key)

    def _select(self, where: str = "", *, desc: bool = False, offset: bool = False) -> str:
        names = ", ".join(self.quote(k) for k in self.key)
        order = ", ".join(self.quote(k) + (" DESC" if desc else "") for k in self.key)
        return (f"SELECT {names} FROM {self.table}{where} ORDER BY {order} LIMIT 1"
                + (f" OFFSET {self.param}" if offset else ""))  # fmt: skip

    def first(self, *, desc: bool = False) -> str:
        """The smallest key (``desc``: the largest). Binds nothing."""
        return self._select(desc=desc)

    def first_after(self, *, desc: bool = False) -> str:
        """The smallest (largest) key after a given one (a resumed run's last key). Binds: ``after``."""
        return self._select(f" WHERE {self._cols} > {self._mark}", desc=desc)

    @property
    def boundary(self) -> str:
        """The last key of the batch that starts at ``lo``. Binds: ``lo``, ``last``, rows per batch - 1 (its OFFSET)."""
        return self._select(f" WHERE {self._cols} >= {self._mark} AND {self._cols} <= {self._mark}", offset=True)

    @property
    def next(self) -> str:
        """The first key of the batch after the one that ends at ``hi``. Binds: ``hi``, ``last``."""
        return self._select(f" WHERE {self._cols} > {self._mark} AND {self._cols} <= {self._mark}")

    @property
    def predicate(self) -> str:
        """The ``WHERE`` of one batch: the rows whose key is between ``lo`` and ``hi``. Binds: ``lo``, ``hi``."""
        c, m = self._cols, self._mark
        return f"{c} BETWEEN {m} AND {m}" if len(self.key) == 1 else f"{c} >= {m} AND {c} <= {m}"

    def bind(self, *values: Any) -> list[Any]:
        """Key values (and plain numbers, such as the OFFSET) as the parameters the statements above bind."""
        out: list[Any] = []
        for v in values:
            out += params(v, self.key) if not isinstance(v, _Count) else [int(v)]
        return out

    def ranges(self, fetch: Callable[[str, list[Any]], Any], rows: int | None, *, after: Any = None
               ) -> list[tuple[Any, Any]]:  # fmt: skip
        """Every batch as ``(lo, hi)``, from the first key (after ``after``) to the last one now.

        ``fetch(sql, params)``: the key value of the first row the statement returns, or None.
        ``rows``: rows per batch; None, one batch over everything.
        """
        return list(self.walk(fetch, lambda: rows, after=after))

    def walk(self, fetch: Callable[[str, list[Any]], Any], size: Callable[[], int | None], *, after: Any = None
             ) -> Iterator[tuple[Any, Any]]:  # fmt: skip
        """The batches one at a time, each boundary found when the batch before it is done: the first starts at
        once whatever the table's size, memory stays flat, and ``size()`` (rows of the next batch; None: all the
        rest) may change between batches (a batch sized by time). The last key is fixed when the walk starts."""
        bound = self.bind(after) if after is not None else []
        edge = self.first_after if after is not None else self.first
        lo = fetch(edge(), bound)
        if lo is None:
            return
        last = fetch(edge(desc=True), bound)
        while lo is not None:
            rows = size()
            if rows is None:
                yield lo, last
                return
            hi = fetch(self.boundary, self.bind(lo, last, _Count(rows - 1)))
            hi = last if hi is None else hi
            yield lo, hi
            lo = fetch(self.next, self.bind(hi, last))


class _Count(int):
    """A number bound beside key values (the OFFSET of ``Keyset.boundary``), never split like a composite key."""


def show(value: Any) -> str:
    """A key value for a log line: ``17``, ``'ab'``, ``(3, 'x')``."""
    return str(value) if isinstance(value, int) else repr(value)


_TAGS: dict[type, tuple[str, Callable[[Any], Any]]] = {
    Decimal: ("decimal", str),
    uuid.UUID: ("uuid", str),
    dt.datetime: ("datetime", lambda v: v.isoformat()),
    dt.date: ("date", lambda v: v.isoformat()),
    dt.time: ("time", lambda v: v.isoformat()),
    bytes: ("bytes", lambda v: v.hex()),
    memoryview: ("bytes", lambda v: bytes(v).hex()),
}
_UNTAG: dict[str, Callable[[Any], Any]] = {
    "decimal": Decimal,
    "uuid": uuid.UUID,
    "datetime": dt.datetime.fromisoformat,
    "date": dt.date.fromisoformat,
    "time": dt.time.fromisoformat,
    "bytes": bytes.fromhex,
}


def _one(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    for kind, (tag, write) in _TAGS.items():
        if isinstance(value, kind):
            return {tag: write(value)}
    raise TypeError(f"labkit cannot record a key value of type {type(value).__name__}")


def encode(value: Any) -> str:
    """A key value as text that ``decode`` turns back into the same Python value."""
    return json.dumps([_one(v) for v in value] if isinstance(value, tuple) else [_one(value)], separators=(",", ":"))


def decode(text: str, key: Sequence[str]) -> Any:
    """The key value ``encode`` wrote."""
    parts = [_UNTAG[next(iter(v))](next(iter(v.values()))) if isinstance(v, dict) else v for v in json.loads(text)]
    return tuple(parts) if len(key) > 1 else parts[0]
