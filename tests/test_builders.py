from __future__ import annotations

import pytest

import labkit as lk
from labkit import lab
from tests.conftest import add_plan, rename_plan


def test_rename_plan_has_the_six_steps_in_their_phases(users):
    plan = rename_plan(users)
    assert [(s.name, s.phase) for s in plan.steps] == [
        ("add_column", "expand"),
        ("start_dual_write", "migrate"),
        ("backfill", "migrate"),
        ("switch_reads", "migrate"),
        ("stop_dual_write", "contract"),
        ("drop_column", "contract"),
    ]
    assert [a.name for a in plan.apps] == ["v1", "v2", "v3"]
    assert plan.step("switch_reads").deploy == "v2" and plan.step("drop_column").deploy == "v3"


def test_rename_migration_ends_with_the_new_name_and_every_value(users):
    names = users.column("name")
    lk.MigrationRunner(users).execute_plan(rename_plan(users))
    assert users.column_names == ["id", "email", "full_name"]
    assert users.column("full_name") == names


def test_add_column_with_backfill_computes_every_row(users):
    plan = add_plan(users)
    assert [s.name for s in plan.steps] == [
        "add_column",
        "start_dual_write",
        "backfill",
        "switch_reads",
        "stop_dual_write",
    ]
    lk.MigrationRunner(users).execute_plan(plan)
    assert users.column("email_domain") == [e.split("@")[1] for e in users.column("email")]


def test_add_column_without_backfill_is_one_expand_step(users):
    plan = lk.build_add_column_migration(users, "plan", default="free")
    assert [s.name for s in plan.steps] == ["add_column"]
    lk.MigrationRunner(users).execute_plan(plan)
    assert set(users.column("plan")) == {"free"}


def test_add_column_guesses_the_source_only_when_there_is_one_column():
    one = lk.Table("t", ["email"])
    plan = lk.build_add_column_migration(one, "email_domain", backfill=lab.email_domain)
    assert plan.step("start_dual_write").source == "email"
    with pytest.raises(ValueError, match="source="):
        lk.build_add_column_migration(lab.make_users(2), "email_domain", backfill=lab.email_domain)


def test_naive_rename_is_one_unsafe_step(users):
    plan = lk.build_naive_rename_migration(users, "name", "full_name")
    assert [s.name for s in plan.steps] == ["rename_column_in_place"]


@pytest.mark.parametrize(
    ("build", "error"),
    [
        (lambda t: lk.build_rename_column_migration(t, "nope", "x"), lk.ColumnNotFoundError),
        (lambda t: lk.build_rename_column_migration(t, "name", "name"), lk.SameNameError),
        (lambda t: lk.build_rename_column_migration(t, "name", "email"), lk.ColumnExistsError),
        (lambda t: lk.build_rename_column_migration(t, "name", ""), lk.InvalidNameError),
        (lambda t: lk.build_rename_column_migration(t, "name", "x", batch_size=0), lk.InvalidBatchSizeError),
        (lambda t: lk.build_add_column_migration(t, "email"), lk.ColumnExistsError),
        (lambda t: lk.build_add_column_migration(t, "9x`"), lk.InvalidNameError),
        (lambda t: lk.build_add_column_migration(t, "d", backfill=len, source="nope"), lk.ColumnNotFoundError),
        (lambda t: lk.build_naive_rename_migration(t, "name", "email"), lk.ColumnExistsError),
    ],
    ids=[
        "rename-unknown",
        "rename-same",
        "rename-existing",
        "rename-empty",
        "rename-batch-zero",
        "add-existing",
        "add-invalid",
        "add-unknown-source",
        "naive-existing",
    ],
)
def test_builders_refuse_bad_input_before_anything_changes(users, build, error):
    before = users.snapshot()
    with pytest.raises(error):
        build(users)
    assert users.snapshot() == before


def test_builders_accept_a_computed_column_only_as_a_function(users):
    with pytest.raises(TypeError, match="function"):
        lk.build_add_column_migration(users, "d", backfill="lower(email)", source="email")
