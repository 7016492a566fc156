"""ALTER COLUMN SET STATISTICS / STORAGE / COMPRESSION / (options): a column's planner and storage settings.

A copied column starts with the defaults; the old column's settings (a raised statistics target, EXTERNAL storage
for a big text, lz4 compression, ``n_distinct``) are given to the copy right after ``ADD COLUMN`` so the
backfill already stores its values the same way. Each is catalog metadata: a brief lock, no rewrite. Undoing it
puts the defaults back. PostgreSQL only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..dispatch import SqlRun, sql_statements
from .base import Step

STORAGES = ("PLAIN", "EXTERNAL", "MAIN", "EXTENDED")
COMPRESSIONS = ("pglz", "lz4")
_OPTION = re.compile(r"^(n_distinct|n_distinct_inherited)=-?\d+(\.\d+)?$")


@dataclass(frozen=True, repr=False)
class SetColumnSettings(Step):
    """Give ``column`` these settings (each ``None`` / empty: left alone); ``reset``: put the defaults back."""

    engines = frozenset({"postgresql"})
    elsewhere = "set a column's statistics target, storage or compression"

    kind = "set_column_settings"
    column_fields = ("column",)
    phase = "expand"

    table: str
    column: str
    statistics: int | None = None  # SET STATISTICS: the planner's statistics target (-1: the default)
    storage: str | None = None  # SET STORAGE: plain, external, extended or main
    compression: str | None = None  # SET COMPRESSION: pglz or lz4
    options: tuple[str, ...] = ()  # attribute options, "n_distinct=-1"
    reset: bool = False  # put the defaults back (the undo of a step that set them)

    def __post_init__(self) -> None:
        super().__post_init__()
        target = self.statistics
        if target is not None and (type(target) is not int or not -1 <= target <= 10000):
            raise self.refuse(f"statistics must be an integer from -1 to 10000, got {self.statistics!r}")
        if self.storage is not None and self.storage not in STORAGES:
            raise self.refuse(f"storage must be one of {', '.join(STORAGES)}, got {self.storage!r}")
        if self.compression is not None and self.compression not in COMPRESSIONS:
            raise self.refuse(f"compression must be one of {', '.join(COMPRESSIONS)}, got {self.compression!r}")
        for option in self.options:
            if not isinstance(option, str) or not _OPTION.match(option):
                raise self.refuse(f"options: {option!r} is not n_distinct=<number> or n_distinct_inherited=<number>")

    def reverse(self) -> Step:
        return SetColumnSettings(self.table, self.column, self.statistics, self.storage, self.compression,
                                 self.options, reset=not self.reset, label=f"undo_{self.name}")  # fmt: skip

    def fit(self, columns: list[str]) -> list[str]:
        self._need(columns, self.column)
        return list(columns)

    def describe(self) -> str:
        parts = [f"statistics {self.statistics}"] if self.statistics is not None else []
        parts += [f"storage {self.storage}"] if self.storage else []
        parts += [f"compression {self.compression}"] if self.compression else []
        parts += list(self.options)
        what = ", ".join(parts) or "nothing"
        return f"reset {what} of column {self.column}" if self.reset else f"column {self.column}: {what}"


@sql_statements.register
def _sql(step: SetColumnSettings, run: SqlRun) -> list[str]:
    alter = f"ALTER TABLE {run.table.ref} ALTER COLUMN {run.dialect.quote(step.column)}"
    out = []
    if step.statistics is not None:
        out.append(f"{alter} SET STATISTICS {-1 if step.reset else step.statistics}")
    if step.storage:
        out.append(f"{alter} SET STORAGE {'DEFAULT' if step.reset else step.storage}")
    if step.compression:
        out.append(f"{alter} SET COMPRESSION {'DEFAULT' if step.reset else step.compression}")
    if step.options:
        names = ", ".join(o.split("=")[0] for o in step.options)
        out.append(f"{alter} RESET ({names})" if step.reset else f"{alter} SET ({', '.join(step.options)})")
    return out
