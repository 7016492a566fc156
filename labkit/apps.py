"""App versions: which columns each release of the application reads and writes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._common import check_name
from .errors import InvalidArgumentError


@dataclass(frozen=True)
class AppVersion:
    """One release of the app, as the database sees it: the columns its queries name.

    A request fails (downtime) when it names a column that is not there.
    """

    name: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    # columns this version never writes NULL into (it checks its input, or fills a value): the release a NOT NULL
    # change deploys before its CHECK goes in, so that no write of the app's is refused by it
    never_null: tuple[str, ...] = ()

    def __init__(self, name: str, reads: Sequence[str], writes: Sequence[str], never_null: Sequence[str] = ()) -> None:
        check_name(name, kind="app version")  # it names a view (or a schema) on a database
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "reads", tuple(check_name(c) for c in reads))
        object.__setattr__(self, "writes", tuple(check_name(c) for c in writes))
        object.__setattr__(self, "never_null", tuple(check_name(c) for c in never_null))
        stray = [c for c in self.never_null if c not in self.writes]
        if stray:
            raise InvalidArgumentError(f"app {name} never writes NULL into {', '.join(stray)}, which it does not write")

    @property
    def columns(self) -> frozenset[str]:
        return frozenset(self.reads) | frozenset(self.writes)

    def describe(self) -> str:
        never = f" (never NULL into {', '.join(self.never_null)})" if self.never_null else ""
        return f"{self.name}: reads {', '.join(self.reads)}; writes {', '.join(self.writes)}{never}"
