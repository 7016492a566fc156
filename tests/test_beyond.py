"""Beyond add and rename (notebook 09): a type change by copy, NOT NULL, an index and a foreign key that do not
stop the app, against their in-place baselines. Real PostgreSQL; the whole catalog and every row compared."""

from __future__ import annotations

import pytest

import labkit as lk
from labkit import lab
from labkit.faults import fault_matrix
from tests.conftest import reset_database


@pytest.fixture
def users(pg_url):
    """users(name, email) with visits integer NOT NULL DEFAULT 0 CHECK (visits >= 0) and account_id -> accounts."""
    with lk.connect(pg_url) as db:
        reset_database(db)
        db.execute("CREATE TABLE accounts (id bigint PRIMARY KEY)")
        db.execute("INSERT INTO accounts SELECT g FROM generate_series(1, 3) g")
        table = db.import_table(lab.make_users(40, seed=3))
        db.execute("ALTER TABLE users ADD COLUMN visits integer NOT NULL DEFAULT 0 CHECK (visits >= 0)")
        db.execute("ALTER TABLE users ADD COLUMN account_id bigint DEFAULT 1")
        db.execute("UPDATE users SET visits = id * 7, account_id = 1 + id % 3")
        yield table
        reset_database(db)


def _naive(t, step):
    return lk.MigrationPlan("baseline", [step], apps=[lk.AppVersion("v1", t.data_columns, t.data_columns)])


SAFE = {
    "type": lambda t: lk.build_change_type_migration(t, "visits", "visits_big", "bigint", batch_size=7),
    "not null": lambda t: lk.build_set_not_null_migration(t, "email"),
    "index": lambda t: lk.build_add_index_migration(t, "email", unique=True),
    "foreign key": lambda t: lk.build_add_foreign_key_migration(t, "account_id", "accounts (id)"),
}
NAIVE = {
    "type": (lambda t: _naive(t, lk.ChangeTypeInPlace("users", "visits", "bigint", previous="integer")),
             "changing-column-type"),
    "not null": (lambda t: _naive(t, lk.SetNotNull("users", "email")), "adding-not-nullable-field"),
    "index": (lambda t: _naive(t, lk.CreateIndex("users", "email", "users_email_key", '("email")', unique=True,
                                                   concurrently=False)), "require-concurrent-index-creation"),
    "foreign key": (lambda t: _naive(t, lk.AddConstraint("users", "account_id", "users_account_id_fkey",
                                                         "FOREIGN KEY (account_id) REFERENCES accounts (id)",
                                                         not_valid=False)), "adding-foreign-key-constraint"),
}  # fmt: skip


@pytest.mark.parametrize("what", list(SAFE))
def test_squawk_flags_each_baseline_and_not_the_safe_plan(users, what):
    build, rule = NAIVE[what]
    assert rule in {f.rule for f in lk.validate_migration_safety(build(users), users)}
    assert lk.validate_migration_safety(SAFE[what](users), users) == []


def _catalog_rows(t):
    return t.catalog(), t.snapshot()


@pytest.mark.parametrize("what", list(SAFE))
def test_each_safe_plan_ends_right_and_rolls_back_exactly_from_any_failure(users, what):
    start = _catalog_rows(users)
    plan = SAFE[what](users)
    for point in fault_matrix(plan, users.row_count):
        result = lk.MigrationRunner(users, fail_at=point).execute_plan(SAFE[what](users))
        assert result.status == "rolled_back", (point, result.summary())
        assert _catalog_rows(users) == start, f"failure at {point}: not restored"
    rows = {r["id"]: r for r in users.rows()}
    assert lk.MigrationRunner(users).execute_plan(SAFE[what](users)).ok
    after = users.catalog()
    if what == "type":
        column = after.column("visits_big")
        assert (column.type, column.not_null, column.default) == ("bigint", True, "0")
        assert any("visits_big >= 0" in c.definition for c in after.constraints)  # the CHECK came along
        assert {r["id"]: r["visits_big"] for r in users.rows()} == {i: r["visits"] for i, r in rows.items()}
    elif what == "not null":
        assert after.column("email").not_null
        assert not [c for c in after.constraints if c.kind == "check" and c.columns == ("email",)]  # helper gone
    elif what == "index":
        assert [(i.columns, i.unique, i.valid) for i in after.indexes if i.name == "users_email_key"] == [
            (("email",), True, True)
        ]
    else:
        assert [c.validated for c in after.constraints if c.kind == "foreign_key"] == [True]
    if what != "type":
        assert users.snapshot() == start[1]  # no row touched


def test_a_safe_plan_refuses_what_the_data_breaks_and_rolls_back(users):
    users.db.execute("UPDATE users SET email = NULL WHERE id = 5")
    start = _catalog_rows(users)
    result = lk.MigrationRunner(users).execute_plan(lk.build_set_not_null_migration(users, "email"))
    assert result.status == "rolled_back" and "validate" in result.summary()
    assert _catalog_rows(users) == start


def test_the_type_change_in_place_keeps_labkits_views_and_rewrites(users):
    d = users.db.dialect  # an app version's view, as an earlier plan leaves it (a plan of one version makes none)
    for statement in d.create_view_sql(users.qualified, "v1", {c: c for c in users.column_names}, users.key):
        users.db.execute(statement)
    plan = NAIVE["type"][0](users)
    result = lk.MigrationRunner(users).execute_plan(plan)
    assert result.ok, result.summary()
    assert users.catalog().column("visits").type == "bigint"
    assert users.views == ('"labkit_v1"."users"',)  # dropped and made again around the ALTER
    assert (
        lk.MigrationRunner(users)
        .execute_plan(_naive(users, lk.ChangeTypeInPlace("users", "visits", "integer", previous="bigint")))
        .ok
    )


def test_on_sqlite_the_postgres_only_steps_are_refused_before_any_change(tmp_path):
    with lk.connect(f"sqlite:///{tmp_path}/lab.db") as db:
        users = db.import_table(lab.make_users(10))
        before = users.catalog()
        for plan in (lk.build_set_not_null_migration(users, "email"),
                     _naive(users, lk.ChangeTypeInPlace("users", "email", "varchar(10)"))):  # fmt: skip
            with pytest.raises(lk.StepDoesNotFitError, match="PostgreSQL can"):
                lk.MigrationRunner(users).execute_plan(plan)
        assert users.catalog() == before
        assert lk.MigrationRunner(users).execute_plan(lk.build_add_index_migration(users, "email")).ok
        assert [i.columns for i in users.catalog().indexes if i.name == "users_email_idx"] == [("email",)]
