from __future__ import annotations

import pytest

import labkit as lk
from tests.conftest import rename_plan


def test_plan_is_printable_comparable_data(users):
    a, b = rename_plan(users), rename_plan(lk.make_users(20))
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
    assert plan.steps == steps and plan.table == "users"
    assert plan.progress_pct == 0 and not plan.is_complete


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


def test_plan_progress_is_the_mean_of_its_steps(users):
    plan = rename_plan(users, batch_size=5)
    lk.MigrationRunner(users).execute_plan(plan)
    assert plan.progress_pct == 100 and plan.is_complete
    assert all(s.is_complete for s in plan.steps)


def test_steps_can_be_reused_in_another_plan_after_one_ran(users):
    first = rename_plan(users)
    lk.MigrationRunner(users).execute_plan(first)
    other = lk.make_users(20)
    second = lk.MigrationPlan("again", first.steps, apps=first.apps)
    assert not second.started and second == lk.MigrationPlan("again", rename_plan(other).steps, apps=first.apps)
    assert lk.MigrationRunner(other).execute_plan(second).ok
