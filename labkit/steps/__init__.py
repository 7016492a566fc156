"""Migration steps: frozen dataclasses, one operation per file."""

from .add_column import AddColumn
from .backfill import Backfill, UndoBackfill
from .base import PHASES, Phase, Step
from .drop_column import DropColumn
from .dual_write import StartDualWrite, StopDualWrite
from .rename_in_place import RenameColumnInPlace
from .switch_reads import SwitchReads

__all__ = [
    "PHASES",
    "AddColumn",
    "Backfill",
    "DropColumn",
    "Phase",
    "RenameColumnInPlace",
    "StartDualWrite",
    "Step",
    "StopDualWrite",
    "SwitchReads",
    "UndoBackfill",
]
