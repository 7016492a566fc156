"""One contract for every operation, on every engine it runs on (pgroll's afterStart / afterRollback / afterComplete).

Each case is a plan built on a production-shaped table. It is run the way labkit runs it for a team: start (expand
and migrate, up to the deploy), rollback, start again, complete, with app versions writing throughout where the
table is the users table the workload knows. After the rollback the catalog is the one the table had before; after
the completion it is the one a straight start -> complete leaves on a twin of the table; the app's every
acknowledged write survived and none of its requests failed. A new operation joins by appearing in a case: the last
test fails while some operation class is in none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

import labkit as lk
from labkit import lab
from labkit.course.workload import AppWorkload
from labkit.planfile import operations
from tests.conftest import reset_database
from tests.shapes import make_people


def users_table(db: lk.Database) -> lk.DbTable:
    """users(name, email) and, on PostgreSQL, visits integer NOT NULL DEFAULT 0 CHECK and account_id -> accounts."""
    db.import_table(lab.make_users(40, seed=3))
    if db.dialect.name == "postgresql":
        db.execute("CREATE TABLE accounts (id bigint PRIMARY KEY)")
        db.execute("INSERT INTO accounts SELECT g FROM generate_series(1, 3) g")
        db.execute("ALTER TABLE users ADD COLUMN visits integer NOT NULL DEFAULT 0 CHECK (visits >= 0)")
        db.execute("ALTER TABLE users ADD COLUMN account_id bigint DEFAULT 1")
        db.execute("UPDATE users SET visits = id * 7, account_id = 1 + id % 3")
    return db.table("users")


def users_with_nulls(db: lk.Database) -> lk.DbTable:
    """users_table with a NULL name in every fifth row: the data a NOT NULL change meets."""
    users = users_table(db)
    db.execute("UPDATE users SET name = NULL WHERE id % 5 = 0")
    return users


def orders_table(db: lk.Database) -> lk.DbTable:
    return lab.make_orders(db)  # constraints, indexes, foreign keys both ways, a trigger, a view


def _baseline(t: lk.DbTable, step: lk.Step) -> lk.MigrationPlan:
    return lk.MigrationPlan("baseline", [step], apps=[lk.AppVersion("v1", t.data_columns, t.data_columns)])


@dataclass(frozen=True)
class Case:
    make: Callable[[lk.Database], lk.DbTable]
    build: Callable[[lk.DbTable], lk.MigrationPlan]
    engines: tuple[str, ...] = ("sqlite", "postgresql")
    safe: bool = True  # False: a baseline the lab shows failing the app (its catalog contract still holds)


PG = ("postgresql",)
CASES: dict[str, Case] = {
    "add column": Case(users_table, lambda t: lk.build_add_column_migration(t, "nickname")),
    "add computed column": Case(users_table, lambda t: lk.build_add_column_migration(
        t, "email_domain", backfill=lab.email_domain, backfill_sql=lab.EMAIL_DOMAIN_SQL, source="email",
        batch_size=7)),
    "rename by copy": Case(users_table, lambda t: lk.build_rename_column_migration(t, "name", "full_name",
                                                                                  batch_size=7)),
    "rename through views": Case(users_table, lambda t: lk.build_rename_column_migration(t, "name", "full_name",
                                                                                        approach="view")),
    "rename in place (the baseline)": Case(users_table, lambda t: lk.build_naive_rename_migration(t, "name",
                                                                                                 "full_name"),
                                           safe=False),
    "whole copy of a production column": Case(orders_table, lambda t: lk.build_rename_column_migration(
        t, "account_id" if t.db.dialect.name == "postgresql" else "note", "renamed", batch_size=6)),
    "index": Case(users_table, lambda t: lk.build_add_index_migration(t, "email", unique=True)),
    "type change by copy": Case(users_table, lambda t: lk.build_change_type_migration(
        t, "visits", "visits_big", "bigint", batch_size=7), PG),
    "type change in place (the baseline)": Case(users_table, lambda t: _baseline(
        t, lk.ChangeTypeInPlace("users", "visits", "bigint", previous="integer")), PG, safe=False),
    "not null": Case(users_table, lambda t: lk.build_set_not_null_migration(t, "email"), PG),
    "not null, the NULLs filled first": Case(users_with_nulls, lambda t: lk.build_set_not_null_migration(
        t, "name", fill="unknown", batch_size=7), PG),
    "foreign key": Case(users_table, lambda t: lk.build_add_foreign_key_migration(t, "account_id",
                                                                                 "accounts (id)"), PG),
    "comment": Case(users_table, lambda t: lk.build_comment_migration(t, "email", "where we write"), PG),
    "copy of a column with every property": Case(make_people, lambda t: lk.build_rename_column_migration(
        t, "email", "contact", batch_size=40), PG),
}  # fmt: skip
PARAMS = [(name, engine) for name, case in CASES.items() for engine in case.engines]


@pytest.fixture
def fresh(request, tmp_path) -> Any:
    """A function giving an empty database of the engine asked for (SQLite: a new file each time)."""
    opened: list[lk.Database] = []

    def make(engine: str) -> lk.Database:
        if engine == "sqlite":
            db = lk.connect(f"sqlite:///{tmp_path}/lab{len(opened)}.db")
        else:
            db = lk.connect(request.getfixturevalue("pg_url"))
            reset_database(db)
            db.execute("DROP TABLE IF EXISTS accounts CASCADE")
        opened.append(db)
        return db

    yield make
    for db in opened:
        if not db.closed:
            if db.dialect.name == "postgresql":
                reset_database(db)
            db.close()


def _run(table: lk.DbTable, plan: lk.MigrationPlan, observers: list[Any], **options: Any) -> lk.MigrationResult:
    result = lk.MigrationRunner(table, observers=observers, **options).execute_plan(plan)
    assert result.status in ("stopped", "completed", "rolled_back"), result.summary()
    return result


@pytest.mark.parametrize(("case", "engine"), PARAMS, ids=[f"{c}-{e}" for c, e in PARAMS])
def test_start_rollback_start_complete_leaves_what_a_straight_run_leaves_and_the_app_loses_nothing(
    fresh, case, engine
):
    spec = CASES[case]
    # the twin: a straight start -> complete, with nothing writing
    twin_db = fresh(engine)
    twin = spec.make(twin_db)
    plan = spec.build(twin)
    if _run(twin, plan, [], until_phase="contract").status == "stopped":
        assert _run(twin, plan, []).status == "completed"
    expected = twin.catalog()
    if engine == "postgresql":
        reset_database(twin_db)  # the same server, empty again

    db = twin_db if engine == "postgresql" else fresh(engine)
    table = spec.make(db)
    plan = spec.build(table)
    initial = table.catalog()
    traffic = spec.make in (users_table, users_with_nulls)
    load = AppWorkload(table, plan, threads=2, seed=7, rollout_requests=3) if traffic else None
    guests = [load] if load is not None else []
    with load if load is not None else _nothing():
        # the app writes before the migration starts, serves in every rollout (rollout_requests), and after it ends:
        # counts waited for, not windows of time
        assert load is None or load.wait_for_writes(3)
        started = _run(table, plan, guests, until_phase="contract")
        if started.status == "stopped":  # a plan with a contract phase: roll the start back, then again
            back = _run(table, plan, guests, resume="rollback")
            assert back.status == "rolled_back", back.summary()
            assert table.catalog() == initial, "after the rollback the catalog is the one the table had"
            _run(table, plan, guests, until_phase="contract")
            assert _run(table, plan, guests).status == "completed"
        else:  # no contract phase: start completes the plan (its undo is the fault matrix's to test)
            assert started.status == "completed"
        assert load is None or load.wait_for_writes(3)
    assert table.catalog() == expected, "after completion the catalog is the one a straight run leaves"
    if load is not None and spec.safe:  # (a baseline's outage is a matter of timing: notebooks 01 and 09 show it)
        assert [r.error for r in load.failed] == []
        assert load.audit(table) == 0 and load.lost_writes == 0


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def test_every_operation_is_in_a_case(fresh):
    kinds: set[str] = set()
    for case in CASES.values():
        table = case.make(fresh("postgresql"))  # every case builds on PostgreSQL (some only there)
        for step in case.build(table).steps:
            kinds.add(step.kind)
            if step.reversible:
                kinds.add(step.reverse().kind)  # the undo steps run in the rollbacks above
    missing = sorted({cls.kind for cls in operations().values()} - kinds)
    assert missing == [], f"operations no case of the contract runs: {missing}"
