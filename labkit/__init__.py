"""labkit: zero-downtime schema migrations, expand -> migrate -> contract, on a table you can watch.

``import labkit`` is the migration library. The course's helpers (generated tables, the traffic simulator, the
exercises' self-checks, the Setup cell ...) are the package ``labkit.course``, which this does not load:
``from labkit import lab`` (or ``plots``, ``views``, ``widgets`` ...) loads the course module asked for."""

import importlib
import logging
from typing import Any

from ._common import SQL
from .apps import AppVersion
from .backends import db as db  # the engines' modules moved into labkit/backends/ (issue 31): still labkit.<name>
from .backends import dialect as dialect
from .backends import engine as engine
from .backends import servers as servers
from .backends import state as state
from .backends.db import Database, DbTable
from .backends.engine import connect
from .backends.servers import embedded_postgres
from .builders import (
    build_add_column_migration,
    build_add_foreign_key_migration,
    build_add_index_migration,
    build_change_type_migration,
    build_comment_migration,
    build_naive_rename_migration,
    build_rename_column_migration,
    build_set_not_null_migration,
)
from .errors import (
    ColumnExistsError,
    ColumnNotFoundError,
    ConnectionLostError,
    DatabaseUnavailableError,
    FailedError,
    InjectedFault,
    InvalidBatchSizeError,
    InvalidFaultError,
    InvalidNameError,
    InvalidPlanError,
    IrreversibleStepError,
    LabkitError,
    MigrationLockedError,
    NothingToResumeError,
    NotNullViolationError,
    PlanAlreadyExecutedError,
    PlanFileError,
    PlanMismatchError,
    PreflightError,
    RefusedError,
    RowNotFoundError,
    SameNameError,
    StepDoesNotFitError,
    TableNotFoundError,
)
from .plan import MigrationPlan
from .plan_sql import plan_sql
from .planfile import load_plan, save_plan
from .progress import TerminalProgress
from .runner import Event, MigrationResult, MigrationRunner
from .safety import RULES, Finding
from .steps import (
    AddColumn,
    AddConstraint,
    Backfill,
    ChangeTypeInPlace,
    CreateIndex,
    DropColumn,
    DropConstraint,
    DropIndex,
    DropNotNull,
    RenameColumnInPlace,
    RenameInView,
    SetColumnComment,
    SetDefault,
    SetNotNull,
    StartDualWrite,
    Step,
    StopDualWrite,
    SwitchReads,
    ValidateConstraint,
)
from .table import Table
from .throttle import Throttle
from .validate import validate_migration_safety

__version__ = "0.1.0"

# A library logs; the application decides where logs go (no "No handler" noise on stderr by default).
logging.getLogger(__name__).addHandler(logging.NullHandler())

# the course's modules, reached from the package as before they moved into labkit/course/ (issue 31)
COURSE = ("data", "exercises", "lab", "ledger", "observe", "plots", "scenarios", "traffic", "views", "widgets",
          "workload")  # fmt: skip


def __getattr__(name: str) -> Any:
    """``from labkit import lab`` / ``labkit.lab``: the course's module, loaded when first asked for (PEP 562), so
    ``import labkit`` alone loads none of pandas, matplotlib or ipywidgets."""
    if name in COURSE:
        return importlib.import_module(f"labkit.course.{name}")
    raise AttributeError(f"module 'labkit' has no attribute {name!r}")

__all__ = [
    "RULES",
    "SQL",
    "AddColumn",
    "AddConstraint",
    "AppVersion",
    "Backfill",
    "ChangeTypeInPlace",
    "ColumnExistsError",
    "ColumnNotFoundError",
    "ConnectionLostError",
    "CreateIndex",
    "Database",
    "DatabaseUnavailableError",
    "DbTable",
    "DropColumn",
    "DropConstraint",
    "DropIndex",
    "DropNotNull",
    "Event",
    "FailedError",
    "Finding",
    "InjectedFault",
    "InvalidBatchSizeError",
    "InvalidFaultError",
    "InvalidNameError",
    "InvalidPlanError",
    "IrreversibleStepError",
    "LabkitError",
    "MigrationLockedError",
    "MigrationPlan",
    "MigrationResult",
    "MigrationRunner",
    "NotNullViolationError",
    "NothingToResumeError",
    "PlanAlreadyExecutedError",
    "PlanFileError",
    "PlanMismatchError",
    "PreflightError",
    "RefusedError",
    "RenameColumnInPlace",
    "RenameInView",
    "RowNotFoundError",
    "SameNameError",
    "SetColumnComment",
    "SetDefault",
    "SetNotNull",
    "StartDualWrite",
    "Step",
    "StepDoesNotFitError",
    "StopDualWrite",
    "SwitchReads",
    "Table",
    "TableNotFoundError",
    "TerminalProgress",
    "Throttle",
    "ValidateConstraint",
    "build_add_column_migration",
    "build_add_foreign_key_migration",
    "build_add_index_migration",
    "build_change_type_migration",
    "build_comment_migration",
    "build_naive_rename_migration",
    "build_rename_column_migration",
    "build_set_not_null_migration",
    "connect",
    "embedded_postgres",
    "load_plan",
    "plan_sql",
    "save_plan",
    "validate_migration_safety",
]
