"""Live progress while a migration runs: the step, the batch, the rows done and an ETA.

Observers for ``MigrationRunner(observers=[...])`` (and ``run_scenario`` / ``simulate_traffic``): they read the
runner's events and draw; the core knows nothing of them. ``progress_bar()`` picks the right one for where the code
runs: an ipywidgets bar in Jupyter (``labkit.course.widgets.NotebookProgress``), a one-line bar on a terminal.

While the run goes on, the line shows timings (rate, ETA). When it ends, it is replaced by a compact final line with
no timings, so a notebook that stores its outputs stores the same thing every run.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from .runner import Event

ENDS = {
    "completed": "completed",
    "rolled_back": "rolled back",
    "rollback_failed": "ROLLBACK FAILED",
    "stopped": "stopped",  # on request (Ctrl-C, or before the contract phase): resumable
}


@dataclass
class ProgressState:
    """What a progress bar shows, kept from the runner's events. ``clock`` is injectable for tests."""

    clock: Callable[[], float] = time.monotonic
    step: str = ""
    phase: str = ""
    batch: int = 0
    batches: int = 0
    rows: int = 0  # rows written by the current step's batches
    total_rows: int = 0  # rows written by every batch of the run
    plan_pct: float = 0.0
    undoing: bool = False
    ended: str = ""  # "completed", "rolled back" or "ROLLBACK FAILED" once the run is over
    batch_rows: int = 0  # the last batch: its rows and how long it took (a batch sized by time changes size)
    batch_ms: float | None = None
    throttled: str = ""  # why the backfill waited after the last batch ("" once the next batch ran)
    _step_started: float = 0.0

    def update(self, event: Event) -> None:
        self.plan_pct = event.plan_progress
        if event.kind in ENDS:
            self.ended = ENDS[event.kind]
            return
        if event.kind == "rollback_start":  # (a "fail" may end in a stop, undoing nothing: on_failure="stop")
            self.undoing = True
        if event.step and event.step != self.step:
            self.step, self.phase = event.step, event.phase or ""
            self.batch = self.batches = self.rows = 0
            self._step_started = self.clock()
        if event.kind == "start":
            self._step_started = self.clock()
        if event.kind == "batch" and event.batch is not None:
            self.batch, self.batches = event.batch, event.batches or self.batches
            self.rows += event.rows or 0
            self.total_rows += event.rows or 0
            self.batch_rows, self.batch_ms, self.throttled = event.rows or 0, event.ms, ""
        if event.kind == "throttle":
            self.throttled = event.detail

    def eta_s(self) -> float | None:
        """Seconds left in the current batched step, from its pace so far (None before its first batch)."""
        if self.undoing or not self.batch or not self.batches or self.batch >= self.batches:
            return None
        elapsed = self.clock() - self._step_started
        return elapsed / self.batch * (self.batches - self.batch)

    def line(self) -> str:
        """The live line: where the run is now, with an ETA."""
        if self.ended:
            return self.final_line()
        where = f"{self.step} ({self.phase})" if self.phase else self.step or "starting"
        if self.undoing:
            where = f"rolling back: {where}"
        parts = [where]
        if self.batches:
            parts.append(f"batch {self.batch}/{self.batches}, {self.rows:,} rows")
            if self.batch_ms is not None:
                parts.append(f"last {self.batch_rows:,} rows in {self.batch_ms:,.0f} ms")
        if self.throttled:
            parts.append(f"throttled: {self.throttled}")
        eta = self.eta_s()
        if eta is not None:
            parts.append(f"ETA {eta:.0f} s" if eta >= 1 else "ETA <1 s")
        return " · ".join(parts)

    def final_line(self) -> str:
        """The compact line left behind: the outcome and the rows written, no timings."""
        ended = self.ended or "stopped"
        if not self.total_rows:
            return ended
        if ended == "completed":
            return f"completed, {self.total_rows:,} rows backfilled"
        return f"{ended} after {self.total_rows:,} rows backfilled"


class TerminalProgress:
    """A one-line bar redrawn in place on a terminal (``\\r``); silent when ``stream`` is not a terminal."""

    def __init__(self, stream: TextIO | None = None, *, width: int = 24, clock: Callable[[], float] = time.monotonic):
        self.stream = stream if stream is not None else sys.stderr
        self.state = ProgressState(clock=clock)
        self.width = width
        self._shown = 0  # length of the line on screen, to blank what a shorter line leaves

    def on_tick(self, event: Event, apps: dict[str, float]) -> None:
        if not self.stream.isatty():
            return
        self.state.update(event)
        filled = round(self.width * self.state.plan_pct / 100)
        text = f"[{'#' * filled}{'.' * (self.width - filled)}] {self.state.plan_pct:5.1f}% {self.state.line()}"
        self.stream.write("\r" + text.ljust(self._shown))
        self._shown = len(text)
        if self.state.ended:
            self.stream.write("\n")
            self._shown = 0
        self.stream.flush()
