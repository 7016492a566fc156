from __future__ import annotations

import pytest

import labkit as lk
from labkit.faults import Faults, parse_faults
from tests.conftest import rename_plan


@pytest.mark.parametrize(
    ("fail_at", "expected"),
    [
        (None, Faults()),
        ("backfill", Faults("backfill", None)),
        ("backfill:4", Faults("backfill", 4)),
        ("drop_column", Faults("drop_column", None)),
        ("backfill:3,rollback:add_column", Faults("backfill", 3, frozenset({"add_column"}))),
        (["switch_reads", "rollback:backfill"], Faults("switch_reads", None, frozenset({"backfill"}))),
        ("backfill:2, rollback:backfill", Faults("backfill", 2, frozenset({"backfill"}))),
    ],
    ids=["none", "step-start", "last-batch", "contract-step", "with-rollback", "list", "partial-backfill-undo"],
)
def test_valid_fault_points(users, fail_at, expected):
    assert parse_faults(fail_at, rename_plan(users), users.row_count) == expected


@pytest.mark.parametrize(
    ("fail_at", "reason"),
    [
        ("backfil", "no step named 'backfil'"),
        ("backfill:5", "will run 4 batch(es) on 20 rows, so batch 5 never comes"),
        ("backfill:0", "whole number from 1"),
        ("backfill:x", "whole number from 1"),
        ("add_column:1", "is not batched"),
        ("rollback:add_column", "needs a forward fault"),
        ("rollback:nope,backfill", "no step named 'nope'"),
        ("add_column,backfill", "only one forward fault"),
        ("backfill,rollback:backfill", "is not undone"),
        ("backfill:1,rollback:backfill", "is not undone"),
        ("switch_reads,rollback:drop_column", "is not undone"),
        ("", None),
        (42, "give a string"),
    ],
    ids=[
        "typo",
        "batch-beyond",
        "batch-zero",
        "batch-text",
        "unbatched",
        "rollback-alone",
        "rollback-unknown",
        "two-forward",
        "undo-of-unstarted",
        "undo-of-empty-backfill",
        "undo-of-later-step",
        "empty-is-no-fault",
        "not-a-string",
    ],
)
def test_bad_fault_points_are_refused_before_anything_changes(users, fail_at, reason):
    plan = rename_plan(users)
    before = users.snapshot()
    if reason is None:
        assert parse_faults(fail_at, plan, users.row_count) == Faults()
        return
    with pytest.raises(lk.InvalidFaultError) as info:
        lk.MigrationRunner(users, fail_at=fail_at).execute_plan(plan)
    assert reason in info.value.reason
    assert users.snapshot() == before
