"""Backends carry out steps. The runner, safety checks and views only talk to the ``Backend`` interface; which
backend a table gets is ``labkit.backends.engine.backend_for``'s to say."""

from __future__ import annotations

from .base import Backend, BaseBackend, Dialect, EngineFacts, Resume

__all__ = ["Backend", "BaseBackend", "Dialect", "EngineFacts", "Resume"]
