"""A rule is data: its id, severity, the engines it applies to, its Problem / Solution text, and its check.

Each rule lives in its own module (``labkit/safety/<rule_id>.py``) as ``RULE = Rule(...)``. A check is a
function of the walked plan (``StepState`` per step) and the engine facts (``EngineFacts``, read once before
any rule runs, or ``None`` when no table was given); it never queries a database itself.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..backends.base import EngineFacts
from .finding import Finding, Severity
from .walk import StepState

Check = Callable[[list[StepState], "EngineFacts | None"], Iterable[Finding]]
ENGINES = frozenset({"memory", "sqlite", "postgresql"})


@dataclass(frozen=True, repr=False)
class Rule:
    """One safety rule. ``engines``: where it applies (a plan checked without a table is checked by the rules
    that apply everywhere and need no facts)."""

    id: str
    severity: Severity
    problem: str
    solution: str
    check: Check
    echoes: str = ""  # the same idea in squawk, strong_migrations, pgroll ... ("" when none has it)
    engines: frozenset[str] = ENGINES
    needs_facts: bool = False  # True: only runs when a table is given
    blocks: bool = False  # True: the runner refuses a plan with this finding before any change (preflight)

    @property
    def doc(self) -> str:
        """Problem and Solution, as the docs print them (``print(rule)`` shows the same)."""
        echoes = f" ({self.echoes})" if self.echoes else ""
        body = [
            textwrap.fill(f"{head}: {text}", 110)
            for head, text in (("Problem", self.problem), ("Solution", self.solution))
        ]
        return "\n".join([f"{self.id}{echoes}", "", *body])

    def __str__(self) -> str:
        return self.doc

    def __repr__(self) -> str:
        return f"Rule({self.id!r}, {self.severity!r}, engines={sorted(self.engines)})"

    def applies(self, facts: EngineFacts | None) -> bool:
        if facts is None:
            return not self.needs_facts and self.engines == ENGINES
        return facts.engine in self.engines

    def finding(self, step: str | None, message: str, help: str) -> Finding:
        return Finding(self.id, self.severity, step, message, help)

    def run(self, states: list[StepState], facts: EngineFacts | None) -> list[Finding]:
        return list(self.check(states, facts)) if self.applies(facts) else []
