"""labkit: zero-downtime schema migrations, expand -> migrate -> contract, on a table you can watch."""

import logging

from . import exercises
from .apps import AppVersion
from .builders import build_add_column_migration, build_naive_rename_migration, build_rename_column_migration
from .data import email_domain, make_products, make_users, split_name
from .errors import (
    ColumnExistsError,
    ColumnNotFoundError,
    InjectedFault,
    InvalidBatchSizeError,
    InvalidFaultError,
    InvalidNameError,
    InvalidPlanError,
    IrreversibleStepError,
    LabkitError,
    NotNullViolationError,
    PlanAlreadyExecutedError,
    RowNotFoundError,
    SameNameError,
    StepDoesNotFitError,
)
from .notebook import notebook_setup
from .observe import SnapshotRecorder
from .plan import MigrationPlan
from .runner import Event, MigrationResult, MigrationRunner
from .safety import RULES, Finding, validate_migration_safety
from .steps import (
    AddColumn,
    Backfill,
    DropColumn,
    RenameColumnInPlace,
    StartDualWrite,
    Step,
    StopDualWrite,
    SwitchReads,
)
from .table import Table
from .traffic import TrafficReport, TrafficSimulator, simulate_traffic

__version__ = "0.1.0"

# A library logs; the application decides where logs go (no "No handler" noise on stderr by default).
logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "RULES",
    "AddColumn",
    "AppVersion",
    "Backfill",
    "ColumnExistsError",
    "ColumnNotFoundError",
    "DropColumn",
    "Event",
    "Finding",
    "InjectedFault",
    "InvalidBatchSizeError",
    "InvalidFaultError",
    "InvalidNameError",
    "InvalidPlanError",
    "IrreversibleStepError",
    "LabkitError",
    "MigrationPlan",
    "MigrationResult",
    "MigrationRunner",
    "NotNullViolationError",
    "PlanAlreadyExecutedError",
    "RenameColumnInPlace",
    "RowNotFoundError",
    "SameNameError",
    "SnapshotRecorder",
    "StartDualWrite",
    "Step",
    "StepDoesNotFitError",
    "StopDualWrite",
    "SwitchReads",
    "Table",
    "TrafficReport",
    "TrafficSimulator",
    "build_add_column_migration",
    "build_naive_rename_migration",
    "build_rename_column_migration",
    "email_domain",
    "exercises",
    "make_products",
    "make_users",
    "notebook_setup",
    "simulate_traffic",
    "split_name",
    "validate_migration_safety",
]
