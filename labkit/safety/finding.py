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

    def __str__(self) -> str:
        where = f" at step {self.step}" if self.step else ""
        return f"{self.severity}[{self.rule}]{where}: {self.message}\n  help: {self.help}"
