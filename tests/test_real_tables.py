"""Tables shaped like production ones (issue 9): every row and every column property is kept, or the plan is
refused before any change. Each test runs on a real SQLite file and on PostgreSQL 18, catalog and rows compared."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labkit as lk
from tests.conftest import db_rename_plan

_files = itertools.count()


def load_with_ids(db: lk.Database, ids: list[int]) -> lk.DbTable:
    """A users table whose keys are exactly ``ids`` (negative, zero, sparse ...), names derived from the key."""
    users = db.create_table("users", {"name": "TEXT", "email": "TEXT"})
    p = db.dialect.param
    with db.transaction():
        for i in ids:
            db.execute(f"INSERT INTO users (id, name, email) VALUES ({p}, {p}, {p})", [i, f"name {i}", f"u{i}@x.io"])
    return users


def test_negative_zero_and_sparse_keys_all_keep_their_value(db):
    ids = [-(10**12), -7, -1, 0, 1, 2, 10**6, 10**12]
    users = load_with_ids(db, ids)
    result = lk.MigrationRunner(users).execute_plan(db_rename_plan(users, batch_size=3))
    assert result.ok, result.summary()
    assert {r["id"]: r["full_name"] for r in users.rows()} == {i: f"name {i}" for i in ids}
    batches = [e for e in result.history if e.step == "backfill" and e.kind == "batch"]
    assert len(batches) == 3 and batches[0].detail.startswith(f"ids {-(10**12)}..")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=st.sets(st.integers(-(2**62), 2**62), min_size=0, max_size=30), size=st.integers(1, 7))
def test_any_integer_keys_keep_their_values_through_a_rename(tmp_path, ids, size):
    with lk.connect(f"sqlite:///{tmp_path}/keys{next(_files)}.db") as db:
        users = load_with_ids(db, sorted(ids))
        result = lk.MigrationRunner(users).execute_plan(db_rename_plan(users, batch_size=size))
        assert result.ok, result.summary()
        assert {r["id"]: r["full_name"] for r in users.rows()} == {i: f"name {i}" for i in ids}
