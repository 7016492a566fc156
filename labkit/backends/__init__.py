"""Backends carry out steps. The runner, safety checks and views only talk to the ``Backend`` interface."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Backend, BaseBackend, Dialect, EngineFacts, Resume
from .memory import MemoryBackend

if TYPE_CHECKING:
    from ..table import TableLike


def backend_for(table: TableLike) -> Backend:
    """The backend that carries out steps on ``table`` (an in-memory ``Table`` or a database ``DbTable``)."""
    make = getattr(table, "backend", None)
    if not callable(make):
        raise TypeError(f"no backend knows how to migrate {type(table).__name__!r}; pass a labkit Table or DbTable")
    backend: Backend = make()
    return backend


__all__ = ["Backend", "BaseBackend", "Dialect", "EngineFacts", "MemoryBackend", "Resume", "backend_for"]
