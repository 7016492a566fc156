from __future__ import annotations

import pytest

import labkit as lk
from labkit import lab
from tests.conftest import add_plan, rename_plan


def run(plan_fn, *, fail_at=None, seed=3, rows=30):
    t = lab.make_users(rows)
    return lab.simulate_traffic(t, plan_fn(t), seed=seed, fail_at=fail_at), t


def test_expand_contract_rename_under_traffic_fails_nothing_and_loses_nothing():
    report, t = run(rename_plan)
    assert report.result.status == "completed"
    assert report.requests > 0
    assert (report.failed_requests, report.lost_writes, report.stale_reads) == (0, 0, 0)
    assert t.column_names == ["id", "email", "full_name"]


def test_naive_rename_fails_requests_of_the_old_app_only():
    report, _ = run(lambda t: lk.build_naive_rename_migration(t, "name", "full_name"))
    assert report.result.status == "completed"
    assert report.failed_requests > 0
    assert set(report.failed_by_version) == {"v1"}
    per_tick = [x.failed_requests for x in report.ticks]
    assert per_tick[0] == 0  # before the rename everything works
    assert sum(per_tick) == report.failed_requests


def test_backfill_without_dual_write_loses_writes():
    def no_dual(t):
        p = rename_plan(t)
        return lk.MigrationPlan("no dual write", [s for s in p.steps if "dual" not in s.name], apps=p.apps)

    report, _ = run(no_dual)
    assert report.failed_requests == 0
    assert report.lost_writes > 0


def test_switching_reads_before_the_backfill_shows_stale_reads():
    def early_switch(t):
        p = rename_plan(t)
        order = ["add_column", "start_dual_write", "switch_reads", "backfill", "stop_dual_write", "drop_column"]
        return lk.MigrationPlan("early switch", [p.step(n) for n in order], apps=p.apps)

    report, _ = run(early_switch)
    assert report.stale_reads > 0


def test_computed_column_under_traffic_stays_correct():
    report, t = run(add_plan)
    assert (report.failed_requests, report.lost_writes, report.stale_reads) == (0, 0, 0)
    assert t.column("email_domain") == [lab.email_domain(r) for r in t.rows()]


@pytest.mark.parametrize("fail_at", ["backfill:3", "switch_reads", "stop_dual_write", "drop_column"])
def test_rollback_under_traffic_rolls_the_app_back_too_and_fails_nothing(fail_at):
    report, t = run(rename_plan, fail_at=fail_at)
    assert report.result.status == "rolled_back"
    assert (report.failed_requests, report.lost_writes) == (0, 0)
    assert t.column_names == ["id", "name", "email"]
    assert report.result.history[-1].apps == (("v1", 1.0),)


def test_same_seed_same_numbers_other_seed_other_traffic():
    a, _ = run(rename_plan, seed=7)
    b, _ = run(rename_plan, seed=7)
    c, _ = run(rename_plan, seed=8)
    assert [vars(x) for x in a.ticks] == [vars(x) for x in b.ticks]
    assert a.requests == b.requests
    tables = [lab.make_users(30) for _ in range(2)]
    for t, seed in zip(tables, (7, 8)):
        lab.simulate_traffic(t, rename_plan(t), seed=seed)
    assert tables[0].snapshot() != tables[1].snapshot()
    assert [vars(x) for x in c.ticks] != [vars(x) for x in a.ticks]


def test_traffic_report_frame_has_one_row_per_tick():
    report, _ = run(rename_plan)
    frame = report.to_frame()
    assert len(frame) == len(report.result.history)
    assert frame["failed_requests"].sum() == report.failed_requests


@pytest.mark.parametrize(
    "kwargs",
    [{"requests_per_tick": -1}, {"read_ratio": 0.9, "insert_ratio": 0.2}, {"rollout_ticks": 0}],
    ids=["negative-requests", "ratios-over-one", "no-rollout"],
)
def test_bad_traffic_settings_are_refused(kwargs):
    t = lab.make_users(5)
    with pytest.raises(ValueError):
        lab.simulate_traffic(t, rename_plan(t), **kwargs)


def test_a_deploy_of_an_undefined_app_version_is_refused():
    t = lab.make_users(5)
    plan = lk.MigrationPlan("p", [lk.AddColumn("users", "x", deploy="v2")])
    with pytest.raises(ValueError, match="defines no such app version"):
        lab.simulate_traffic(t, plan)
