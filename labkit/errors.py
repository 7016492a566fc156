"""Typed errors: every exception labkit raises on purpose, one class per kind, facts in fields.

Two bases say what a caller most needs to know: ``RefusedError`` -- refused before any change, so nothing changed
and the same call with the input fixed will run -- and ``FailedError`` -- something failed while a plan ran
(an injected fault, a lost connection, a step that cannot be undone), so the result says what state it left.
Each class also derives from the built-in exception it refines (``ValueError``, ``KeyError``, ``RuntimeError``),
so ``except ValueError`` keeps working. The same refusal is always the same class.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class LabkitError(Exception):
    """Base class of every error labkit raises on purpose."""


class RefusedError(LabkitError):
    """Refused before any change: nothing changed."""


class FailedError(LabkitError):
    """Failed while a plan ran: the run's result (or the error's fields) says what it left."""


class InvalidArgumentError(RefusedError, ValueError):
    """An argument labkit cannot use (a count, an option, a URL, a ratio), named in the message."""


class UnsafeSqlError(RefusedError, ValueError):
    """SQL built from a plan's fragments that is not the one statement (or expression) labkit meant to send."""

    def __init__(self, sql: str, why: str) -> None:
        shown = sql if len(sql) <= 200 else sql[:200] + "..."
        super().__init__(f"refused to send {shown!r}: {why} (a plan file is code, run with the migrating "
                         "role's rights)")
        self.sql = sql


class InvalidNameError(RefusedError, ValueError):
    """A table or column name that is empty, not a plain identifier, or reserved."""

    def __init__(self, name: object, *, kind: str = "column", reason: str = "") -> None:
        self.name = name
        self.kind = kind
        self.reason = reason or "use lower-case letters, digits and underscores, starting with a letter"
        super().__init__(f"invalid {kind} name {name!r}: {self.reason}")


class ColumnNotFoundError(RefusedError, KeyError):
    """A column that the table does not have."""

    def __init__(self, table: str, column: str, columns: Sequence[str] = ()) -> None:
        self.table = table
        self.column = column
        self.columns = tuple(columns)
        listed = f" (columns: {', '.join(self.columns)})" if self.columns else ""
        super().__init__(f"column {column!r} does not exist on table {table!r}{listed}")

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class KeyColumnError(RefusedError, ValueError):
    """A column of the primary key, where a plan migrates the columns outside it."""

    def __init__(self, table: str, column: str, key: Sequence[str] = ()) -> None:
        self.table = table
        self.column = column
        super().__init__(
            f"column {column!r} is part of the primary key ({', '.join(key) or column}) of table {table!r}: labkit "
            "migrates the columns outside the key (every row, view, dual write and foreign key is found by it). "
            "Rename a key column with ALTER TABLE ... RENAME COLUMN when no app names it, or build a new table"
        )


class PrivilegeError(RefusedError, PermissionError):
    """The role may not do what a command needs: which privilege, on what, and whom to ask."""

    def __init__(self, role: str, privilege: str, on: str, owner: str | None = None) -> None:
        self.role = role
        self.privilege = privilege
        self.on = on
        ask = f"ask its owner, {owner}, to" if owner else "ask its owner to"
        super().__init__(f"role {role} may not {privilege} {on}: {ask} GRANT {privilege} ON {on} TO {role}")


class StandbyUnseenError(RefusedError, PermissionError):
    """Standbys stream from the server, but this role may not read how far behind they are: a throttle on their lag
    would see nothing and never wait. Refused before any change."""

    def __init__(self, standbys: int) -> None:
        self.standbys = standbys
        super().__init__(
            f"{standbys} standby(s) stream from this server, but this role may not read their lag "
            "(pg_stat_replication's columns need pg_read_all_stats), so the throttle could not wait for them: "
            "GRANT pg_monitor TO the migrating role, or run with a throttle that does not watch standbys "
            "(Throttle(max_lag_ms=None, max_lag_bytes=None))"
        )


class ColumnExistsError(RefusedError, ValueError):
    """Adding or renaming to a column name that is already taken."""

    def __init__(self, table: str, column: str) -> None:
        self.table = table
        self.column = column
        super().__init__(f"column {column!r} already exists on table {table!r}")


class SameNameError(RefusedError, ValueError):
    """Renaming a column to the name it already has (every rename checks it in ``_common.check_rename``)."""

    def __init__(self, table: str, column: str) -> None:
        self.table = table
        self.column = column
        super().__init__(f"cannot rename column {column!r} on table {table!r} to itself")


class RowNotFoundError(RefusedError, KeyError):
    """A row id that the table does not hold."""

    def __init__(self, table: str, row_id: object) -> None:
        self.table = table
        self.row_id = row_id
        super().__init__(f"no row with id {row_id!r} in table {table!r}")

    def __str__(self) -> str:
        return str(self.args[0])


class NotNullViolationError(RefusedError, ValueError):
    """A NOT NULL column that would hold NULL (None)."""

    def __init__(self, table: str, column: str) -> None:
        self.table = table
        self.column = column
        super().__init__(f"column {column!r} on table {table!r} is NOT NULL and has no value or default")


class InvalidBatchSizeError(RefusedError, ValueError):
    """A batch size that is not a positive integer."""

    def __init__(self, batch_size: object, reason: str = "a positive integer") -> None:
        self.batch_size = batch_size
        super().__init__(f"batch_size must be {reason}, got {batch_size!r}")


class InvalidPlanError(RefusedError, ValueError):
    """A plan that is malformed as data (no steps, duplicate step names, unknown app version ...)."""

    def __init__(self, plan: str, reason: str) -> None:
        self.plan = plan
        self.reason = reason
        super().__init__(f"plan {plan!r} is invalid: {reason}")


class StepDoesNotFitError(RefusedError, ValueError):
    """A step that cannot run on this table in the state the earlier steps leave it in."""

    def __init__(self, step: str, table: str, reason: str) -> None:
        self.step = step
        self.table = table
        self.reason = reason
        super().__init__(f"step {step!r} does not fit table {table!r}: {reason}")


class StepNotFoundError(RefusedError, KeyError):
    """A step name that is not in the plan (or no plan has run yet)."""

    def __init__(self, step: str, steps: str) -> None:
        self.step = step
        self.steps = steps
        super().__init__(f"no step {step!r} in the plan (steps: {steps})")

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0])


class PlanAlreadyExecutedError(RefusedError, RuntimeError):
    """A runner that has already executed a plan (a runner keeps one run's history and progress)."""

    def __init__(self, plan: str) -> None:
        self.plan = plan
        super().__init__(f"this runner already executed plan {plan!r}; create a new MigrationRunner")


class InvalidFaultError(RefusedError, ValueError):
    """A ``fail_at`` value that names no step, or a batch that will not exist."""

    def __init__(self, fail_at: object, reason: str) -> None:
        self.fail_at = fail_at
        self.reason = reason
        super().__init__(f"invalid fail_at {fail_at!r}: {reason}")


class IrreversibleStepError(FailedError, RuntimeError):
    """A step that has no reverse (data it removed cannot be brought back)."""

    def __init__(self, step: str, reason: str) -> None:
        self.step = step
        self.reason = reason
        super().__init__(f"step {step!r} is not reversible: {reason}")


class InjectedFault(FailedError, RuntimeError):
    """The failure a learner asked for with ``fail_at``."""

    def __init__(self, point: str, batch: int | None = None) -> None:
        self.point = point
        self.batch = batch
        where = f"{point} (batch {batch})" if batch is not None else point
        super().__init__(f"injected fault at {where}")


class RollbackRequested(FailedError, RuntimeError):
    """Raised inside the runner when a cut-off run is resumed with ``resume="rollback"``."""

    def __init__(self, plan: str) -> None:
        self.plan = plan
        super().__init__(f"rollback of the cut-off run of plan {plan!r} was requested")


class MigrationLockedError(RefusedError, RuntimeError):
    """Another runner is executing a migration on the same table right now."""

    def __init__(self, table: str, holder: str = "another runner") -> None:
        self.table = table
        self.holder = holder
        super().__init__(f"a migration of table {table!r} is already running ({holder}); refusing to interleave")


class PlanMismatchError(RefusedError, RuntimeError):
    """A cut-off run of a plan with the same name but different steps is recorded in the database."""

    def __init__(self, plan: str, step: str | None = None) -> None:
        self.plan = plan
        self.step = step
        at = f" (stopped at step {step!r})" if step else ""
        super().__init__(
            f"the database holds a cut-off run of plan {plan!r}{at} whose steps differ from this plan's. "
            "Only the plan that run started can finish or undo it: build it exactly as it was built then (same "
            "builder, same arguments; batch_size and pause may differ) and run it again to finish, or run it with "
            "MigrationRunner(table, resume='rollback') to undo it"
        )


class PreflightError(RefusedError, RuntimeError):
    """The plan cannot succeed on this table (the safety checks' blocking errors): refused before any change."""

    def __init__(self, plan: str, findings: Sequence[Any]) -> None:
        self.plan = plan
        self.findings = tuple(findings)
        lines = "\n".join(f"- {f}" for f in self.findings)
        super().__init__(f"plan {plan!r} was refused before any change:\n{lines}")


class DatabaseUnavailableError(RefusedError, RuntimeError):
    """A database (e.g. the embedded PostgreSQL server) could not be started or reached."""

    def __init__(self, what: str, reason: str) -> None:
        self.what = what
        self.reason = reason
        super().__init__(f"{what} is not available: {reason}")


class RollbackUnderWayError(RefusedError, RuntimeError):
    """A plan whose rollback did not finish (a lock timeout, a lost connection, a crash), run forward again: its
    rollback must be finished first, with ``labkit rollback`` or ``MigrationRunner(table, resume="rollback")``."""

    def __init__(self, plan: str, step: str | None = None) -> None:
        self.plan = plan
        self.step = step
        at = f" (it stopped at {step})" if step else ""
        super().__init__(f"the rollback of plan {plan!r} did not finish{at}: finish it with labkit rollback, or "
                         "MigrationRunner(table, resume='rollback'), before anything else")  # fmt: skip


class NothingToResumeError(RefusedError, RuntimeError):
    """``resume="rollback"`` was asked for, but no cut-off run of the plan is recorded."""

    def __init__(self, plan: str) -> None:
        self.plan = plan
        super().__init__(f"no cut-off run of plan {plan!r} is recorded here, so there is nothing to roll back")


class ConnectionLostError(FailedError, RuntimeError):
    """The connection to the database was lost mid-run (terminated, the server restarted, the network went).

    Nothing can be undone over a dead connection, and nothing needs to be: every change committed with its
    progress, so the database says how far the run got. Carries the plan, the step, the last committed batch
    and the calls that finish or undo the run.
    """

    def __init__(self, plan: str, step: str | None, last_batch: int | None, reason: str) -> None:
        self.plan = plan
        self.step = step
        self.last_batch = last_batch
        self.reason = reason
        where = f"at step {step!r}" + (f" after batch {last_batch}" if last_batch else "")
        super().__init__(
            f"the connection was lost {where} of plan {plan!r} ({reason}); every committed change is consistent "
            "and recorded. Connect again, build the same plan, and run it: "
            "MigrationRunner(table).execute_plan(plan) resumes it, "
            "MigrationRunner(table, resume='rollback').execute_plan(plan) undoes it"
        )


class TableNotFoundError(RefusedError, KeyError):
    """A table the database does not have."""

    def __init__(self, table: str, tables: Sequence[str] = ()) -> None:
        self.table = table
        self.tables = tuple(tables)
        listed = f" (tables: {', '.join(self.tables)})" if self.tables else ""
        super().__init__(f"table {table!r} does not exist{listed}")

    def __str__(self) -> str:
        return str(self.args[0])


class PlanFileError(RefusedError, ValueError):
    """A plan that cannot be written to a file, or a file that is not a valid plan; ``where`` names the field."""

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}" if where else reason)


class ExportError(RefusedError, ValueError):
    """A plan an exporter cannot write as revisions (the reason says what to change)."""


class SquawkUnavailableError(RefusedError):
    """The squawk binary cannot be found or run."""

    def __init__(self, why: str) -> None:
        super().__init__(f"squawk cannot run: {why}. It comes with labkit's dependencies: pip install squawk-cli")


class CommandRefusedError(RefusedError):
    """A lifecycle command (``labkit start`` / ``complete`` / ``rollback``) that cannot run as asked; nothing
    changed (exit 3)."""


class NotImplementedHere(LabkitError):
    """The default of every generic function of ``labkit.dispatch``: no implementation is registered for this
    step on this engine (backends turn it into ``StepDoesNotFitError`` before a run)."""
