"""ipywidgets panels. Each is a plain class: tests set ``.value`` and call ``.click()``, no browser needed."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as w

from ..builders import build_add_column_migration, build_naive_rename_migration, build_rename_column_migration
from ..errors import InvalidArgumentError, LabkitError
from ..plan import MigrationPlan
from ..progress import ProgressState
from ..runner import Event
from ..table import Table, TableSnapshot
from . import plots, views
from .data import email_domain, make_users
from .traffic import TrafficReport, simulate_traffic


class _ProgressBox(w.HBox):  # type: ignore[misc]  # ipywidgets ships no annotations
    """An HBox whose plain-text form is one fixed line (nbval compares it; the default repr lists the values)."""

    def __repr__(self) -> str:
        return "<migration progress bar>"


class NotebookProgress:
    """An ipywidgets bar and its line, updated as the runner works (at most every ``every_s`` seconds).

    ``show()`` displays it in the cell's output; the failure panel embeds ``widget`` instead. The displayed
    output's plain-text form never changes, and the final line carries no timings: stored outputs are stable.
    """

    def __init__(self, *, every_s: float = 0.1, clock: Callable[[], float] = time.monotonic) -> None:
        self.state = ProgressState(clock=clock)
        self.every_s = every_s
        self.clock = clock
        self.bar = w.FloatProgress(value=0.0, min=0.0, max=100.0, description="migration")
        self.label = w.Label(value="")
        self.widget = _ProgressBox([self.bar, self.label])
        self._drawn_at: float | None = None
        self._drawn_step = ""

    def reset(self) -> None:
        self.state = ProgressState(clock=self.clock)
        self.bar.value, self.bar.bar_style, self.label.value = 0.0, "", ""
        self._drawn_at, self._drawn_step = None, ""

    def show(self) -> NotebookProgress:
        from IPython.display import display

        display(self.widget)  # type: ignore[no-untyped-call]  # IPython ships no annotations for display()
        return self

    def on_tick(self, event: Event, apps: dict[str, float]) -> None:
        self.state.update(event)
        now = self.clock()
        due = self._drawn_at is None or now - self._drawn_at >= self.every_s
        if not (due or self.state.ended or self.state.step != self._drawn_step):
            return  # a widget update is a message to the browser: a few per second are enough to watch
        self._drawn_at, self._drawn_step = now, self.state.step
        self.bar.value = self.state.plan_pct
        self.label.value = self.state.line()
        if self.state.ended:
            self.bar.bar_style = {"completed": "success", "rolled back": "warning"}.get(self.state.ended, "danger")


NO_FAILURE = "(no failure)"
NO_ROLLBACK_FAILURE = "(undo succeeds)"
PlanBuilder = Callable[[Table], MigrationPlan]


def default_plans(batch_size: int = 10) -> dict[str, PlanBuilder]:
    """The course's plans, by the name the panel shows."""
    return {
        "rename name -> full_name": lambda t: build_rename_column_migration(
            t, "name", "full_name", batch_size=batch_size
        ),
        "add email_domain": lambda t: build_add_column_migration(
            t, "email_domain", backfill=email_domain, source="email", batch_size=batch_size
        ),
        "naive rename": lambda t: build_naive_rename_migration(t, "name", "full_name"),
    }


class FailurePanel:
    """Pick a plan, a failure point (step and batch) and optionally a failing undo; run it under traffic.

    Attributes after ``run()``: ``last_report`` (a ``TrafficReport``), ``last_table``, ``last_before``
    (the starting snapshot), ``last_plan`` and ``last_error`` (a refused ``fail_at``).
    """

    def __init__(
        self,
        plans: Mapping[str, PlanBuilder] | None = None,
        *,
        make_table: Callable[[], Table] | None = None,
        seed: int = 0,
        requests_per_tick: int = 10,
        on_result: Callable[[FailurePanel], None] | None = None,
    ) -> None:
        self.plans = dict(plans or default_plans())
        if not self.plans:
            raise InvalidArgumentError("give at least one plan")
        self.make_table = make_table or (lambda: make_users(40, seed=seed))
        self.seed = seed
        self.requests_per_tick = requests_per_tick
        self.on_result = on_result
        self.plan = w.Dropdown(options=list(self.plans), description="plan")
        self.step = w.Dropdown(options=[NO_FAILURE], description="fail at")
        self.batch = w.BoundedIntText(value=0, min=0, max=0, description="batch", disabled=True)
        self.undo_failure = w.Dropdown(options=[NO_ROLLBACK_FAILURE], description="fail undo")
        self.run_button = w.Button(description="Run migration", button_style="primary", icon="play")
        self.status = w.HTML(value="<i>Choose a failure point and press Run.</i>")
        self.progress = NotebookProgress()  # live while a run goes on, then its outcome in one line
        self.output = w.Output()
        self.widget = w.VBox(
            [
                w.HBox([self.plan, self.step]),
                w.HBox([self.batch, self.undo_failure]),
                self.run_button,
                self.progress.widget,
                self.status,
                self.output,
            ]
        )
        self.last_report: TrafficReport | None = None
        self.last_table: Table | None = None
        self.last_before: TableSnapshot | None = None
        self.last_plan: MigrationPlan | None = None
        self.last_error: LabkitError | None = None
        self.plan.observe(self._plan_changed, names="value")
        self.step.observe(self._step_changed, names="value")
        self.run_button.on_click(self.run)
        self._plan_changed()

    # -------------------------------------------------------------- keeping the choices consistent
    def _preview(self) -> tuple[Table, MigrationPlan]:
        table = self.make_table()
        return table, self.plans[self.plan.value](table)

    def _plan_changed(self, _change: Any = None) -> None:
        _, plan = self._preview()
        names = [s.name for s in plan.steps]
        self.step.options = [NO_FAILURE, *names]
        self.step.value = NO_FAILURE
        self.undo_failure.options = [NO_ROLLBACK_FAILURE, *names]
        self.undo_failure.value = NO_ROLLBACK_FAILURE
        self._step_changed()

    def _step_changed(self, _change: Any = None) -> None:
        table, plan = self._preview()
        step = next((s for s in plan.steps if s.name == self.step.value), None)
        if step is not None and step.batched:
            self.batch.max = step.batch_count(table.row_count)
            self.batch.disabled = False
        else:
            self.batch.value = 0
            self.batch.max = 0
            self.batch.disabled = True

    def fail_at(self) -> str | None:
        """The ``fail_at`` string the current choices mean (batch 0 = at the start of the step)."""
        if self.step.value == NO_FAILURE:
            forward = None
        elif self.batch.value:
            forward = f"{self.step.value}:{self.batch.value}"
        else:
            forward = self.step.value
        parts = [p for p in (forward,) if p]
        if self.undo_failure.value != NO_ROLLBACK_FAILURE:
            parts.append(f"rollback:{self.undo_failure.value}")
        return ",".join(parts) or None

    # -------------------------------------------------------------- running
    def run(self, _button: Any = None) -> TrafficReport | None:
        table, plan = self._preview()
        before = table.snapshot()
        self.last_error = None
        self.progress.reset()
        try:
            report = simulate_traffic(
                table,
                plan,
                seed=self.seed,
                fail_at=self.fail_at(),
                requests_per_tick=self.requests_per_tick,
                observers=[self.progress],
            )
        except LabkitError as exc:  # a refused fail_at: nothing ran, say why
            self.last_error = exc
            self.last_report = None
            self.status.value = f"<b style='color:#c0392b'>Refused, nothing changed:</b> {exc}"
            return None
        self.last_report, self.last_table, self.last_before, self.last_plan = report, table, before, plan
        self.status.value = self.describe()
        if self.on_result is not None:
            with self.output:
                self.output.clear_output(wait=True)
                self.on_result(self)
        return report

    def describe(self) -> str:
        """The outcome in one short HTML paragraph."""
        r = self.last_report
        if r is None:
            return ""
        res = r.result
        colour = {"completed": "#2e7d32", "rolled_back": "#b26a00", "stopped": "#b26a00"}.get(res.status, "#c0392b")
        text = f"<b style='color:{colour}'>{res.status}</b> &mdash; {r.requests} requests, "
        text += f"{r.failed_requests} failed, {r.lost_writes} lost writes. "
        if r.runner is not None:  # the run state lives with the runner: how much of the plan is applied now
            text += f"Plan {r.runner.progress_pct():.0f}% applied, complete: {r.runner.is_complete()}. "
        if res.status != "completed":
            where = (res.failed_step or "plan") + (f" batch {res.failed_batch}" if res.failed_batch else "")
            text += f"Failed at <code>{where}</code>. "
        if res.status == "rollback_failed":
            text += f"Still applied, for a human: <code>{', '.join(res.left_behind)}</code>."
        return text

    def static_text(self) -> str:
        """The panel as text: what a page that cannot draw widgets (GitHub, an untrusted notebook) shows."""
        return "\n".join(
            [
                "Failure panel (run this cell in Jupyter to use it)",
                f"  plan:      {self.plan.value}  (choices: {'; '.join(self.plans)})",
                f"  fail at:   {self.step.value}, batch {self.batch.value}",
                f"  fail undo: {self.undo_failure.value}",
                "  [Run migration]",
            ]
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        if bundle:  # ipywidgets gives None where no kernel front end can draw a widget
            bundle["text/plain"] = self.static_text()  # instead of the VBox(children=(HBox(... repr
        return bundle


def show_result(panel: FailurePanel) -> None:
    """What the notebook panel shows after a run: the outcome, the rows against the start, the timeline."""
    from IPython.display import Image, display


    report, table, before, plan = panel.last_report, panel.last_table, panel.last_before, panel.last_plan
    if report is None or table is None or before is None or plan is None:
        return
    print(f"columns at the start: {', '.join(before.column_names)}")
    print(f"columns now:          {', '.join(table.column_names)}")
    display(  # type: ignore[no-untyped-call]  # IPython ships no annotations for display()
        views.rows_view(table, before=before, limit=6, caption="rows now (yellow: changed since the start)")
    )
    # a Figure of its own, rendered to PNG here and displayed once finished: never pyplot's global state inside a
    # widget callback (JupyterLab's kernel subshell lets the inline backend render a half-drawn pyplot figure)
    figure = plots.timeline_figure(report.result.history, title=f"{plan.name}: {report.result.status}")
    display(Image(data=plots.png(figure)))  # type: ignore[no-untyped-call]  # IPython ships no annotations


def failure_panel(plans: Mapping[str, PlanBuilder] | None = None, *, show: bool = True, **kwargs: Any) -> FailurePanel:
    """The failure-injection panel the notebooks show; see ``FailurePanel``.

    With ``show`` (the default) each run displays its outcome, rows and timeline below the controls.
    """
    if show:
        kwargs.setdefault("on_result", show_result)
    return FailurePanel(plans, **kwargs)
