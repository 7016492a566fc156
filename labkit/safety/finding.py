"""A finding is data: which rule, how bad, where, the risk in one sentence, and the fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    step: str | None
    message: str
    help: str
    link: str = ""  # where the rule is documented (squawk's rules: squawkhq.com/docs/<rule>)
    source: str = "labkit"  # "labkit" (a rule that reads the plan) or "squawk" (a rule that reads the SQL)

    def __str__(self) -> str:
        where = f" at step {self.step}" if self.step else ""
        by = f" (squawk, {self.link})" if self.source == "squawk" else ""
        return f"{self.severity}[{self.rule}]{where}: {self.message}{by}\n  help: {self.help}"
