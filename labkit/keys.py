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
from collections.abc import Callable, Sequence
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
