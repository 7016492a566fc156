"""``labkit convert`` (issue 24, first part): each statement kind, as written, run on one copy of a production-shaped
table, and converted -> run under the app's traffic on another: the end catalogs are equal (column order aside: a
copy is added at the end), the app lost and failed nothing, and the converted plan has no safety error."""

from __future__ import annotations

import dataclasses
import re

import pytest

import labkit as lk
from labkit import lab
from labkit.catalog import TableCatalog
from labkit.cli import main
from labkit.convert import convert_sql, plans_by_table
from labkit.course.workload import AppWorkload
from tests.conftest import complete_plan, reset_database


def _make(db: lk.Database) -> lk.DbTable:
    """users as production has it: a counter with a CHECK and a default, a key to accounts, a note, an index."""
    reset_database(db)
    db.execute("DROP TABLE IF EXISTS accounts CASCADE")
    db.import_table(lab.make_users(60, seed=3))
    db.execute("CREATE TABLE accounts (id bigint PRIMARY KEY)")
    db.execute("INSERT INTO accounts SELECT g FROM generate_series(1, 3) g")
    db.execute("ALTER TABLE users ADD COLUMN visits integer NOT NULL DEFAULT 0 CHECK (visits >= 0)")
    db.execute("ALTER TABLE users ADD COLUMN account_id bigint DEFAULT 1")
    db.execute("ALTER TABLE users ADD COLUMN note text")
    db.execute("CREATE INDEX users_note_idx ON users (note)")
    db.execute("UPDATE users SET visits = id, account_id = 1 + id % 3, note = 'n' || id")
    db.execute("DROP TABLE IF EXISTS pairs")
    db.execute("CREATE TABLE pairs (account bigint, n integer, PRIMARY KEY (account, n))")
    db.execute("INSERT INTO pairs SELECT a, n FROM generate_series(1, 3) a, generate_series(0, 5000) n")
    return db.table("users")


def _unordered(catalog: TableCatalog) -> TableCatalog:
    return dataclasses.replace(catalog, columns=tuple(sorted(catalog.columns, key=lambda c: c.name)))


def _under_writes(table: lk.DbTable, plan: lk.MigrationPlan) -> None:
    """Run ``plan`` while the app writes through every phase: it completes, no write failed, none was lost."""
    assert [f for f in lk.validate_migration_safety(plan, table) if f.severity == "error"] == []
    with AppWorkload(table, plan, threads=2, seed=7, rollout_requests=3) as load:
        assert load.wait_for_writes(3)  # a count, not a sleep: a loaded machine starts the app's threads late
        result = lk.MigrationRunner(table, observers=[load]).execute_plan(plan)
        assert load.wait_for_writes(3)  # and on the table as the plan left it
    assert result.status == "completed", result.summary()
    assert [r.error for r in load.failed] == [] and load.audit(table) == 0 and load.lost_writes == 0, (
        load.ledger.mismatches)


KINDS = {
    "rename column": "ALTER TABLE users RENAME COLUMN name TO full_name",
    "add column, NOT NULL with a default": "ALTER TABLE users ADD COLUMN plan text NOT NULL DEFAULT 'free'",
    "add column with a default": "ALTER TABLE users ADD COLUMN seen integer DEFAULT 0",
    "set not null": "ALTER TABLE users ALTER COLUMN email SET NOT NULL",
    "drop not null": "ALTER TABLE users ALTER COLUMN visits DROP NOT NULL",
    "set default": "ALTER TABLE users ALTER COLUMN visits SET DEFAULT 5",
    "drop default": "ALTER TABLE users ALTER COLUMN account_id DROP DEFAULT",
    "check": "ALTER TABLE users ADD CONSTRAINT account_positive CHECK (account_id > 0)",
    "foreign key": "ALTER TABLE users ADD CONSTRAINT users_fk FOREIGN KEY (account_id) REFERENCES accounts (id)",
    "foreign key, two columns": "ALTER TABLE users ADD CONSTRAINT users_pair_fk FOREIGN KEY (account_id, visits) "
    "REFERENCES pairs (account, n) ON DELETE CASCADE",
    "change type": "ALTER TABLE users ALTER COLUMN visits TYPE bigint",
    "unique": "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)",
    "unique, unnamed, two columns": "ALTER TABLE users ADD UNIQUE (account_id, email)",
    "create index": "CREATE INDEX users_email_lower ON users (lower(email)) WHERE email IS NOT NULL",
    "drop index": "DROP INDEX users_note_idx",
    "drop column": "ALTER TABLE users DROP COLUMN note",
    "comment": "COMMENT ON COLUMN users.email IS 'where we write'",
    "several on one table": "ALTER TABLE users ADD COLUMN seen integer DEFAULT 0; "
    "CREATE INDEX users_email_lower ON users (lower(email)); COMMENT ON COLUMN users.email IS 'where we write'",
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_converted_plan_ends_where_the_statement_would_and_the_app_loses_nothing(pg, kind):
    sql = KINDS[kind]
    twin = _make(pg)
    for statement in sql.split("; "):
        pg.execute(statement)
    expected = _unordered(twin.catalog())
    users = _make(pg)
    conversions = convert_sql(sql, pg)
    assert all(c.plan is not None for c in conversions), [str(c) for c in conversions]
    plans = plans_by_table(conversions)
    assert len(plans) == 1, [p.name for p in plans]  # several statements on one table: one plan
    plan = plans[0]
    _under_writes(users, plan)
    assert _unordered(users.catalog()) == expected


def test_what_it_cannot_infer_it_asks_for_and_what_it_cannot_do_it_refuses(pg):
    _make(pg)
    pg.execute("UPDATE users SET email = NULL WHERE id % 10 = 0")
    sql = ("ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n"
           "ALTER TABLE users ALTER COLUMN visits TYPE bigint;\n"
           "ALTER TABLE users ADD CONSTRAINT email_key UNIQUE (email);\n"
           "ALTER TABLE users ADD COLUMN code text NOT NULL;\n"
           "CREATE TABLE t (id int);")  # fmt: skip
    asked, typed, unique, required, other = convert_sql(sql, pg)
    assert asked.plan is None and "holds 6 NULL(s)" in asked.asked[0] and "--fill email=" in asked.asked[0]
    assert typed.plan is not None  # a plain cast: its way back is the cast back
    assert unique.plan is not None  # NULLs are not duplicates to a UNIQUE
    assert required.plan is None and "NOT NULL column with no default" in required.refused
    assert other.plan is None and other.written and "a new table" in other.written  # run as written, first
    filled = convert_sql(sql.splitlines()[0], pg, fill={"email": lk.SQL("'user' || id || '@unknown.invalid'")})[0]
    assert filled.plan is not None
    assert [s.kind for s in filled.plan.steps][:3] == ["add_column", "guard_fix", "fix_rows"]
    dependent = convert_sql("ALTER TABLE users ADD COLUMN seen integer; ALTER TABLE users ALTER seen SET NOT NULL", pg)
    assert dependent[0].plan is not None and "convert and run the statements before it first" in dependent[1].refused
    with pytest.raises(lk.LabkitError, match="parser refuses"):
        convert_sql("ALTER TABLE users RENAM COLUMN a TO b", pg)


def test_labkit_convert_writes_a_plan_that_labkit_start_runs(pg, pg_url, tmp_path, capsys):
    _make(pg)
    (tmp_path / "m.sql").write_text(KINDS["rename column"] + ";\n" + KINDS["check"] + ";\n")
    assert main(["convert", str(tmp_path / "m.sql"), "--db", pg_url, "-o", str(tmp_path / "plan.json"),
                 "--explain"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "squawk on it as written: " in out and "renaming-column" in out and "wrote " in out
    assert main(["start", str(tmp_path / "plan.json"), "--db", pg_url]) == 0
    assert complete_plan(pg_url) == 0
    names = pg.table("users").column_names
    assert "full_name" in names and "name" not in names
    assert any(c.name == "account_positive" for c in pg.table("users").catalog().constraints)
    (tmp_path / "bad.sql").write_text("ALTER TABLE users ALTER COLUMN visits TYPE bigint USING visits * 2;\n")
    assert main(["convert", str(tmp_path / "bad.sql"), "--db", pg_url]) == 3
    assert "not converted" in capsys.readouterr().err
    assert main(["convert", str(tmp_path / "bad.sql"), "--db", pg_url, "--back", "visits=visits_labkit_new / 2"]) == 0
    assert "converted: change users.visits to bigint (" in capsys.readouterr().out
    assert main(["convert", str(tmp_path / "bad.sql"), "--db", pg_url, "--copy-as", "visits=visits_big"]) == 0
    assert "converted: change users.visits to bigint as visits_big" in capsys.readouterr().out


def test_an_alembic_revision_is_converted_from_its_offline_sql(pg, pg_url, tmp_path, capsys):
    """What Alembic would have run (`alembic upgrade PARENT:REV --sql`), its own bookkeeping left out, converted."""
    from tests.conftest import alembic_project

    _make(pg)
    project = alembic_project(tmp_path, pg_url)
    (project / "migrations" / "versions" / "a1_rename.py").write_text(
        'revision = "a1"\ndown_revision = None\nbranch_labels = None\ndepends_on = None\n\nfrom alembic import op\n\n\n'
        "def upgrade():\n"
        '    op.alter_column("users", "name", new_column_name="full_name")\n'
        '    op.create_index("users_email_idx", "users", ["email"])\n\n\n'
        "def downgrade():\n    pass\n"
    )  # fmt: skip
    assert main(["convert", "--alembic", str(project), "a1", "--db", pg_url, "-o", str(tmp_path / "p.json")]) == 0
    out = capsys.readouterr().out
    assert 'ALTER TABLE users RENAME name TO full_name' in out and "CREATE INDEX users_email_idx" in out
    plan = lk.load_plan(tmp_path / "p.json")
    assert {"create_index", "start_dual_write", "drop_column"} <= {s.kind for s in plan.steps}
    assert "alembic_version" not in out
    assert main(["convert", "--alembic", str(project), "nope", "--db", pg_url]) == 64
    assert main(["convert", "--db", pg_url]) == 64
    # and back into the project: the naive revision replaced by labkit's two (start, complete), run by Alembic
    from tests.conftest import alembic

    versions = str(project / "migrations" / "versions")
    export = ["export", "alembic", str(tmp_path / "p.json"), "--db", pg_url, "--dir", versions]
    assert main([*export, "--replaces", "nope"]) == 64 and "no revision 'nope'" in capsys.readouterr().err
    assert (project / "migrations" / "versions" / "a1_rename.py").exists()  # a refusal touches nothing
    assert main([*export, "--replaces", "a1"]) == 0
    assert "revision a1 left the chain" in capsys.readouterr().out
    assert not (project / "migrations" / "versions" / "a1_rename.py").exists()
    assert (project / "migrations" / "versions" / "a1_rename.py.replaced-by-labkit").exists()  # kept, not read
    history = alembic(project, "history")
    chain = re.findall(r"-> (\w+)", history.stdout)  # "<base> -> b97d54b023e9 (head), ...": each revision's id
    assert history.returncode == 0 and len(chain) == 3 and "a1" not in chain, history.stdout
    done = alembic(project, "upgrade", "head")
    assert done.returncode == 0, done.stderr
    users = pg.table("users")
    assert "full_name" in users.column_names and "name" not in users.column_names
    assert any(i.name == "users_email_idx" and i.columns == ("email",) for i in users.catalog().indexes)


def test_a_unique_constraint_on_duplicates_asks_for_their_values_and_then_runs_under_writes(pg):
    """The statement as written fails on duplicates; the conversion says how many, asks for each one's new value
    (``--dedupe``), then fixes them in journaled batches while the app writes, builds the index concurrently and adds
    the constraint on it: the same constraint and index as the statement on a clean copy."""
    sql = "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)"
    twin = _make(pg)
    pg.execute("UPDATE users SET email = 'same' || (id % 3) || '@example.com' WHERE id % 5 = 0")
    pg.execute("UPDATE users SET email = email || '+dup' || id WHERE id IN (SELECT id FROM (SELECT id, row_number() "
               "OVER (PARTITION BY email ORDER BY id) AS n FROM users) AS r WHERE n > 1)")  # what the fix will write
    pg.execute(sql)
    expected = _unordered(twin.catalog())
    users = _make(pg)
    pg.execute("UPDATE users SET email = 'same' || (id % 3) || '@example.com' WHERE id % 5 = 0")
    (asked,) = convert_sql(sql, pg)
    assert asked.plan is None and "holds 9 row(s) whose email an earlier row has too" in asked.asked[0]
    assert "--dedupe email=" in asked.asked[0]
    (done,) = convert_sql(sql, pg, dedupe={"email": lk.SQL("email || '+dup' || id")})
    assert done.plan is not None and [s.kind for s in done.plan.steps] == [
        "add_column", "guard_fix", "fix_rows", "create_index", "add_constraint", "drop_journals"]  # fmt: skip
    _under_writes(users, done.plan)
    assert _unordered(users.catalog()) == expected


SQLITE_KINDS = {  # what SQLite's ALTER TABLE has a form of
    "rename column": "ALTER TABLE users RENAME COLUMN name TO full_name",
    "add column with a default": "ALTER TABLE users ADD COLUMN seen integer DEFAULT 0",
    "add column, NOT NULL with a default": "ALTER TABLE users ADD COLUMN plan text NOT NULL DEFAULT 'free'",
    "create index": "CREATE INDEX users_email_lower ON users (lower(email)) WHERE email IS NOT NULL",
    "drop index": "DROP INDEX users_note_idx",
    "drop column": "ALTER TABLE users DROP COLUMN legacy",
}


def _make_sqlite(db: lk.Database) -> lk.DbTable:
    reset_database(db)
    db.import_table(lab.make_users(60, seed=3))
    db.execute("ALTER TABLE users ADD COLUMN visits integer NOT NULL DEFAULT 0 CHECK (visits >= 0)")
    db.execute("ALTER TABLE users ADD COLUMN note text")
    db.execute("ALTER TABLE users ADD COLUMN legacy text")
    db.execute("CREATE INDEX users_note_idx ON users (note)")
    db.execute("UPDATE users SET visits = id, note = 'n' || id, legacy = 'l' || id")
    return db.table("users")


@pytest.mark.parametrize("kind", list(SQLITE_KINDS))
def test_on_sqlite_each_statement_it_has_ends_where_the_statement_would(tmp_path, kind):
    sql = SQLITE_KINDS[kind]
    with lk.connect(f"sqlite:///{tmp_path}/naive.db") as naive, lk.connect(f"sqlite:///{tmp_path}/lab.db") as db:
        _make_sqlite(naive)
        naive.execute(sql)
        expected = _unordered(naive.table("users").catalog())
        users = _make_sqlite(db)
        (c,) = convert_sql(sql, db)
        assert c.plan is not None and c.engine == "sqlite", str(c)
        assert "the write lock" in c.naive_lock
        _under_writes(users, c.plan)
        assert _quoting_aside(_unordered(users.catalog())) == _quoting_aside(expected)


def _quoting_aside(catalog: TableCatalog) -> TableCatalog:
    """SQLite keeps an index's SQL as it was written: labkit's quotes its names (`users`) and PostgreSQL's parser
    writes an expression element in parentheses of its own, which SQLite reads as the same index."""
    def plain(sql: str) -> str:
        return re.sub(r"\(\((.*?)\)\)", r"(\1)", sql.replace("`", ""))

    indexes = tuple(dataclasses.replace(i, definition=plain(i.definition)) for i in catalog.indexes)
    return dataclasses.replace(catalog, indexes=indexes)


def test_on_sqlite_what_it_has_no_form_of_is_refused_saying_so(tmp_path):
    with lk.connect(f"sqlite:///{tmp_path}/lab.db") as db:
        _make_sqlite(db)
        sql = ("ALTER TABLE users ALTER COLUMN note SET NOT NULL; "
               "ALTER TABLE users ADD CONSTRAINT c CHECK (visits < 9); COMMENT ON COLUMN users.note IS 'x'")
        not_null, check, comment = convert_sql(sql, db)
        assert not_null.plan is None and "sqlite cannot add or drop a constraint" in not_null.refused
        assert check.plan is None and "sqlite cannot add or drop a constraint" in check.refused
        assert comment.plan is None and comment.refused


def test_labkit_convert_on_sqlite_writes_the_plan_and_says_squawk_does_not_apply(tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/lab.db"
    with lk.connect(url) as db:
        _make_sqlite(db)
    (tmp_path / "m.sql").write_text(SQLITE_KINDS["rename column"] + ";\n")
    assert main(["convert", str(tmp_path / "m.sql"), "--db", url, "-o", str(tmp_path / "p.json"), "--explain"]) == 0
    out = capsys.readouterr().out
    assert "the write lock for an instant" in out and "squawk lints PostgreSQL's migrations only" in out
    assert main(["start", str(tmp_path / "p.json"), "--db", url]) == 0
    assert complete_plan(url) == 0
    with lk.connect(url) as db:
        assert "full_name" in db.table("users").column_names and "name" not in db.table("users").column_names


def test_a_type_change_with_using_asks_for_its_way_back_and_ends_where_the_statement_would(pg):
    """ALTER COLUMN ... TYPE ... USING keeps its name: app v2 writes only the new type through its view, so the
    conversion asks for USING's way back (a rollback keeps v2's writes through it); given it, the plan ends where the
    statement would, every row converted. Or the copy takes a name of its own (--copy-as), which the app moves to."""
    sql = "ALTER TABLE users ALTER COLUMN visits TYPE bigint USING visits::bigint * 10"
    twin = _make(pg)
    pg.execute(sql)
    expected = _unordered(twin.catalog())
    want = pg.query("SELECT id, visits FROM users ORDER BY id")
    users = _make(pg)
    (asked,) = convert_sql(sql, pg)
    assert asked.plan is None and "--back visits=" in asked.asked[0] and "visits_labkit_new" in asked.asked[0]
    (done,) = convert_sql(sql, pg, back={"visits": lk.SQL("visits_labkit_new / 10")})
    assert done.plan is not None, str(done)
    assert [f for f in lk.validate_migration_safety(done.plan, users) if f.severity == "error"] == []
    result = lk.MigrationRunner(users).execute_plan(done.plan)
    assert result.status == "completed", result.summary()
    assert pg.query("SELECT id, visits FROM users ORDER BY id") == want
    assert _unordered(users.catalog()) == expected

    pg.execute("ALTER TABLE users RENAME COLUMN visits TO visits_big")  # the other way: a copy of another name
    expected = _unordered(twin.catalog())
    users = _make(pg)
    (named,) = convert_sql(sql, pg, copy_as={"visits": "visits_big"})
    assert named.plan is not None, str(named)
    assert [s.back for s in named.plan.steps if s.kind == "start_dual_write"] == [None]  # v2 writes both columns
    result = lk.MigrationRunner(users).execute_plan(named.plan)
    assert result.status == "completed", result.summary()
    assert _unordered(users.catalog()) == expected
    # with the app writing through every phase (its model of the rows knows a copy, not an SQL expression: here the
    # USING keeps the value; the runs above checked a conversion that changes it)
    users = _make(pg)
    (kept,) = convert_sql(sql.replace(" * 10", ""), pg, copy_as={"visits": "visits_big"})
    assert kept.plan is not None, str(kept)
    _under_writes(users, kept.plan)
    assert _unordered(users.catalog()) == expected


def test_the_explanation_as_a_table_has_a_row_per_statement_with_squawk_and_what_labkit_does(pg):
    from labkit import views

    _make(pg)
    sql = "ALTER TABLE users RENAME COLUMN name TO full_name; ALTER TABLE users ADD COLUMN code text NOT NULL"
    frame = views.conversions_frame(convert_sql(sql, pg), squawk=True)
    assert list(frame.columns) == ["statement", "as written", "squawk", "labkit"] and len(frame) == 2
    assert "renaming-column" in frame.loc[0, "squawk"] and frame.loc[0, "labkit"].startswith("converted: rename")
    assert frame.loc[1, "labkit"].startswith("refused: a NOT NULL column with no default")
    assert list(views.conversions_frame([]).columns) == ["statement", "as written", "labkit"]
