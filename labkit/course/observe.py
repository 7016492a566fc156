"""Observers: see the table as it was at any tick of a run (for phase-by-phase views)."""

from __future__ import annotations

from ..runner import Event
from ..table import TableLike, TableSnapshot


class SnapshotRecorder:
    """Pass as ``observers=[recorder]``: keeps a snapshot of the table after each tick.

    Meant for the small tables of the course; a snapshot copies the whole table.
    """

    def __init__(self, table: TableLike) -> None:
        self.table = table
        self.events: list[Event] = []
        self.snapshots: list[TableSnapshot] = []

    def on_tick(self, event: Event, apps: dict[str, float]) -> None:
        self.events.append(event)
        self.snapshots.append(self.table.snapshot())

    def after(self, step: str, *, batch: int | None = None, kind: str | None = None) -> TableSnapshot:
        """The table right after ``step`` completed (or after its batch ``batch``, or its event ``kind``)."""
        wanted = kind or ("batch" if batch is not None else "complete")
        for event, snap in zip(self.events, self.snapshots):
            if event.step == step and event.kind == wanted and (batch is None or event.batch == batch):
                return snap
        seen = sorted({e.step for e in self.events if e.step})
        raise KeyError(
            f"no {wanted!r} event for step {step!r}" + (f" batch {batch}" if batch else "") + f"; steps seen: {seen}"
        )

    def at_tick(self, tick: int) -> TableSnapshot:
        return self.snapshots[tick - 1]
