"""step-does-not-fit (squawk reports a parse error the same way: first, before any other finding matters).

Problem: a step that names a column which, by then, is missing (or adds one that already exists) makes
the runner refuse the whole plan; usually steps were reordered or one was deleted.
Solution: keep the expand/migrate/contract order: add before you fill, fill before you read, drop last.
"""

from __future__ import annotations

from typing import Any

from ..backends import backend_for
from ..errors import StepDoesNotFitError
from .finding import Finding
from .walk import StepState

RULE = "step-does-not-fit"


def check(states: list[StepState], table: Any = None) -> list[Finding]:
    if table is None:
        return []
    columns = backend_for(table).data_columns()
    for st in states:
        try:
            columns = st.step.fit(columns)
        except StepDoesNotFitError as exc:
            return [
                Finding(
                    RULE,
                    "error",
                    st.step.name,
                    f"Step {st.step.name!r} cannot run on {table.name!r}: {exc.reason}.",
                    "Restore the expand/migrate/contract order: add a column before filling it, "
                    "fill it before reading it, drop the old one last.",
                )
            ]
    return []
