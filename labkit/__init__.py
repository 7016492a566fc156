"""labkit: zero-downtime schema migrations, expand -> migrate -> contract, on a table you can watch."""

import logging

from . import exercises
from ._common import SQL
from .apps import AppVersion
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
from .data import EMAIL_DOMAIN_SQL, email_domain, make_orders, make_products, make_users, split_name
from .db import Database, DbTable
from .engine import connect
from .errors import (
    ColumnExistsError,
    ColumnNotFoundError,
    ConnectionLostError,
    DatabaseUnavailableError,
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
    RowNotFoundError,
    SameNameError,
    StepDoesNotFitError,
    TableNotFoundError,
)
from .notebook import notebook_setup
from .observe import SnapshotRecorder
from .plan import MigrationPlan
from .plan_sql import PlanSql, SqlUnit, plan_sql, plan_sql_on_engines
from .planfile import load_plan, save_plan
from .progress import TerminalProgress, progress_bar
from .runner import Event, MigrationResult, MigrationRunner
from .safety import RULES, Finding
from .servers import embedded_postgres, postgres_url
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
from .traffic import TrafficReport, TrafficSimulator, simulate_traffic
from .validate import validate_migration_safety

__version__ = "0.1.0"

# A library logs; the application decides where logs go (no "No handler" noise on stderr by default).
logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "EMAIL_DOMAIN_SQL",
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
    "PlanSql",
    "PreflightError",
    "RenameColumnInPlace",
    "RowNotFoundError",
    "SameNameError",
    "SetColumnComment",
    "SetDefault",
    "SetNotNull",
    "SnapshotRecorder",
    "SqlUnit",
    "StartDualWrite",
    "Step",
    "StepDoesNotFitError",
    "StopDualWrite",
    "SwitchReads",
    "Table",
    "TableNotFoundError",
    "TerminalProgress",
    "TrafficReport",
    "TrafficSimulator",
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
    "email_domain",
    "embedded_postgres",
    "exercises",
    "load_plan",
    "make_orders",
    "make_products",
    "make_users",
    "notebook_setup",
    "plan_sql",
    "plan_sql_on_engines",
    "postgres_url",
    "progress_bar",
    "save_plan",
    "simulate_traffic",
    "split_name",
    "validate_migration_safety",
]
