"""matplotlib plots of a run: progress per step, the timeline with failure and rollback, failed requests.

Each plot has a ``*_data`` function returning the numbers it draws, so tests can check them without images.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..errors import InvalidArgumentError
from ..runner import ROLLBACK_KINDS, Event
from .traffic import TrafficReport

if TYPE_CHECKING:
    from .scenarios import ScenarioResult

PHASE_COLORS = {"expand": "#d8ecff", "migrate": "#fff0c8", "contract": "#e6f5e0", "rollback": "#fde0e0"}


def progress_data(history: Sequence[Event]) -> pd.DataFrame:
    """Progress (percent) of each step at each tick: a tick x step table, steps in plan order."""
    steps: list[str] = []
    for e in history:
        if e.step and e.step not in steps:
            steps.append(e.step)
    current = dict.fromkeys(steps, 0.0)
    rows = []
    for e in history:
        if e.step:
            current[e.step] = e.progress
        rows.append({"tick": e.tick, **current})
    frame: pd.DataFrame = pd.DataFrame(rows, columns=["tick", *steps]).set_index("tick")
    return frame


def phase_spans(history: Sequence[Event]) -> list[tuple[str, int, int]]:
    """Contiguous tick ranges ``(phase, first, last)``; ticks of a rollback are phase ``"rollback"``."""
    spans: list[tuple[str, int, int]] = []
    for e in history:
        phase = "rollback" if e.kind in ROLLBACK_KINDS else e.phase
        if phase is None:
            continue
        if spans and spans[-1][0] == phase and spans[-1][2] == e.tick - 1:
            spans[-1] = (phase, spans[-1][1], e.tick)
        else:
            spans.append((phase, e.tick, e.tick))
    return spans


def failure_ticks(history: Sequence[Event]) -> list[int]:
    return [e.tick for e in history if e.kind in ("fail", "rollback_failed")]


def _root(ax: Axes) -> Figure:
    fig = ax.get_figure(root=True)
    if not isinstance(fig, Figure):
        raise InvalidArgumentError("the axes belong to no figure")
    return fig


def _tight(ax: Axes) -> None:
    """Lay out the figure ``ax`` is drawn in (its root figure: an Axes may sit in a subfigure)."""
    _root(ax).tight_layout()


def _shade(ax: Axes, history: Sequence[Event]) -> None:
    seen = set()
    for phase, first, last in phase_spans(history):
        label = phase if phase not in seen else None
        seen.add(phase)
        ax.axvspan(first - 0.5, last + 0.5, color=PHASE_COLORS[phase], alpha=0.9, zorder=0, label=label)
    for i, t in enumerate(failure_ticks(history)):
        ax.axvline(t, color="#c0392b", linestyle="--", linewidth=1.5, label="failure" if i == 0 else None)


def plot_progress(history: Sequence[Event], *, title: str = "Progress of each step", ax: Axes | None = None) -> Axes:
    """One line per step: its progress over ticks, phases shaded, failures marked."""
    data = progress_data(history)
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4))
    _shade(ax, history)
    # steps often share a value (0 % before they start, 100 % once done): each is drawn thinner than the one before,
    # on top of it, so where lines coincide every one of them still shows as a band of its colour
    n = len(data.columns)
    for i, step in enumerate(data.columns):
        width = 7.0 - 5.5 * i / max(n - 1, 1)
        ax.step(data.index, data[step], where="post", label=step, linewidth=width, solid_capstyle="butt")
    ax.set(title=title, xlabel="time (ticks)", ylabel="step progress (%)", ylim=(-5, 105))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    _tight(ax)
    return ax


def timeline_data(history: Sequence[Event]) -> pd.DataFrame:
    """Per step: first and last tick forward, first and last tick of its undo (NaN if never undone)."""
    rows: dict[str, dict[str, float]] = {}
    for e in history:
        if not e.step:
            continue
        r = rows.setdefault(
            e.step, {"start": e.tick, "end": e.tick, "undo_start": float("nan"), "undo_end": float("nan")}
        )
        if e.kind in ROLLBACK_KINDS:
            if r["undo_start"] != r["undo_start"]:  # NaN
                r["undo_start"] = e.tick
            r["undo_end"] = e.tick
        else:
            r["end"] = e.tick
    frame: pd.DataFrame = pd.DataFrame.from_dict(rows, orient="index")
    return frame


def _timeline_size(history: Sequence[Event]) -> tuple[float, float]:
    return (9, 0.5 * max(len(timeline_data(history)), 3) + 1.5)


def timeline_figure(history: Sequence[Event], *, title: str = "Timeline of the run") -> Figure:
    """``plot_timeline`` on a figure of its own, outside pyplot: for a widget callback to ``display()`` once it is
    finished. (pyplot's figures belong to the inline backend, which in JupyterLab may render and close one while
    a callback is still drawing it: the learner then sees half a plot.)"""
    fig = Figure(figsize=_timeline_size(history))
    plot_timeline(history, title=title, ax=fig.add_subplot())
    return fig


def png(figure: Figure) -> bytes:
    """The finished figure as PNG bytes (what the inline backend would send, at its resolution)."""
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=72, bbox_inches="tight")
    return buffer.getvalue()


def plot_timeline(history: Sequence[Event], *, title: str = "Timeline of the run", ax: Axes | None = None) -> Axes:
    """A bar per step: when it ran (by phase colour) and when it was undone (red), failures marked."""
    data = timeline_data(history)
    phases = {e.step: e.phase for e in history if e.step}
    if ax is None:
        _, ax = plt.subplots(figsize=_timeline_size(history))
    y = range(len(data))[::-1]
    colors = {"expand": "#3b82c4", "migrate": "#e0a526", "contract": "#4c9a52"}
    seen = set()
    for yi, (step, r) in zip(y, data.iterrows()):
        phase = phases.get(str(step)) or "migrate"
        ax.barh(
            yi,
            r["end"] - r["start"] + 1,
            left=r["start"] - 0.5,
            color=colors[phase],
            height=0.6,
            label=phase if phase not in seen else None,
        )
        seen.add(phase)
        if r["undo_start"] == r["undo_start"]:
            ax.barh(
                yi,
                r["undo_end"] - r["undo_start"] + 1,
                left=r["undo_start"] - 0.5,
                color="#c0392b",
                height=0.6,
                hatch="//",
                label="undo" if "undo" not in seen else None,
            )
            seen.add("undo")
    for i, t in enumerate(failure_ticks(history)):
        ax.axvline(t, color="#c0392b", linestyle="--", linewidth=1.5, label="failure" if i == 0 else None)
    ax.set_yticks(list(y), list(data.index))
    ax.set(title=title, xlabel="time (ticks)", ylabel="step")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    _tight(ax)
    return ax


def failed_requests_data(reports: Mapping[str, TrafficReport]) -> pd.DataFrame:
    """Failed requests per tick for each run, aligned on the tick (a run that ended early counts 0)."""
    series = {
        label: pd.Series({t.tick: t.failed_requests for t in r.ticks}, dtype="int64") for label, r in reports.items()
    }
    frame: pd.DataFrame = pd.DataFrame(series).fillna(0).astype("int64").rename_axis("tick")
    return frame


def plot_failed_requests(
    reports: Mapping[str, TrafficReport], *, title: str = "Failed requests per tick", ax: Axes | None = None
) -> Axes:
    """Failed requests per tick for several runs side by side (e.g. naive vs expand/contract)."""
    data = failed_requests_data(reports)
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.5))
    for i, label in enumerate(data.columns):
        total = int(data[label].sum())
        color = f"C{i}"
        ax.step(data.index, data[label], where="mid", color=color, linewidth=2, label=f"{label} ({total} failed)")
        ax.fill_between(data.index, data[label], step="mid", color=color, alpha=0.25)
    ax.set(title=title, xlabel="time (ticks)", ylabel="failed requests (per tick)")
    ax.set_ylim(bottom=0, top=max(1, int(data.to_numpy().max()) + 1))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="upper right", fontsize=9)
    _tight(ax)
    return ax


def app_versions_data(history: Sequence[Event]) -> pd.DataFrame:
    """Share of traffic (0-1) served by each app version at each tick."""
    names: list[str] = []
    for e in history:
        for name, _ in e.apps:
            if name not in names:
                names.append(name)
    rows = [{"tick": e.tick, **{n: dict(e.apps).get(n, 0.0) for n in names}} for e in history]
    frame: pd.DataFrame = pd.DataFrame(rows, columns=["tick", *names]).set_index("tick")
    return frame


def plot_app_versions(
    history: Sequence[Event], *, title: str = "Which app version serves the traffic", ax: Axes | None = None
) -> Axes:
    """Stacked shares of traffic per app version over ticks, phases shaded: the rollouts made visible."""
    data = app_versions_data(history)
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 2.8))
    ax.stackplot(data.index, *(data[c] * 100 for c in data.columns), labels=list(data.columns), alpha=0.85, step="post")
    seen = set()
    for phase, first, last in phase_spans(history):  # phases as a strip above the shares
        ax.axvspan(first - 0.5, last + 0.5, ymin=100 / 112, ymax=1, color=PHASE_COLORS[phase],
                   label=phase if phase not in seen else None)  # fmt: skip
        seen.add(phase)
    ax.set(title=title, xlabel="time (ticks)", ylabel="share of requests (%)", ylim=(0, 112))
    ax.set_yticks([0, 25, 50, 75, 100])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    _tight(ax)
    return ax


def lag_data(lags: Mapping[str, Sequence[tuple[float, float]]]) -> pd.DataFrame:
    """One row per sample: which run, seconds since it began, MB of WAL the standby had not replayed."""
    rows = [(name, t, mb) for name, samples in lags.items() for t, mb in samples]
    frame: pd.DataFrame = pd.DataFrame(rows, columns=["run", "seconds", "behind_mb"])
    return frame


def plot_standby_lag(
    lags: Mapping[str, Sequence[tuple[float, float]]],
    *,
    limit_mb: float | None = None,
    title: str = "How far the standby fell behind",
    ax: Axes | None = None,
) -> Axes:
    """The standby's lag over each run, one line each, and the throttle's limit."""
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.2))
    data = lag_data(lags)
    for name, part in data.groupby("run", sort=False):
        ax.plot(part["seconds"], part["behind_mb"], label=str(name))
    if limit_mb is not None:
        ax.axhline(limit_mb, color="#c0392b", linestyle="--", linewidth=1, label=f"throttle limit ({limit_mb:g} MB)")
    ax.set(title=title, xlabel="time since the backfill began (s)", ylabel="WAL not replayed (MB)")
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    _tight(ax)
    return ax


def latency_data(result: ScenarioResult) -> pd.DataFrame:
    """Each request of a ``ScenarioResult``: start (s), latency (ms), ok, phase."""
    frame: pd.DataFrame = result.requests[["start", "latency", "ok", "phase"]].copy()
    frame["latency_ms"] = frame.pop("latency") * 1000
    return frame


def plot_latency(
    results: Mapping[str, ScenarioResult],
    *,
    title: str = "App latency while the schema changes",
    axes: Sequence[Axes] | None = None,
) -> Sequence[Axes]:
    """One panel per scenario: every request's latency over time (failed ones in red), phases shaded."""
    n = len(results)
    if axes is None:
        _, grid = plt.subplots(n, 1, figsize=(9, 2.4 * n + 0.6), sharex=False, squeeze=False)
        axes = list(grid[:, 0])
    for ax, (label, result) in zip(axes, results.items()):
        data = latency_data(result)
        for phase, color in PHASE_COLORS.items():
            span = data[data["phase"] == phase]["start"]
            if len(span):
                ax.axvspan(span.min(), span.max(), color=color, zorder=0, label=phase)
        ok = data[data["ok"]]
        bad = data[~data["ok"]]
        ax.scatter(ok["start"], ok["latency_ms"], s=4, color="#1f77b4", label="request", zorder=2)
        if len(bad):
            ax.scatter(bad["start"], bad["latency_ms"], s=10, color="#c0392b", marker="x", label="failed", zorder=3)
        ax.set_yscale("log")
        ax.set(title=f"{label}: {len(bad)} failed of {len(data)}", xlabel="time (s)", ylabel="latency (ms)")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    _root(axes[0]).suptitle(title)
    _tight(axes[0])
    return axes
