"""require-lock-timeout (PostgreSQL): DDL that may queue forever behind a long transaction."""

from __future__ import annotations

from collections.abc import Iterator

from ..backends.base import EngineFacts
from ..steps import Backfill
from .finding import Finding
from .rule import Rule
from .walk import StepState


def _check(states: list[StepState], facts: EngineFacts | None) -> Iterator[Finding]:
    ddl = [st for st in states if not isinstance(st.step, Backfill)]
    if facts is not None and ddl and not facts.lock_timeout_ms:
        yield RULE.finding(
            ddl[0].step.name,
            "DDL without a lock timeout can wait behind a long transaction while every other query queues behind it.",
            "Connect with a lock timeout (labkit.connect(url) uses 500 ms with retries); never 0.",
        )


RULE = Rule(
    id="require-lock-timeout",
    severity="error",
    echoes="squawk: require-lock-timeout (which accepts lock_timeout = '0ms', i.e. no timeout at all)",
    problem="DDL waits for an ACCESS EXCLUSIVE lock behind any open transaction, and every later query queues "
    "behind the waiting DDL: the lock-queue outage.",
    solution="a lock_timeout on every DDL statement, with retries (labkit's default, 500 ms).",
    check=_check,
    engines=frozenset({"postgresql"}),
    needs_facts=True,
)
