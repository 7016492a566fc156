"""Hypothesis properties for the invariants that matter most."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import labkit as lk
from labkit import lab

names = st.text(alphabet="abcdefgh xyz", min_size=0, max_size=8)
emails = st.builds(
    lambda a, d: f"{a}@{d}", st.text(alphabet="abc", min_size=1, max_size=4), st.sampled_from(["x.io", "y.org"])
)


@st.composite
def tables(draw):
    rows = draw(st.lists(st.tuples(st.one_of(st.none(), names), emails), min_size=0, max_size=40))
    t = lk.Table("users", ["name", "email"])
    for n, e in rows:
        t.insert({"name": n, "email": e})
    for row_id in draw(st.lists(st.sampled_from(list(t.ids)), max_size=5, unique=True)) if t.row_count else []:
        t.delete(row_id)  # gaps in the ids, as a real table has
    return t


@st.composite
def plan_and_fault(draw):
    t = draw(tables())
    batch = draw(st.integers(min_value=1, max_value=12))
    if draw(st.booleans()):
        plan = lk.build_rename_column_migration(t, "name", "full_name", batch_size=batch)
    else:
        plan = lk.build_add_column_migration(
            t, "email_domain", backfill=lab.email_domain, source="email", batch_size=batch
        )
    step = draw(st.sampled_from(plan.steps))
    fault = step.name
    n = step.batch_count(t.row_count) if step.batched else 0
    if n:
        k = draw(st.integers(min_value=0, max_value=n))
        fault = f"{step.name}:{k}" if k else step.name
    return t, plan, fault


@settings(max_examples=150, deadline=None)
@given(plan_and_fault())
def test_rollback_after_a_failure_at_any_step_and_batch_restores_the_table_exactly(case):
    table, plan, fault = case
    before = table.snapshot()
    result = lk.MigrationRunner(table, fail_at=fault).execute_plan(plan)
    assert result.status == "rolled_back"
    assert table.snapshot() == before
    assert table.triggers == ()


@settings(max_examples=60, deadline=None)
@given(
    rows=st.integers(min_value=1, max_value=60),
    batch=st.integers(min_value=1, max_value=15),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_expand_contract_rename_under_traffic_loses_nothing_while_naive_rename_fails_v1(rows, batch, seed):
    t = lab.make_users(rows, seed=seed)
    safe = lab.simulate_traffic(
        t, lk.build_rename_column_migration(t, "name", "full_name", batch_size=batch), seed=seed
    )
    assert (safe.failed_requests, safe.lost_writes, safe.stale_reads) == (0, 0, 0)
    n = lab.make_users(rows, seed=seed)
    naive = lab.simulate_traffic(n, lk.build_naive_rename_migration(n, "name", "full_name"), seed=seed)
    assert naive.failed_requests > 0
    assert set(naive.failed_by_version) == {"v1"}


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(min_value=2, max_value=40),
    batch=st.integers(min_value=1, max_value=10),
    seed=st.integers(min_value=0, max_value=10_000),
    data=st.data(),
)
def test_rollback_under_traffic_at_any_fault_point_fails_no_request_and_loses_no_write(rows, batch, seed, data):
    t = lab.make_users(rows, seed=seed)
    plan = lk.build_rename_column_migration(t, "name", "full_name", batch_size=batch)
    step = data.draw(st.sampled_from(plan.steps))
    fault = step.name
    if step.batched:
        k = data.draw(st.integers(min_value=0, max_value=step.batch_count(rows)))
        fault = f"{step.name}:{k}" if k else step.name
    report = lab.simulate_traffic(t, plan, seed=seed, fail_at=fault)
    assert report.result.status == "rolled_back"
    assert (report.failed_requests, report.lost_writes, report.stale_reads) == (0, 0, 0)
    assert t.column_names == ["id", "name", "email"]
