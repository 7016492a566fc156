"""set-not-null-scans (PostgreSQL): a SET NOT NULL with no validated CHECK (column IS NOT NULL) to skip its scan."""

from __future__ import annotations

from collections.abc import Iterator

from ..backends.base import EngineFacts
from ..pgparse import proves_not_null
from ..steps import AddConstraint, SetNotNull, ValidateConstraint
from .finding import Finding
from .rule import Rule
from .walk import StepState

HELP = ("Add CHECK ({column} IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL with check= naming it "
        "(lk.build_set_not_null_migration does all three).")  # fmt: skip


def _check(states: list[StepState], facts: EngineFacts | None) -> Iterator[Finding]:
    if facts is not None and facts.row_count == 0:
        return  # nothing to scan
    added: dict[str, AddConstraint] = {}
    validated: set[str] = set()
    for st in states:
        s = st.step
        if isinstance(s, AddConstraint):
            added[s.constraint] = s
            if not s.not_valid:
                validated.add(s.constraint)
        elif isinstance(s, ValidateConstraint):
            validated.add(s.constraint)
        if not isinstance(s, SetNotNull):
            continue
        helper = added.get(s.check) if s.check else None
        if s.check is None:
            why = "has no CHECK to prove the column holds no NULL"
        elif helper is None:
            why = f"names the check {s.check!r}, which no step before it adds"
        elif not proves_not_null(helper.definition, s.column):
            why = (f"names the check {s.check!r}, {helper.definition}, which does not prove {s.column} IS NOT NULL "
                   "(PostgreSQL skips the scan only for a check that implies it; a NULL passes any other)")  # fmt: skip
        elif s.check not in validated:
            why = f"names the check {s.check!r}, which is NOT VALID: only a validated check spares the scan"
        else:
            continue
        yield RULE.finding(
            s.name,
            f"SET NOT NULL on {s.column!r} {why}: PostgreSQL scans the whole table under an ACCESS EXCLUSIVE lock, "
            "and every read and write of the table waits for the scan.",
            HELP.format(column=s.column),
        )


RULE = Rule(
    id="set-not-null-scans",
    severity="error",
    echoes="squawk: adding-not-nullable-field (it accepts any CHECK); strong_migrations: setting NOT NULL",
    problem="``SET NOT NULL`` reads every row to prove there is no NULL, holding ACCESS EXCLUSIVE: nothing reads or "
    "writes the table meanwhile. PostgreSQL 12+ skips that scan only when a validated CHECK constraint implies "
    "``column IS NOT NULL``; a check on anything else (``email <> ''``) proves nothing, since a NULL passes it.",
    solution="``CHECK (column IS NOT NULL) NOT VALID`` (instant), ``VALIDATE CONSTRAINT`` (reads the rows under a "
    "lock that lets writes go on), then ``SET NOT NULL`` (instant) and drop the check.",
    check=_check,
    engines=frozenset({"postgresql"}),
    needs_facts=True,
)
