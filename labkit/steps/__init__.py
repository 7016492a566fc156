"""Migration steps: frozen dataclasses, one operation per file."""

from .add_column import AddColumn
from .backfill import Backfill, UndoBackfill
from .base import PHASES, Phase, Step
from .drop_column import DropColumn
from .dual_write import StartDualWrite, StopDualWrite
from .rename_in_place import RenameColumnInPlace
from .rename_in_view import RemoveView, RenameInView
from .set_comment import SetColumnComment
from .switch_reads import SwitchReads

__all__ = [
    "PHASES",
    "AddColumn",
    "Backfill",
    "DropColumn",
    "Phase",
    "RemoveView",
    "RenameColumnInPlace",
    "RenameInView",
    "SetColumnComment",
    "StartDualWrite",
    "Step",
    "StopDualWrite",
    "SwitchReads",
    "UndoBackfill",
]
