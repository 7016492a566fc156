from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")  # plots are drawn off-screen in tests; their data is what the tests check

import labkit as lk


@pytest.fixture
def users() -> lk.Table:
    """A 20-row users table (name, email), the same every time."""
    return lk.make_users(20, seed=0)


def rename_plan(table: lk.Table, batch_size: int = 5) -> lk.MigrationPlan:
    return lk.build_rename_column_migration(table, "name", "full_name", batch_size=batch_size)


def add_plan(table: lk.Table, batch_size: int = 5) -> lk.MigrationPlan:
    return lk.build_add_column_migration(
        table, "email_domain", backfill=lk.email_domain, source="email", batch_size=batch_size
    )
