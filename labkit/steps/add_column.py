"""ADD COLUMN: the expand step that adds the new structure beside the old one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .base import Step


@dataclass(frozen=True, repr=False)
class AddColumn(Step):
    """Add a nullable column (or one with a constant default) at the end of the table."""

    kind = "add_column"
    column_fields = ("column",)
    phase = "expand"

    table: str
    column: str
    default: Any = None
    not_null: bool = False
    sql_type: str | None = None  # on a database: the column's type (TEXT when not given)

    def reverse(self) -> Step:
        from .drop_column import DropColumn

        return DropColumn(self.table, self.column, label=f"undo_{self.name}")

    def fit(self, columns: list[str]) -> list[str]:
        self._absent(columns, self.column)
        return [*columns, self.column]

    def describe(self) -> str:
        extra = f" DEFAULT {self.default!r}" if self.default is not None else ""
        required = " NOT NULL" if self.not_null else ""
        fill = "every row reads the default" if self.default is not None else "old rows read it as empty"
        return f"add column {self.column}{required}{extra} ({fill})"
