"""squawk, the PostgreSQL migration linter teams run in CI, over the SQL of a plan.

squawk reads statements: it knows that ``RENAME COLUMN`` breaks clients and that an index built without
``CONCURRENTLY`` blocks writes. labkit's own rules read the plan: which app versions are live at each step, whether
a backfill runs under a dual write, whether the drop comes after every app left the column. Neither can see what the
other sees, so ``validate_migration_safety`` on PostgreSQL returns both.

Some of squawk's findings are about things a labkit plan does on purpose and answers by design (dropping the old
column in the contract phase, after every app version left it; dropping labkit's own views of retired app versions).
``review()`` lists every squawk finding with the reason it is expected, where there is one;
``validate_migration_safety`` keeps only the findings without one. squawk runs from the ``squawk-cli`` wheel (a
native binary, no network).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..backends.sql import live_versions
from ..errors import InvalidArgumentError, SquawkUnavailableError
from ..plan_sql import plan_sql
from ..steps import AddConstraint, DropColumn, DropJournals, DropNotNull, RenameColumnInPlace, Step
from .finding import Finding

if TYPE_CHECKING:
    from ..backends.db import Database, DbTable
    from ..plan import MigrationPlan

DOCS = "https://squawkhq.com/docs/"


@dataclass(frozen=True)
class Reviewed:
    """One squawk finding on the SQL of a plan: the statement it points at, and why the plan meets it by design
    (``expected``), or None when the plan needs a change."""

    finding: Finding
    statement: str
    expected: str | None
    line: int = 0  # where squawk points, counting from 0 in the plan's SQL (``plan_sql``)

    def __str__(self) -> str:
        verdict = f"expected: {self.expected}" if self.expected else "needs a fix"
        where = self.finding.step or "plan"
        return f"{self.finding.rule} at {where}: {self.statement.splitlines()[0][:80]} ({verdict})"


def squawk_path() -> str:
    """The squawk binary: beside this Python (a virtual environment's bin/, not always on PATH), else on PATH."""
    here = Path(sys.executable).parent
    found = shutil.which("squawk", path=os.pathsep.join([str(here), os.environ.get("PATH", "")]))
    if found is None:
        raise SquawkUnavailableError("no squawk executable beside Python or on PATH")
    return found


def run_squawk(sql: str, *, pg_version: str | None = None, exclude: Sequence[str] = ()) -> list[dict[str, Any]]:
    """squawk's findings on ``sql`` as its JSON reporter gives them (``line`` counts from 0)."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "plan.sql"
        path.write_text(sql)
        cmd = [squawk_path(), "--reporter", "json", *([f"--pg-version={pg_version}"] if pg_version else [])]
        cmd += [f"--exclude={','.join(exclude)}"] if exclude else []
        done = subprocess.run([*cmd, str(path)], capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):  # 1: findings; anything else: squawk itself failed
        raise SquawkUnavailableError(f"exit code {done.returncode}: {done.stderr.strip()[-300:]}")
    try:
        found: list[dict[str, Any]] = json.loads(done.stdout or "[]")
    except json.JSONDecodeError as exc:
        raise SquawkUnavailableError(f"unreadable output {done.stdout[:200]!r}") from exc
    return found


# ---------------------------------------------------------------- what a labkit plan answers by design


@dataclass(frozen=True)
class Seen:
    """Where a squawk finding points: the step, the statement, the plan, labkit's rules that fired on that step,
    and the table (for the one answer that reads the catalog)."""

    step: Step | None
    sql: str
    plan: MigrationPlan
    flagged: set[str]
    table: DbTable


Answer = Callable[[Seen], "str | None"]


def _statement_timeout(seen: Seen) -> str | None:
    return (
        "labkit bounds every wait for a lock with lock_timeout and retries (the outage squawk guards against is a "
        "statement queued behind a lock with every query queued behind it); batches keep each write short, and a "
        "statement_timeout would cut off a VALIDATE CONSTRAINT that rightly reads the whole table"
    )


def _labkit_object(seen: Seen) -> str | None:
    if isinstance(seen.step, DropJournals):
        return ("labkit's journal of a data fix (FixRows: each fixed row's old and new value), dropped in the contract "
                "phase, once no rollback can need it")  # fmt: skip
    if isinstance(seen.step, DropColumn) and seen.sql.startswith("DROP VIEW"):
        d = seen.table.db.dialect
        for version in live_versions(seen.plan):
            if seen.sql == d.drop_view_sql(d.view_name(seen.table.qualified, version)):
                return (f"labkit's own view of app {version}, which may still be running: made again without "
                        f"{seen.step.column!r} right after the drop, in the same transaction")  # fmt: skip
    if re.search(r'"labkit_[^"]*"', seen.sql) and ("VIEW" in seen.sql or "SCHEMA" in seen.sql):
        return "labkit's own view (or its schema) of an app version that no longer runs"
    if '"labkit_dw_' in seen.sql:
        return "labkit's dual-write trigger function, dropped with its trigger once the dual write stops"
    return None


def _contract_drop(seen: Seen) -> str | None:
    step = seen.step
    if isinstance(step, DropJournals):
        return _labkit_object(seen)
    if isinstance(step, DropColumn) and step.phase == "contract" and "drop-column-still-read" not in seen.flagged:
        first = f"app {step.deploy} rolled out first and " if step.deploy else ""
        return (
            f"the contract phase: {first}no live app version reads or writes {step.column!r} "
            "(labkit's rule drop-column-still-read checks it)"
        )
    return None


def _old_column_not_null(seen: Seen) -> str | None:
    dropped_later = {s.column for s in seen.plan.steps if isinstance(s, DropColumn)}
    if isinstance(seen.step, DropNotNull) and seen.step.column in dropped_later:
        return (
            f"{seen.step.column!r} is on its way out: the next app version no longer writes it, so its NOT NULL goes "
            "first, and the column itself goes in the contract phase"
        )
    return None


def _own_constraint(seen: Seen) -> str | None:
    before = seen.plan.steps[: seen.plan.steps.index(seen.step)] if seen.step in seen.plan.steps else ()
    if any(isinstance(s, AddConstraint) and f'"{s.constraint}"' in seen.sql for s in before):
        return "a constraint this plan added for its own use (the NOT VALID check that lets SET NOT NULL skip its scan)"
    return None


def _names_back(seen: Seen) -> str | None:
    if isinstance(seen.step, DropColumn) and seen.step.renames:
        return "the copies take back the original names once the original column is gone: the catalog ends as it began"
    return None


def _rename_under_views(seen: Seen) -> str | None:
    if isinstance(seen.step, RenameColumnInPlace) and seen.plan.apps and "rename-in-place" not in seen.flagged:
        return (
            "every app version reads and writes through its own versioned view, which keeps the name it knows: no "
            "client sees the rename (labkit's rule rename-in-place checks it)"
        )
    return None


_CALL = re.compile(r"([a-z_][a-z0-9_]*)\s*\(", re.I)


def _non_volatile_default(seen: Seen) -> str | None:
    """squawk flags every default it cannot tell is constant; PostgreSQL's catalog can tell (pg_proc)."""
    default = seen.sql.partition(" DEFAULT ")[2]
    called = sorted({m.lower() for m in _CALL.findall(default)})
    if default and not called:  # a literal, or a cast of one: nothing is evaluated per row
        return "a constant default: PostgreSQL 11+ stores it in the catalog, with no rewrite of the table"
    if not called:
        return None
    rows = seen.table.db.query("SELECT proname, provolatile FROM pg_proc WHERE proname = ANY(%s)", [called])
    kinds: dict[str, set[str]] = {}
    for name, kind in rows:
        kinds.setdefault(name, set()).add(kind)
    if all(kinds.get(f) and "v" not in kinds[f] for f in called):  # every function known, none VOLATILE
        return (
            f"pg_proc marks {', '.join(f + '()' for f in called)} IMMUTABLE or STABLE: PostgreSQL 11+ adds a "
            "column with such a default without rewriting the table"
        )
    return None


ANSWERED: dict[str, Answer] = {
    "adding-field-with-default": _non_volatile_default,
    "require-statement-timeout": _statement_timeout,
    "ban-drop-view": _labkit_object,
    "ban-drop-schema": _labkit_object,
    "ban-drop-function": _labkit_object,
    "ban-drop-column": _contract_drop,
    "ban-drop-not-null": _old_column_not_null,
    "ban-drop-constraint": _own_constraint,
    "renaming-object": _names_back,
    "renaming-column": _rename_under_views,
}


# squawk's rules about the schema a migration arrives at (a type, a key's kind), not about how it changes it: on a
# plan, the user's own choice, carried over from the statement; ``labkit lint`` reports them as warnings (--strict:
# failures), since no plan labkit writes can answer them without changing what the user asked for
CHOICES = frozenset({
    "prefer-bigint-over-int", "prefer-bigint-over-smallint", "prefer-identity", "prefer-text-field",
    "prefer-timestamptz", "ban-char-field",
})  # fmt: skip


def pg_version(where: DbTable | Database) -> str:
    """The server's version (of a table's database, or of a database) as squawk's ``--pg-version`` takes it."""
    db = where.db if hasattr(where, "db") else where
    num = int(db.query("SHOW server_version_num")[0][0])
    return f"{num // 10000}.{num % 10000}"


def review(plan: MigrationPlan, table: DbTable, labkit_findings: Sequence[Finding] = ()) -> list[Reviewed]:
    """squawk over the SQL of ``plan`` on ``table`` (PostgreSQL), each finding with the statement and step it
    points at and, where the plan answers it by design, the reason. ``labkit_findings``: labkit's own findings for
    the plan, so that an answer that rests on a labkit rule is not given where that rule fired."""
    if table.db.dialect.name != "postgresql":
        raise InvalidArgumentError(f"squawk lints PostgreSQL; this table is on {table.db.dialect.name}")
    script = plan_sql(plan, table)
    lines = script.lines()
    steps = {s.name: s for s in plan.steps}
    out = []
    for raw in run_squawk(str(script), pg_version=pg_version(table)):
        _, unit, statement = lines[min(int(raw["line"]), len(lines) - 1)]
        step = steps.get(unit.step or "") if unit is not None else None
        rule = str(raw["rule_name"])
        finding = Finding(
            rule=rule,
            severity="error" if str(raw.get("level", "")).lower() == "error" else "warning",
            step=step.name if step else None,
            message=str(raw["message"]) + ("" if step or unit is None else f" ({unit.title})"),
            help=str(raw.get("help") or f"see {DOCS}{rule}"),
            link=f"{DOCS}{rule}",
            source="squawk",
        )
        flagged = {f.rule for f in labkit_findings if f.step == finding.step}
        answer = ANSWERED.get(rule)
        expected = answer(Seen(step, statement or "", plan, flagged, table)) if answer else None
        out.append(Reviewed(finding, statement or "", expected, int(raw["line"])))
    return out


IGNORE = "-- squawk-ignore"


def annotated_sql(plan: MigrationPlan, table: DbTable, labkit_findings: Sequence[Finding] = ()) -> str:
    """The SQL of ``plan`` on ``table`` with squawk's own ignore comment (``-- squawk-ignore RULE -- reason``) on
    the line before each line where squawk points at something the plan answers by design, with the reason: a
    plain ``squawk`` in CI then reads the same verdicts as ``validate_migration_safety`` (exit 0 on a safe plan, 1
    where a finding needs a fix), and a reviewer reads why each one is expected beside the statement.

    WHY squawk's comments rather than a ``--exclude`` list: an exclusion silences a rule for the whole file, where
    the answer holds for one statement (a DROP COLUMN in the contract phase, not any DROP COLUMN)."""
    text = str(plan_sql(plan, table))
    lines = text.split("\n")
    answered: dict[int, list[Reviewed]] = {}
    for r in review(plan, table, labkit_findings):
        if r.expected is not None:
            answered.setdefault(min(r.line, len(lines) - 1), []).append(r)
    for line in sorted(answered, reverse=True):  # from the bottom up, so the line numbers above stay right
        seen = answered[line]
        rules = ", ".join(dict.fromkeys(r.finding.rule for r in seen))
        why = "; ".join(dict.fromkeys(" ".join(r.expected.split()) for r in seen if r.expected))
        indent = lines[line][: len(lines[line]) - len(lines[line].lstrip())]
        lines.insert(line, f"{indent}{IGNORE} {rules} -- expected: {why}")
    return "\n".join(lines)
