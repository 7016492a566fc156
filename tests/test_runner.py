from __future__ import annotations

import logging

import pytest

import labkit as lk
from labkit.faults import fault_matrix
from tests.conftest import add_plan, rename_plan

BUILDERS = {"rename": rename_plan, "add_column": add_plan}


MATRIX = [(kind, point) for kind, build in BUILDERS.items() for point in fault_matrix(build(lk.make_users(20)), 20)]


@pytest.mark.parametrize(("kind", "fail_at"), MATRIX, ids=[f"{k}-{p}" for k, p in MATRIX])
def test_rollback_after_a_fault_at_any_step_and_batch_restores_the_table_exactly(kind, fail_at):
    table = lk.make_users(20)
    before = table.snapshot()
    plan = BUILDERS[kind](table)
    runner = lk.MigrationRunner(table, fail_at=fail_at)
    result = runner.execute_plan(plan)
    assert result.status == "rolled_back"
    step, _, batch = fail_at.partition(":")
    assert result.failed_step == step
    assert result.failed_batch == (int(batch) if batch else None)
    assert isinstance(result.error, lk.InjectedFault)
    assert table.snapshot() == before
    assert table.triggers == ()
    assert runner.plan_progress == 0 and set(result.progress.values()) == {0.0}
    kinds = [e.kind for e in runner.history]
    assert kinds.count("fail") == 1 and kinds[-1] == "rolled_back"


def test_fault_matrix_covers_every_step_and_three_batches():
    assert len(MATRIX) == (6 + 3) + (5 + 3)


def test_completed_run_history_is_monotonic_and_ordered(users):
    plan = rename_plan(users)
    runner = lk.MigrationRunner(users)
    result = runner.execute_plan(plan)
    assert result.status == "completed" and result.ok
    ticks = [e.tick for e in runner.history]
    assert ticks == list(range(1, len(ticks) + 1))
    started = [e.step for e in runner.history if e.kind == "start"]
    assert started == [s.name for s in plan.steps]
    batches = [e.batch for e in runner.history if e.kind == "batch"]
    assert batches == [1, 2, 3, 4]
    assert [e.progress for e in runner.history if e.kind == "batch"] == [25.0, 50.0, 75.0, 100.0]
    assert result.history == runner.history


def test_rollback_undoes_steps_in_reverse_order(users):
    runner = lk.MigrationRunner(users, fail_at="stop_dual_write")
    runner.execute_plan(rename_plan(users))
    undone = [e.step for e in runner.history if e.kind == "rollback_step"]
    assert undone == ["stop_dual_write", "switch_reads", "backfill", "start_dual_write", "add_column"]


def test_an_exception_from_the_backfill_function_rolls_back(users):
    before = users.snapshot()

    def flaky(row):
        if row["id"] == 13:
            raise ZeroDivisionError("bad row 13")
        return row["email"].upper()

    plan = lk.build_add_column_migration(users, "shout", backfill=flaky, source="email", batch_size=5)
    result = lk.MigrationRunner(users).execute_plan(plan)
    assert result.status == "rolled_back"
    assert (result.failed_step, result.failed_batch) == ("backfill", 3)
    assert isinstance(result.error, ZeroDivisionError)
    assert users.snapshot() == before


def test_a_failing_undo_reports_rollback_failed_and_what_is_left(users):
    before_columns = users.column_names
    result = lk.MigrationRunner(users, fail_at="backfill:3,rollback:add_column").execute_plan(rename_plan(users))
    assert result.status == "rollback_failed"
    assert result.left_behind == ("add_column",)
    assert isinstance(result.rollback_error, lk.InjectedFault)
    assert users.column_names == [*before_columns, "full_name"]  # what a human must clean up
    assert "ROLLBACK FAILED" in result.summary()


def test_a_failure_after_an_irreversible_step_cannot_be_rolled_back(users):
    steps = [
        lk.AddColumn("users", "tmp"),
        lk.DropColumn("users", "tmp", label="drop_tmp"),
        lk.AddColumn("users", "nick", label="add_nick"),
    ]
    result = lk.MigrationRunner(users, fail_at="add_nick").execute_plan(lk.MigrationPlan("p", steps))
    assert result.status == "rollback_failed"
    assert isinstance(result.rollback_error, lk.IrreversibleStepError)
    assert result.left_behind == ("drop_tmp", "add_column")


def test_zero_row_table_completes_with_full_progress():
    t = lk.make_users(0)
    plan = rename_plan(t)
    result = lk.MigrationRunner(t).execute_plan(plan)
    assert result.status == "completed"
    assert result.progress["backfill"] == 100


def test_running_a_plan_again_on_the_migrated_table_is_refused_before_anything_changes(users):
    plan = rename_plan(users)
    lk.MigrationRunner(users).execute_plan(plan)
    after = users.snapshot()
    with pytest.raises(lk.StepDoesNotFitError, match="full_name"):
        lk.MigrationRunner(users).execute_plan(plan)
    assert users.snapshot() == after


def test_a_runner_cannot_be_used_twice(users):
    runner = lk.MigrationRunner(users)
    runner.execute_plan(lk.build_add_column_migration(users, "a"))
    with pytest.raises(lk.PlanAlreadyExecutedError, match="new MigrationRunner"):
        runner.execute_plan(lk.build_add_column_migration(users, "b"))


def test_a_plan_for_another_table_or_schema_is_refused_before_anything_changes(users):
    other = lk.Table("accounts", ["name"])
    with pytest.raises(lk.StepDoesNotFitError, match="for table 'users'"):
        lk.MigrationRunner(other).execute_plan(rename_plan(users))
    plan = rename_plan(users)
    users.add_column("full_name")  # the schema moved on after the plan was built
    before = users.snapshot()
    with pytest.raises(lk.StepDoesNotFitError, match="already exists"):
        lk.MigrationRunner(users).execute_plan(plan)
    assert users.snapshot() == before


def test_every_event_is_logged(users, caplog):
    caplog.set_level(logging.INFO, logger="labkit")
    runner = lk.MigrationRunner(users, fail_at="backfill:2")
    runner.execute_plan(rename_plan(users))
    assert len(caplog.records) == len(runner.history)
    fails = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(fails) == 1 and "fail" in fails[0].getMessage()
    assert runner.log[0].startswith("[tick    1] start")


def test_million_rows_rename_completes():
    t = lk.make_users(1_000_000)
    first, last = t.get(1)["name"], t.get(1_000_000)["name"]
    result = lk.MigrationRunner(t).execute_plan(rename_plan(t, batch_size=10_000))
    assert result.ok
    assert (t.get(1)["full_name"], t.get(1_000_000)["full_name"]) == (first, last)


def test_until_phase_stops_before_the_contract_with_nothing_undone():
    users = lk.make_users(20, seed=1)
    plan = lk.build_rename_column_migration(users, "name", "full_name", batch_size=5)
    result = lk.MigrationRunner(users, until_phase="contract").execute_plan(plan)
    assert result.status == "stopped" and result.stopped_at.startswith("before stop_dual_write")
    assert {"name", "full_name"} <= set(users.column_names)  # expand and migrate stay applied
    assert users.column("full_name") == users.column("name")
    assert result.history[-1].kind == "stopped" and "nothing undone" in result.summary()


def test_request_stop_ends_the_run_after_the_batch_in_progress():
    users = lk.make_users(40, seed=1)
    plan = lk.build_rename_column_migration(users, "name", "full_name", batch_size=5)
    runners: list[lk.MigrationRunner] = []

    class StopAtBatch2:  # as a Ctrl-C handler would: ask, and let the runner finish the batch
        def on_tick(self, event, apps):
            if event.kind == "batch" and event.batch == 2:
                runners[0].request_stop()

    runners.append(lk.MigrationRunner(users, observers=[StopAtBatch2()]))
    result = runners[0].execute_plan(plan)
    assert result.status == "stopped" and result.stopped_at == "after backfill batch 2 of 8"
    filled = [v for v in users.column("full_name") if v is not None]
    assert len(filled) == 10  # two batches of five, committed; nothing after


def test_until_phase_must_be_a_phase():
    with pytest.raises(ValueError, match="until_phase must be one of expand, migrate, contract"):
        lk.MigrationRunner(lk.make_users(2), until_phase="later")
