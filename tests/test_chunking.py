"""Batches sized by time (issue 22): the sizer's arithmetic exactly, and real backfills that walk their key ranges
lazily, batch by batch, with sizes that follow what each batch took."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

import labkit as lk
from labkit import lab
from labkit.chunking import AUTO_START_ROWS, GROWTH, MAX_ROWS, MIN_ROWS, ChunkSizer, check_chunk_ms


def test_a_fixed_size_never_changes():
    sizer = ChunkSizer(500)
    for seconds in (0.001, 5.0, 0.2):
        sizer.record(500, seconds)
        assert sizer.next_size() == 500


def test_auto_grows_at_most_twice_per_batch_towards_the_target_and_holds_it():
    sizer = ChunkSizer(1000, target_ms=200)
    sizes = []
    for _ in range(8):  # a steady 100,000 rows/s: 200 ms is 20,000 rows
        size = sizer.next_size()
        sizes.append(size)
        sizer.record(size, size / 100_000)
    assert sizes[:6] == [1000, 2000, 4000, 8000, 16000, 20000] and sizes[6:] == [20000, 20000]


def test_auto_shrinks_at_once_when_a_batch_runs_over():
    sizer = ChunkSizer(20_000, target_ms=200)
    sizer.record(20_000, 0.2)  # 100,000 rows/s
    sizer.record(20_000, 2.0)  # then the app's load: 10,000 rows/s, the batch took 10x the target
    assert sizer.next_size() == 2000  # the newest rate alone, not the average


@given(st.lists(st.tuples(st.integers(1, 10**6), st.floats(1e-5, 30.0)), min_size=1, max_size=40),
       st.floats(10, 5000))  # fmt: skip
def test_every_size_stays_within_bounds_and_grows_at_most_2x(batches, target):
    sizer = ChunkSizer(AUTO_START_ROWS, target_ms=target)
    before = sizer.next_size()
    for rows, seconds in batches:
        sizer.record(rows, seconds)
        size = sizer.next_size()
        assert MIN_ROWS <= size <= MAX_ROWS
        assert size <= max(before * GROWTH, MIN_ROWS)
        before = size


@pytest.mark.parametrize("bad", [0, 5, 6000, float("nan"), float("inf"), True, "200"])
def test_a_target_outside_10_to_5000_ms_is_refused(bad):
    with pytest.raises(ValueError, match="chunk_ms"):
        check_chunk_ms(bad)
    with pytest.raises(lk.StepDoesNotFitError, match="chunk_ms"):
        lk.Backfill("users", "email", source="name", chunk_ms=bad)


def test_the_builders_size_by_time_on_a_database_and_by_count_in_memory(db):
    users = db.import_table(lab.make_users(10, seed=1))
    step = next(s for s in lk.build_rename_column_migration(users, "name", "full_name").steps
                if isinstance(s, lk.Backfill))  # fmt: skip
    assert (step.batch_size, step.chunk_ms) == (AUTO_START_ROWS, 200.0)
    memory = lab.make_users(5)  # an in-memory table
    step = next(s for s in lk.build_rename_column_migration(memory, "name", "full_name").steps
                if isinstance(s, lk.Backfill))  # fmt: skip
    assert (step.batch_size, step.chunk_ms) == (AUTO_START_ROWS, None)
    fixed = next(s for s in lk.build_rename_column_migration(users, "name", "full_name", batch_size=7).steps
                 if isinstance(s, lk.Backfill))  # fmt: skip
    assert (fixed.batch_size, fixed.chunk_ms) == (7, None)


def test_an_auto_backfill_on_a_real_table_changes_its_size_copies_every_row_and_reports_each_batch(db):
    users = db.import_table(lab.make_users(30_000, seed=2))
    expected = {r["id"]: r["name"] for r in users.rows()}
    plan = lk.build_rename_column_migration(users, "name", "full_name", chunk_ms=20)
    runner = lk.MigrationRunner(users)
    assert runner.execute_plan(plan).ok
    batches = [e for e in runner.history if e.kind == "batch"]
    sizes = [e.rows for e in batches]
    assert sum(sizes) == 30_000 and sizes[0] == AUTO_START_ROWS
    assert len(set(sizes)) > 1, sizes  # it sized them: not every batch is the first one's size
    assert all(e.ms is not None and e.ms >= 0 for e in batches)
    assert all(b <= a * GROWTH + 1 for a, b in itertools.pairwise(sizes[:-1])), sizes  # (the last: what was left)
    assert batches[-1].batches == len(batches) and batches[-1].progress == 100.0
    assert {r["id"]: r["full_name"] for r in users.rows()} == expected


def test_with_a_standby_a_batch_is_held_to_the_byte_budget():
    sizer = ChunkSizer(1000, target_ms=200)
    for _ in range(6):  # fast: 200 ms would be 20,000 rows
        sizer.record(sizer.size, sizer.size / 100_000)
    assert sizer.next_size() == 20_000
    sizer.byte_budget = 1_000_000
    sizer.record_bytes(1000, 200_000)  # 200 bytes of WAL a row: 1 MB is 5,000 rows
    assert sizer.next_size() == 5000
    assert ChunkSizer(300).next_size() == 300  # a fixed size is never changed by a budget
