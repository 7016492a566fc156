"""Where a URL becomes a database and a table finds the backend that migrates it.

The registries sit above the tables and the dialects, so neither imports the other: a dialect is registered under
its URL schemes (as Alembic registers its impls by ``__dialect__``), a backend under the kind of table it carries
steps out on.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import InvalidArgumentError
from ..table import Table, TableLike
from .base import Backend, Dialect
from .db import Database, DbTable
from .memory import MemoryBackend
from .postgresql import PostgresDialect
from .sql import SQLBackend
from .sqlite import SQLiteDialect


def _sqlite(url: str, options: dict[str, int]) -> Dialect:
    return SQLiteDialect(url[len("sqlite:///") :])


def _postgresql(url: str, options: dict[str, int]) -> Dialect:
    return PostgresDialect(url, **options)


# URL prefix -> the dialect that opens it; the options (lock timeout, attempts) are PostgreSQL's
DIALECTS: dict[str, Callable[[str, dict[str, int]], Dialect]] = {
    "sqlite:///": _sqlite,
    "postgresql://": _postgresql,
    "postgres://": _postgresql,
}
# kind of table -> the backend that carries steps out on it
BACKENDS: list[tuple[type[Any], Callable[[Any], Backend]]] = [(Table, MemoryBackend), (DbTable, SQLBackend)]


def connect(
    url: str, *, lock_timeout_ms: int | None = None, max_attempts: int | None = None, existing: bool = False
) -> Database:
    """Open ``sqlite:///path/to/lab.db`` (a file, created if missing) or ``postgresql://...``.

    Args:
        lock_timeout_ms: PostgreSQL only: how long each DDL statement may wait for its lock before it gives
            up and retries (default 500 ms; 0 waits forever, which the safety checks flag).
        max_attempts: PostgreSQL only: how many times a DDL statement is tried before the step fails (6).
        existing: SQLite only: refuse a file that is not there instead of creating it (and its folders): what a
            command that reads or migrates a database asks, so a mistyped path is an error, not a new database.
    """
    if not isinstance(url, str):
        raise TypeError(f"connect() takes a URL string, got {type(url).__name__}")
    options = {k: v for k, v in (("lock_timeout_ms", lock_timeout_ms), ("max_attempts", max_attempts)) if v is not None}
    path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else None
    if existing and path not in (None, ":memory:") and not Path(str(path)).is_file():
        raise InvalidArgumentError(f"no SQLite database at {path!r} (check the path: labkit does not create one here)")
    for prefix, make in DIALECTS.items():
        if url.startswith(prefix):
            return Database(url, make(url, options))
    raise InvalidArgumentError(f"unsupported database URL {url!r}: use sqlite:///path/to/file.db or postgresql://...")


def backend_for(table: TableLike) -> Backend:
    """The backend that carries out steps on ``table`` (an in-memory ``Table`` or a database ``DbTable``)."""
    for kind, make in BACKENDS:
        if isinstance(table, kind):
            return make(table)
    raise TypeError(f"no backend knows how to migrate {type(table).__name__!r}; pass a labkit Table or DbTable")


__all__ = ["BACKENDS", "DIALECTS", "backend_for", "connect"]
