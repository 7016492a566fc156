"""Each step: its name and phase, its reverse, its schema check, and its errors.

One file for all steps rather than one per step: each step's tests are a few lines, and the
parametrized table below shows them side by side.
"""

from __future__ import annotations

import pytest

import labkit as lk
from labkit.steps import UndoBackfill

T = "users"
ALL = [
    (lk.AddColumn(T, "full_name"), "add_column", "expand", lk.DropColumn),
    (lk.StartDualWrite(T, "name", "full_name"), "start_dual_write", "migrate", lk.StopDualWrite),
    (lk.Backfill(T, "full_name", source="name"), "backfill", "migrate", UndoBackfill),
    (lk.SwitchReads(T, "name", "full_name"), "switch_reads", "migrate", lk.SwitchReads),
    (lk.StopDualWrite(T, "name", "full_name"), "stop_dual_write", "contract", lk.StartDualWrite),
    (lk.DropColumn(T, "name"), "drop_column", "contract", None),
    (lk.RenameColumnInPlace(T, "name", "full_name"), "rename_column_in_place", "contract", lk.RenameColumnInPlace),
]
IDS = [s.name for s, *_ in ALL]


@pytest.mark.parametrize(("step", "name", "phase", "reverse_type"), ALL, ids=IDS)
def test_each_step_has_a_stable_name_a_phase_and_a_reverse(step, name, phase, reverse_type):
    assert step.name == name
    assert step.phase == phase
    assert not hasattr(step, "progress_pct")  # a step is data: progress belongs to the runner
    if reverse_type is None:
        with pytest.raises(lk.IrreversibleStepError) as info:
            step.reverse()
        assert info.value.step == name
        assert not step.reversible
    else:
        assert isinstance(step.reverse(), reverse_type)
        assert step.reversible


def test_steps_are_frozen_comparable_data():
    a = lk.Backfill(T, "full_name", source="name", batch_size=10)
    assert a == lk.Backfill(T, "full_name", source="name", batch_size=10)
    assert a != lk.Backfill(T, "full_name", source="name", batch_size=11)
    with pytest.raises(AttributeError):
        a.batch_size = 3  # type: ignore[misc]
    assert repr(a) == "Backfill(table='users', target='full_name', source='name', batch_size=10)"


def test_label_renames_a_step_for_plans_with_two_of_a_kind():
    s = lk.AddColumn(T, "first_name", label="add_first_name")
    assert s.name == "add_first_name"


@pytest.mark.parametrize(
    ("step", "columns", "after"),
    [
        (lk.AddColumn(T, "full_name"), ["name"], ["name", "full_name"]),
        (lk.DropColumn(T, "name"), ["name", "email"], ["email"]),
        (lk.RenameColumnInPlace(T, "name", "full_name"), ["name", "email"], ["full_name", "email"]),
        (lk.Backfill(T, "full_name", source="name"), ["name", "full_name"], ["name", "full_name"]),
    ],
    ids=["add", "drop", "rename", "backfill"],
)
def test_fit_returns_the_columns_after_the_step(step, columns, after):
    assert step.fit(columns) == after


@pytest.mark.parametrize(
    ("step", "columns", "reason"),
    [
        (lk.AddColumn(T, "name"), ["name"], "already exists"),
        (lk.DropColumn(T, "nope"), ["name"], "does not exist"),
        (lk.Backfill(T, "full_name", source="name"), ["name"], "'full_name' does not exist"),
        (lk.StartDualWrite(T, "name", "x"), ["name"], "'x' does not exist"),
        (lk.RenameColumnInPlace(T, "name", "email"), ["name", "email"], "already exists"),
    ],
    ids=["add-existing", "drop-missing", "backfill-missing-target", "dual-write-missing", "rename-onto-existing"],
)
def test_fit_refuses_a_step_that_does_not_fit(step, columns, reason):
    with pytest.raises(lk.StepDoesNotFitError) as info:
        step.fit(columns)
    assert reason in info.value.reason
    assert info.value.table == T


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda: lk.Backfill(T, "x", source="a", batch_size=0), lk.InvalidBatchSizeError),
        (lambda: lk.Backfill(T, "x", source="a", batch_size=-5), lk.InvalidBatchSizeError),
        (lambda: lk.Backfill(T, "x", source="a", batch_size=True), lk.InvalidBatchSizeError),
        (lambda: lk.Backfill(T, "x"), lk.StepDoesNotFitError),
        (lambda: lk.Backfill(T, "x", source="a", compute=len), lk.StepDoesNotFitError),
        (lambda: lk.AddColumn(T, 'Bad"Name'), lk.InvalidNameError),
        (lambda: lk.AddColumn(T, "50%"), lk.InvalidNameError),
        (lambda: lk.AddColumn(T, 'x"; DROP TABLE users; --'), lk.InvalidNameError),
        (lambda: lk.RenameColumnInPlace(T, "a", "a"), lk.SameNameError),
        (lambda: lk.SwitchReads(T, "a", "a"), lk.StepDoesNotFitError),
        (lambda: lk.StartDualWrite(T, "a", "a"), lk.StepDoesNotFitError),
    ],
    ids=[
        "batch-zero",
        "batch-negative",
        "batch-bool",
        "backfill-no-source",
        "backfill-two-sources",
        "bad-name",
        "injection-name",
        "percent-name",
        "rename-same",
        "switch-same",
        "dual-write-same",
    ],
)
def test_bad_step_arguments_raise_typed_errors(make, error):
    with pytest.raises(error):
        make()


def test_backfill_batch_count():
    b = lk.Backfill(T, "x", source="a", batch_size=10)
    assert [b.batch_count(n) for n in (0, 1, 10, 11, 100)] == [0, 1, 1, 2, 10]
    assert lk.Backfill(T, "x", source="a", batch_size=None).batch_count(500) == 1
