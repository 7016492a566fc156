"""The scenario runner on a real database: requests recorded with their phase, and the figures behind the plots."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

import labkit as lk
from labkit import lab, plots
from labkit.course.scenarios import run_scenario

FAST = {"rows": 300, "rollout_ticks": 3, "dwell": 0.05, "warmup": 0.1, "cooldown": 0.1}


@pytest.fixture(scope="module")
def renames(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('scen')}/lab.db"
    naive = run_scenario(
        url, lambda t: lk.build_naive_rename_migration(t, "name", "full_name"), name="naive", use_views=False, **FAST
    )
    safe = run_scenario(
        url, lambda t: lk.build_rename_column_migration(t, "name", "full_name", batch_size=50), name="safe", **FAST
    )
    return naive, safe


def test_the_naive_rename_fails_requests_of_v1_only_and_expand_contract_fails_none(renames):
    naive, safe = renames
    assert naive.failed_requests > 0
    failed = naive.requests[~naive.requests.ok]
    assert set(failed["version"]) == {"v1"}
    assert failed["error"].str.contains("name").all()
    assert (safe.failed_requests, safe.lost_writes) == (0, 0)
    assert safe.result.ok and naive.result.ok


def test_requests_are_labelled_with_the_phase_they_started_in(renames):
    _, safe = renames
    phases = list(safe.stats().index)
    assert phases[0] == "before" and phases[-1] == "after"
    assert {"migrate", "contract"} <= set(phases)  # expand (one ADD COLUMN) may be too short to catch a request
    assert safe.stats()["requests"].sum() == len(safe.requests)
    first_event = safe.events["time"].min()
    before = safe.requests[safe.requests["phase"] == "before"]
    assert (before["start"] <= first_event).all()


def test_latency_plot_has_a_panel_per_scenario_with_labels(renames):
    naive, safe = renames
    data = plots.latency_data(naive)
    assert list(data.columns) == ["start", "ok", "phase", "latency_ms"]
    axes = plots.plot_latency({"naive": naive, "safe": safe})
    assert len(axes) == 2
    assert axes[0].get_title().startswith("naive: ") and "failed" in axes[0].get_title()
    assert axes[1].get_xlabel() == "time (s)" and axes[1].get_ylabel() == "latency (ms)"
    plt.close("all")


def test_workload_refuses_bad_settings(tmp_path):
    from labkit.course.workload import AppWorkload

    with lk.connect(f"sqlite:///{tmp_path}/w.db") as db:
        users = db.import_table(lab.make_users(5))
        plan = lk.build_rename_column_migration(users, "name", "full_name")
        for kwargs in ({"threads": 0}, {"rate": 0}, {"read_ratio": 0.9, "insert_ratio": 0.5}):
            with pytest.raises(ValueError):
                AppWorkload(users, plan, **kwargs)
