"""App versions: which columns each release of the application reads and writes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._common import check_name


@dataclass(frozen=True)
class AppVersion:
    """One release of the app, as the database sees it: the columns its queries name.

    A request fails (downtime) when it names a column that is not there.
    """

    name: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]

    def __init__(self, name: str, reads: Sequence[str], writes: Sequence[str]) -> None:
        check_name(name, kind="app version")  # it names a view (or a schema) on a database
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "reads", tuple(check_name(c) for c in reads))
        object.__setattr__(self, "writes", tuple(check_name(c) for c in writes))

    @property
    def columns(self) -> frozenset[str]:
        return frozenset(self.reads) | frozenset(self.writes)

    def describe(self) -> str:
        return f"{self.name}: reads {', '.join(self.reads)}; writes {', '.join(self.writes)}"
