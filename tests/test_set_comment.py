"""SetColumnComment, the operation added to show the shape: one module (labkit/steps/set_comment.py), this
test, and the builder that uses it. Checked on the real engines, catalog and rows compared."""

from __future__ import annotations

import pytest

import labkit as lk
from labkit import lab


def catalog(db: lk.Database, table: str) -> list[tuple]:
    """Every column of ``table`` as the catalog has it: name, type, nullability, default, comment."""
    return db.query(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
        "pg_get_expr(d.adbin, d.adrelid), col_description(a.attrelid, a.attnum) "
        "FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        [table],
    )


def test_the_step_is_data_with_an_exact_reverse():
    step = lk.SetColumnComment("users", "email", "where receipts go", previous="old note")
    undo = step.reverse()
    assert (undo.comment, undo.previous, undo.name) == ("old note", "where receipts go", "undo_set_column_comment")
    assert undo.reverse() == lk.SetColumnComment(
        "users", "email", "where receipts go", "old note", label="undo_undo_set_column_comment"
    )
    assert step.fit(["name", "email"]) == ["name", "email"]
    with pytest.raises(lk.StepDoesNotFitError, match="'nope' does not exist"):
        lk.SetColumnComment("users", "nope", "x").fit(["name"])
    with pytest.raises(lk.StepDoesNotFitError, match="comment must be text or None"):
        lk.SetColumnComment("users", "email", 42)  # type: ignore[arg-type]
    assert "remove the comment" in lk.SetColumnComment("users", "email", None).describe()


def test_postgres_sets_the_comment_and_changes_nothing_else(pg):
    users = pg.import_table(lab.make_users(10))
    pg.execute("COMMENT ON COLUMN users.email IS 'it''s the login'")
    before_catalog, before_rows = catalog(pg, "users"), users.snapshot()
    plan = lk.build_comment_migration(users, "email", "where receipts go")
    assert plan.steps[0].previous == "it's the login"  # read from the catalog by the builder
    assert lk.validate_migration_safety(plan, users) == []
    assert lk.MigrationRunner(users).execute_plan(plan).ok
    after = catalog(pg, "users")
    assert [c[4] for c in after] == [None, None, "where receipts go"]
    assert [c[:4] for c in after] == [c[:4] for c in before_catalog]  # names, types, NOT NULL, defaults
    assert users.snapshot() == before_rows


def test_postgres_rollback_puts_back_the_comment_it_replaced(pg):
    users = pg.import_table(lab.make_users(10))
    pg.execute("COMMENT ON COLUMN users.name IS 'display name'")
    before = catalog(pg, "users")
    steps = [*lk.build_comment_migration(users, "name", None).steps, lk.AddColumn("users", "nickname")]
    result = lk.MigrationRunner(users, fail_at="add_column").execute_plan(lk.MigrationPlan("p", steps))
    assert result.status == "rolled_back"
    assert catalog(pg, "users") == before


@pytest.mark.parametrize("engine", ["memory", "sqlite"])
def test_engines_without_comments_refuse_before_anything_changes(engine, tmp_path):
    if engine == "memory":
        users = lab.make_users(5)
        db = None
    else:
        db = lk.connect(f"sqlite:///{tmp_path}/lab.db")
        users = db.import_table(lab.make_users(5))
    try:
        with pytest.raises(lk.StepDoesNotFitError, match="keeps no column comments"):
            lk.build_comment_migration(users, "email", "x")
        before = users.snapshot()
        plan = lk.MigrationPlan("p", [lk.AddColumn("users", "a"), lk.SetColumnComment("users", "email", "x")])
        with pytest.raises(lk.StepDoesNotFitError, match="keeps no column comments"):
            lk.MigrationRunner(users).execute_plan(plan)
        assert users.snapshot() == before
    finally:
        if db is not None:
            db.close()
