"""Backends carry out steps. The runner, safety checks and views only talk to this interface."""

from __future__ import annotations

from typing import Any, Protocol

from .base import BaseBackend, Resume
from .memory import MemoryBackend


class Backend(Protocol):
    """What the runner needs from an engine (see ``BaseBackend`` for every hook and its default)."""

    dialect: str

    def data_columns(self) -> list[str]: ...
    def row_count(self) -> int: ...


def backend_for(table: Any) -> Backend:
    """The backend that carries out steps on ``table`` (an in-memory ``Table`` or a database table handle)."""
    from ..table import Table

    if isinstance(table, Table):
        return MemoryBackend(table)
    make = getattr(table, "backend", None)
    if callable(make):
        return make()
    raise TypeError(f"no backend knows how to migrate {type(table).__name__!r}; pass a labkit Table")


__all__ = ["Backend", "BaseBackend", "MemoryBackend", "Resume", "backend_for"]
