from __future__ import annotations

import logging

import pytest

import labkit as lk
from labkit import lab
from labkit.faults import fault_matrix
from tests.conftest import add_plan, rename_plan

BUILDERS = {"rename": rename_plan, "add_column": add_plan}


MATRIX = [(kind, point) for kind, build in BUILDERS.items() for point in fault_matrix(build(lab.make_users(20)), 20)]


@pytest.mark.parametrize(("kind", "fail_at"), MATRIX, ids=[f"{k}-{p}" for k, p in MATRIX])
def test_rollback_after_a_fault_at_any_step_and_batch_restores_the_table_exactly(kind, fail_at):
    table = lab.make_users(20)
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
    t = lab.make_users(0)
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
    t = lab.make_users(1_000_000)
    first, last = t.get(1)["name"], t.get(1_000_000)["name"]
    result = lk.MigrationRunner(t).execute_plan(rename_plan(t, batch_size=10_000))
    assert result.ok
    assert (t.get(1)["full_name"], t.get(1_000_000)["full_name"]) == (first, last)


def test_until_phase_stops_before_the_contract_with_nothing_undone():
    users = lab.make_users(20, seed=1)
    plan = lk.build_rename_column_migration(users, "name", "full_name", batch_size=5)
    result = lk.MigrationRunner(users, until_phase="contract").execute_plan(plan)
    assert result.status == "stopped" and result.stopped_at.startswith("before stop_dual_write")
    assert {"name", "full_name"} <= set(users.column_names)  # expand and migrate stay applied
    assert users.column("full_name") == users.column("name")
    assert result.history[-1].kind == "stopped" and "nothing undone" in result.summary()


def test_request_stop_ends_the_run_after_the_batch_in_progress():
    users = lab.make_users(40, seed=1)
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
        lk.MigrationRunner(lab.make_users(2), until_phase="later")


class _Watch:
    """An observer that reads the runner's progress_pct / is_complete at every tick, as a progress bar would."""

    def __init__(self) -> None:
        self.runner: lk.MigrationRunner | None = None
        self.seen: list[tuple[str, float, float, bool]] = []

    def on_tick(self, event, apps):
        assert self.runner is not None
        self.seen.append((event.kind, self.runner.progress_pct(), self.runner.progress_pct("backfill"),
                          self.runner.is_complete()))  # fmt: skip


def test_progress_pct_and_is_complete_over_a_completed_run(users):
    plan = rename_plan(users)
    watch = _Watch()
    runner = watch.runner = lk.MigrationRunner(users, observers=[watch])
    assert runner.progress_pct() == 0.0 and runner.is_complete() is False
    runner.execute_plan(plan)
    assert runner.progress_pct() == 100.0 and runner.is_complete() is True
    assert [runner.progress_pct(s) for s in plan.steps] == [100.0] * len(plan.steps)
    assert runner.progress_pct("backfill") == runner.progress_pct(plan.steps[2]) == 100.0
    batches = [backfill for kind, _, backfill, _ in watch.seen if kind == "batch"]
    assert batches == [25.0, 50.0, 75.0, 100.0]  # the step's own figure, batch by batch
    plan_pcts = [pct for _, pct, _, _ in watch.seen]
    assert plan_pcts == sorted(plan_pcts) and plan_pcts[0] == 0 and plan_pcts[-1] == 100  # climbs, never falls
    assert not any(done for *_, done in watch.seen)  # complete only once the run has ended, not at its last tick


def test_progress_pct_falls_to_zero_and_is_complete_stays_false_after_a_rollback(users):
    watch = _Watch()
    runner = watch.runner = lk.MigrationRunner(users, fail_at="switch_reads", observers=[watch])
    result = runner.execute_plan(rename_plan(users))
    assert result.status == "rolled_back"
    assert runner.progress_pct() == 0.0 and runner.progress_pct("backfill") == 0.0
    assert runner.is_complete() is False
    peak = max(pct for _, pct, _, _ in watch.seen)
    assert peak > 40  # it had climbed before it came back down
    assert runner.progress_pct() == runner.plan_progress


def test_a_run_stopped_before_the_contract_is_not_complete_though_its_steps_are_done(users):
    plan = rename_plan(users)
    runner = lk.MigrationRunner(users, until_phase="contract")
    assert runner.execute_plan(plan).status == "stopped"
    migrate = [s for s in plan.steps if s.phase != "contract"]
    assert [runner.progress_pct(s) for s in migrate] == [100.0] * len(migrate)
    assert 0 < runner.progress_pct() < 100
    assert runner.is_complete() is False


def test_progress_pct_of_a_step_not_in_the_plan_is_refused_naming_the_steps(users):
    runner = lk.MigrationRunner(users)
    with pytest.raises(lk.errors.StepNotFoundError, match="no plan has run"):
        runner.progress_pct("backfill")
    runner.execute_plan(rename_plan(users))
    with pytest.raises(lk.errors.StepNotFoundError, match=r"no step 'backfil' in the plan \(steps: add_column, "):
        runner.progress_pct("backfil")


def test_execute_plan_runs_each_step_through_execute_step_and_a_failure_through_rollback_plan(users, monkeypatch):
    calls: list[str] = []
    runner = lk.MigrationRunner(users, fail_at="backfill:2")
    step_impl, rollback_impl = runner._execute_step, runner._rollback_plan

    def execute_step(step, *args, **kwargs):
        calls.append(step.name)
        return step_impl(step, *args, **kwargs)

    def rollback_plan(*args, **kwargs):
        calls.append("rollback")
        return rollback_impl(*args, **kwargs)

    monkeypatch.setattr(runner, "_execute_step", execute_step)
    monkeypatch.setattr(runner, "_rollback_plan", rollback_plan)
    result = runner.execute_plan(rename_plan(users))
    assert result.status == "rolled_back"
    assert calls == ["add_column", "start_dual_write", "backfill", "rollback"]
