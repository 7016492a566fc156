"""nbval never compares images: these tests check the data behind each plot, and that it draws."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt

import labkit as lk
from labkit import lab, plots
from tests.conftest import rename_plan


def _failed_run():
    t = lab.make_users(20)
    runner = lk.MigrationRunner(t, fail_at="backfill:3")
    runner.execute_plan(rename_plan(t))
    return runner.history


def test_progress_data_rises_then_falls_back_on_rollback():
    data = plots.progress_data(_failed_run())
    assert list(data.columns) == ["add_column", "start_dual_write", "backfill"]
    assert data["backfill"].max() == 50.0  # two of four batches
    assert data["backfill"].iloc[-1] == 0.0 and data["add_column"].iloc[-1] == 0.0


def test_phase_spans_cover_expand_migrate_then_rollback():
    spans = plots.phase_spans(_failed_run())
    assert [p for p, *_ in spans] == ["expand", "migrate", "rollback"]
    assert spans[0][1] == 1
    assert all(a[2] + 1 == b[1] for a, b in itertools.pairwise(spans))


def test_timeline_data_records_the_undo_of_each_started_step():
    data = plots.timeline_data(_failed_run())
    assert list(data.index) == ["add_column", "start_dual_write", "backfill"]
    assert data["undo_start"].notna().all()
    assert (data["undo_start"] > data["end"]).all()


def test_failed_requests_data_aligns_runs_of_different_length():
    t1, t2 = lab.make_users(20), lab.make_users(20)
    naive = lab.simulate_traffic(t1, lk.build_naive_rename_migration(t1, "name", "full_name"))
    safe = lab.simulate_traffic(t2, rename_plan(t2))
    data = plots.failed_requests_data({"naive": naive, "expand/contract": safe})
    assert data["naive"].sum() == naive.failed_requests > 0
    assert data["expand/contract"].sum() == 0
    assert len(data) == max(len(naive.ticks), len(safe.ticks))


def test_every_plot_has_a_title_labelled_axes_and_a_legend():
    history = _failed_run()
    t1 = lab.make_users(10)
    naive = lab.simulate_traffic(t1, lk.build_naive_rename_migration(t1, "name", "full_name"))
    for ax in (
        plots.plot_progress(history),
        plots.plot_timeline(history),
        plots.plot_failed_requests({"naive": naive}),
    ):
        assert ax.get_title() and "ticks" in ax.get_xlabel() and ax.get_ylabel()
        assert ax.get_legend() is not None
    plt.close("all")


def test_progress_lines_that_coincide_stay_visible():
    t = lab.make_users(20)
    runner = lk.MigrationRunner(t)
    runner.execute_plan(rename_plan(t))
    ax = plots.plot_progress(runner.history)
    widths = [line.get_linewidth() for line in ax.get_lines()]
    assert len(widths) == 6 and widths == sorted(widths, reverse=True) and widths[-1] < widths[0] / 2
    plt.close(ax.figure)


def test_the_standby_lag_plot_has_one_line_per_run_from_its_samples():
    from labkit import plots

    lags = {"one UPDATE": [(0.0, 0.0), (0.1, 12.5), (0.2, 3.0)], "labkit": [(0.0, 0.0), (0.5, 0.8)]}
    data = plots.lag_data(lags)
    assert list(data.columns) == ["run", "seconds", "behind_mb"] and len(data) == 5
    assert data.groupby("run", sort=False)["behind_mb"].max().to_dict() == {"one UPDATE": 12.5, "labkit": 0.8}
    ax = plots.plot_standby_lag(lags, limit_mb=1)
    assert [line.get_label() for line in ax.get_lines()] == ["one UPDATE", "labkit", "throttle limit (1 MB)"]
    import matplotlib.pyplot as plt

    plt.close(ax.figure)
