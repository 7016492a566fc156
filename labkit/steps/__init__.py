"""Migration steps: frozen dataclasses, one operation per file."""

from .add_column import AddColumn
from .add_constraint import AddConstraint, DropConstraint
from .backfill import Backfill, UndoBackfill
from .base import PHASES, Phase, Step
from .change_type_in_place import ChangeTypeInPlace
from .column_settings import SetColumnSettings
from .comment_on import CommentOn
from .create_index import CreateIndex, DropIndex
from .create_statistics import CreateStatistics
from .drop_column import DropColumn
from .dual_write import StartDualWrite, StopDualWrite
from .fix_rows import DropGuard, DropJournals, FixRows, GuardFix, UndoFixRows
from .grant_column import GrantColumn
from .not_null import DropNotNull, SetNotNull
from .rename_in_place import RenameColumnInPlace
from .rename_in_view import RemoveView, RenameInView
from .set_comment import SetColumnComment
from .set_default import SetDefault, SetDefaultAtContract
from .switch_reads import SwitchReads
from .validate_constraint import KeepValidated, ValidateConstraint

__all__ = [
    "PHASES",
    "AddColumn",
    "AddConstraint",
    "Backfill",
    "ChangeTypeInPlace",
    "CommentOn",
    "CreateIndex",
    "CreateStatistics",
    "DropColumn",
    "DropConstraint",
    "DropGuard",
    "DropIndex",
    "DropJournals",
    "DropNotNull",
    "FixRows",
    "GrantColumn",
    "GuardFix",
    "KeepValidated",
    "Phase",
    "RemoveView",
    "RenameColumnInPlace",
    "RenameInView",
    "SetColumnComment",
    "SetColumnSettings",
    "SetDefault",
    "SetDefaultAtContract",
    "SetNotNull",
    "StartDualWrite",
    "Step",
    "StopDualWrite",
    "SwitchReads",
    "UndoBackfill",
    "UndoFixRows",
    "ValidateConstraint",
]
