"""backfill-without-dual-write: a backfill that live writes do not keep up to date."""

from __future__ import annotations

from collections.abc import Iterator

from .. import pgparse
from ..backends.base import EngineFacts
from ..errors import LabkitError
from ..steps import Backfill
from .finding import Finding
from .rule import Rule
from .walk import StepState


def _check(states: list[StepState], facts: EngineFacts | None) -> Iterator[Finding]:
    for st in states:
        s = st.step
        if isinstance(s, Backfill) and s.target not in st.dual_writes and not _of_no_column(s):
            yield RULE.finding(
                s.name,
                f"Writes the app makes during and after the backfill of {s.target!r} never reach it, "
                "so they are lost when reads switch.",
                f"Put a start_dual_write into {s.target!r} before the backfill and stop it only after the app "
                "writes the column itself.",
            )


def _of_no_column(s: Backfill) -> bool:
    """A backfill of a value no column gives (``gen_random_uuid()``, a volatile default's): an app write to the row
    leaves it as right as it was, so there is nothing for a dual write to keep up to date."""
    if s.source is not None or s.compute is not None or s.sql is None:
        return False
    texts = [s.sql] if isinstance(s.sql, str) else [text for _, text in s.sql]
    try:
        return not any(pgparse.names_columns(t) for t in texts)
    except LabkitError:
        return False


RULE = Rule(
    id="backfill-without-dual-write",
    severity="error",
    echoes="no squawk rule; the lost-update half of Stripe's dual-write pattern",
    problem="a backfill copies each row once. A row the app writes after its batch ran keeps a stale value in "
    "the new column, and the write is lost the moment readers switch to it.",
    solution="start a dual write (trigger) into the column before the backfill, stop it only after the app "
    "writes the new column itself.",
    check=_check,
)
