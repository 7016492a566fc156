"""Live progress: what the bars show while a migration runs, and the final line they leave behind."""

from __future__ import annotations

import io

import pytest

import labkit as lk
from labkit import lab
from labkit.cli import main
from labkit.course.widgets import NotebookProgress, failure_panel
from labkit.progress import ProgressState, TerminalProgress
from labkit.runner import Event


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _event(kind: str, step: str | None = "backfill", batch: int | None = None, **kw) -> Event:
    return Event(tick=1, step=step, batch=batch, kind=kind, progress=0.0, plan_progress=kw.pop("pct", 0.0),
                 phase="migrate" if step else None, **kw)  # fmt: skip


def test_the_line_names_step_batch_rows_and_an_eta_from_the_pace_so_far():
    clock = Clock()
    state = ProgressState(clock=clock)
    state.update(_event("start"))
    assert state.line() == "backfill (migrate)"
    clock.now = 2.0
    state.update(_event("batch", batch=1, batches=5, rows=100))
    clock.now = 4.0
    state.update(_event("batch", batch=2, batches=5, rows=100))
    assert state.line() == "backfill (migrate) · batch 2/5, 200 rows · ETA 6 s"  # 2 s a batch, 3 to go
    state.update(_event("fail", batch=3))
    assert not state.line().startswith("rolling back")  # a failure may end in a stop, undoing nothing
    state.update(_event("rollback_start"))  # what the runner emits when it does undo
    assert state.line().startswith("rolling back: backfill") and "ETA" not in state.line()
    state.update(_event("rolled_back", step=None))
    assert state.line() == state.final_line() == "rolled back after 200 rows backfilled"


def test_a_new_step_starts_its_own_count():
    state = ProgressState(clock=Clock())
    state.update(_event("batch", batch=4, batches=4, rows=10))
    state.update(_event("start", step="switch_reads"))
    assert state.line() == "switch_reads (migrate)" and state.total_rows == 10


def _run(rows: int, fail_at: str | None, observer) -> lk.MigrationResult:
    table = lab.make_users(rows, seed=1)
    plan = lk.build_rename_column_migration(table, "name", "full_name", batch_size=10)
    return lk.MigrationRunner(table, fail_at=fail_at, observers=[observer]).execute_plan(plan)


def test_the_terminal_bar_redraws_one_line_and_ends_with_the_outcome():
    tty = Tty()
    assert _run(100, None, TerminalProgress(tty)).status == "completed"
    out = tty.getvalue()
    assert out.count("\n") == 1 and out.endswith("completed, 100 rows backfilled\n")
    frames = out.split("\r")[1:]
    assert any("batch 5/10, 50 rows" in f for f in frames)
    assert frames[-1].startswith("[########################] 100.0% ")


def test_the_terminal_bar_is_silent_where_nobody_watches():
    quiet = io.StringIO()
    _run(100, None, TerminalProgress(quiet))
    assert quiet.getvalue() == ""


@pytest.mark.parametrize(
    ("fail_at", "final", "style"),
    [(None, "completed, 100 rows backfilled", "success"), ("backfill:4", "rolled back after 30 rows backfilled",
     "warning"), ("backfill:4,rollback:add_column", "ROLLBACK FAILED after 30 rows backfilled", "danger")],
)  # fmt: skip
def test_the_notebook_bar_ends_on_a_line_with_no_timings(fail_at, final, style):
    bar = NotebookProgress()
    _run(100, fail_at, bar)
    assert bar.label.value == final and bar.bar.bar_style == style
    assert repr(bar.widget) == "<migration progress bar>"  # the stored text nbval compares never changes


def test_the_notebook_bar_draws_a_few_times_a_second_not_once_per_event():
    clock = Clock()  # time stands still: only step changes and the end are drawn
    bar = NotebookProgress(clock=clock)
    drawn: list[str] = []
    bar.label.observe(lambda change: drawn.append(change["new"]), names="value")
    result = _run(100, None, bar)
    steps = {e.step for e in result.history if e.step}
    assert len(result.history) > 2 * len(steps) and len(drawn) <= len(steps) + 1
    assert drawn[-1] == "completed, 100 rows backfilled"


def test_the_failure_panel_has_a_bar_that_each_run_starts_afresh():
    panel = failure_panel(show=False)
    panel.step.value = "backfill"
    panel.batch.value = 2
    panel.run()
    assert panel.progress.label.value == "rolled back after 10 rows backfilled"
    panel.step.value = "(no failure)"
    report = panel.run()
    assert report is not None
    written = sum(e.rows or 0 for e in report.result.history if e.kind == "batch")  # 40 rows and the app's inserts
    assert written > 40 and panel.progress.label.value == f"completed, {written} rows backfilled"


def test_the_cli_draws_its_bar_on_a_terminal(monkeypatch, capsys):
    tty = Tty()
    monkeypatch.setattr("sys.stderr", tty)
    assert main(["rename", "--rows", "50", "--batch-size", "10"]) == 0
    assert tty.getvalue().endswith("completed, 50 rows backfilled\n") and "batch 3/5, 30 rows" in tty.getvalue()
