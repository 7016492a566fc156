from __future__ import annotations

import pytest

import labkit as lk
from labkit import lab
from tests.conftest import rename_plan


def test_plan_is_printable_comparable_data(users):
    a, b = rename_plan(users), rename_plan(lab.make_users(20))
    assert a == b
    assert a != rename_plan(users, batch_size=7)
    text = str(a)
    assert "1. [expand  ] add_column" in text and "6. [contract] drop_column" in text
    assert [s.name for s in a.steps] == [
        "add_column",
        "start_dual_write",
        "backfill",
        "switch_reads",
        "stop_dual_write",
        "drop_column",
    ]


def test_plan_can_be_built_by_hand():
    steps = [lk.AddColumn("users", "nickname"), lk.DropColumn("users", "nickname")]
    plan = lk.MigrationPlan("add and drop", steps)
    assert plan.steps == tuple(steps) and plan.table == "users"
    assert all(a is b for a, b in zip(plan.steps, steps))  # the very steps it was given: no hidden copies


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("", [lk.AddColumn("t", "a")]), "non-empty name"),
        (("p", []), "at least one step"),
        (("p", ["add a"]), "is not a step"),
        (("p", [lk.AddColumn("t", "a"), lk.AddColumn("t", "b")]), "unique"),
        (("p", [lk.AddColumn("t", "a"), lk.DropColumn("u", "b")]), "one table"),
    ],
    ids=["empty-name", "no-steps", "not-a-step", "duplicate-names", "two-tables"],
)
def test_malformed_plans_are_refused(args, reason):
    with pytest.raises(lk.InvalidPlanError) as info:
        lk.MigrationPlan(*args)
    assert reason in info.value.reason


def test_a_deploy_must_name_a_known_app_version():
    apps = [lk.AppVersion("v1", ["a"], ["a"])]
    with pytest.raises(lk.InvalidPlanError, match="v9"):
        lk.MigrationPlan("p", [lk.DropColumn("t", "a", deploy="v9")], apps=apps)


def test_plan_progress_is_the_mean_of_its_steps_and_belongs_to_the_runner(users):
    plan = rename_plan(users, batch_size=5)
    runner = lk.MigrationRunner(users)
    assert runner.progress == {} and runner.plan_progress == 0
    result = runner.execute_plan(plan)
    assert runner.progress == {s.name: 100.0 for s in plan.steps} == dict(result.progress)
    assert runner.plan_progress == 100


def test_a_step_and_the_same_step_in_a_plan_never_disagree(users):
    """Progress lives in the runner, keyed by step name: there is no copy of a step that could lag behind."""
    backfill = lk.Backfill("users", "full_name", source="name", batch_size=5)
    steps = [lk.AddColumn("users", "full_name"), backfill]
    plan = lk.MigrationPlan("copy", steps)
    runner = lk.MigrationRunner(users, fail_at="backfill:3")
    result = runner.execute_plan(plan)
    seen = [e.progress for e in result.history if e.step == "backfill" and e.kind == "batch"]
    assert seen == [25.0, 50.0]
    assert plan.step("backfill") is backfill
    assert runner.progress["backfill"] == 0.0  # undone by the rollback


def test_one_plan_runs_on_two_tables_each_runner_with_its_own_progress(users):
    plan = rename_plan(users)
    other = lab.make_users(20)
    first, second = lk.MigrationRunner(users), lk.MigrationRunner(other, fail_at="backfill:2")
    assert first.execute_plan(plan).ok
    assert second.execute_plan(plan).status == "rolled_back"
    assert first.progress["backfill"] == 100.0 and second.progress["backfill"] == 0.0
