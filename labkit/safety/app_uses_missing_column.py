"""app-uses-missing-column (the expand-before-deploy rule, the one strong_migrations enforces by order).

Problem: an app version rolled out before the column it names exists (or after it is gone) fails every
request that names it.
Solution: expand before you deploy, contract after: add columns before the release that uses them,
drop them after the release that stopped using them.
"""

from __future__ import annotations

from typing import Any

from ..backends import backend_for
from ..errors import StepDoesNotFitError
from ..steps import RenameInView
from .finding import Finding
from .walk import StepState

RULE = "app-uses-missing-column"


def check(states: list[StepState], table: Any = None) -> list[Finding]:
    if table is None:
        return []
    columns = backend_for(table).data_columns()
    aliases: set[str] = set()  # names a versioned view shows for a column of another name (approach B)
    out = []
    for st in states:
        s = st.step
        if isinstance(s, RenameInView):
            aliases.add(s.new)
        try:
            after = s.fit(list(columns))
        except StepDoesNotFitError:  # reported by step-does-not-fit; columns are unknown from here on
            return out
        app = st.rolls_out
        if app is not None:
            present = [*(columns if s.deploy_timing == "before" else after), *aliases]
            missing = sorted(app.columns - set(present))
            if missing:
                out.append(_finding(s.name, app.name, missing))
        columns = after
    return out


def _finding(step: str, app: str, missing: list[str]) -> Finding:
    return Finding(
        RULE,
        "error",
        step,
        f"App {app} rolls out while {', '.join(map(repr, missing))} does not exist, so its requests fail.",
        "Expand before you deploy and contract after: add the column before this release, drop it after.",
    )
