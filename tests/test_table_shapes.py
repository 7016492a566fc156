"""Issue 21's table shapes (findings 7-9): what a rename by copy must keep, and what it must refuse before any
change. Each test builds the table as production has it and compares the whole catalog, not only the values."""

from __future__ import annotations

import pytest

import labkit as lk
from labkit.errors import KeyColumnError, PreflightError, StepDoesNotFitError
from tests.conftest import drop_roles, make_roles, reset_database
from tests.shapes import make_people

ROLES = ("shapes_reader", "shapes_reader_2")


@pytest.fixture
def shaped(pg):
    reset_database(pg)
    make_roles(pg, ROLES)
    yield pg
    reset_database(pg)
    drop_roles(pg, ROLES)


def _build(db: lk.Database, col: str) -> lk.TableCatalog:
    make_people(db, col)
    db.execute(f"GRANT SELECT (id, {col}), UPDATE ({col}) ON people TO shapes_reader")
    db.execute(f"GRANT SELECT ({col}) ON people TO shapes_reader_2 WITH GRANT OPTION")
    return db.table("people").catalog()


def test_a_copy_keeps_every_property_of_the_column(shaped):
    """Finding 8 (PostgreSQL): the collation, column GRANTs, a DEFERRABLE UNIQUE, extended statistics, SET
    STATISTICS / STORAGE / COMPRESSION / n_distinct, comments on the index and the CHECK, CLUSTER ON: a rollback
    gives back the catalog as it was, and the completed copy's catalog equals a twin built with the new name."""
    before = _build(shaped, "email")
    column = before.column("email")
    assert column.collation == '"C"' and column.statistics == 500 and column.storage == "EXTERNAL"
    assert column.compression == "pglz" and column.options == ("n_distinct=-1",) and len(column.privileges) == 4
    assert before.statistics and any(i.clustered and i.comment for i in before.indexes)

    plan = lk.build_rename_column_migration(shaped.table("people"), "email", "contact")
    last_before_contract = [s for s in plan.steps if s.phase != "contract"][-1].name
    result = lk.MigrationRunner(shaped.table("people"), fail_at=last_before_contract).execute_plan(plan)
    assert result.status == "rolled_back", result.summary()
    assert shaped.table("people").catalog() == before

    result = lk.MigrationRunner(shaped.table("people")).execute_plan(plan)
    assert result.status == "completed", result.summary()
    after = shaped.table("people").catalog()
    rows = shaped.query("SELECT id, city, note, contact FROM people ORDER BY id")
    shaped.drop_table("people")
    twin = _build(shaped, "contact")
    assert str(after) == str(twin)
    assert after == twin
    assert rows == shaped.query("SELECT id, city, note, contact FROM people ORDER BY id")


def test_sqlite_keeps_the_columns_collation_and_so_a_case_blind_unique_index(tmp_path):
    """Finding 8 (SQLite): a NOCASE column with a UNIQUE index: the copy dropped NOCASE, so 'A@x.io' and
    'a@x.io' could both be written after the rename."""
    db = lk.connect(f"sqlite:///{tmp_path}/shapes.db")
    try:
        db.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT COLLATE NOCASE)")
        db.execute("CREATE UNIQUE INDEX people_email ON people (email)")
        db.execute("INSERT INTO people (email) VALUES ('a@x.io'), ('b@x.io')")
        plan = lk.build_rename_column_migration(db.table("people"), "email", "contact")
        result = lk.MigrationRunner(db.table("people")).execute_plan(plan)
        assert result.status == "completed", result.summary()
        assert db.table("people").catalog().column("contact").collation == "NOCASE"
        with pytest.raises(Exception, match="UNIQUE"):
            db.execute("INSERT INTO people (contact) VALUES ('A@X.IO')")
    finally:
        db.close()


REFUSED_SHAPES = {  # finding 7: found only mid-run or at the contract step, after the whole backfill
    "publication column list": ("CREATE PUBLICATION shapes_pub FOR TABLE people (id, email)", "publication shapes_pub"),
    "publication row filter": ("CREATE PUBLICATION shapes_pub FOR TABLE people WHERE (email <> '')",
                               "row filter"),
    "replica identity": ("CREATE UNIQUE INDEX people_email_ri ON people (email);; "
                         "ALTER TABLE people REPLICA IDENTITY USING INDEX people_email_ri", "REPLICA IDENTITY"),
    "trigger UPDATE OF": ("CREATE FUNCTION shapes_touch() RETURNS trigger LANGUAGE plpgsql AS "
                          "$$BEGIN RETURN NEW; END$$;; CREATE TRIGGER people_touch BEFORE UPDATE OF email ON people "
                          "FOR EACH ROW EXECUTE FUNCTION shapes_touch()", "trigger people_touch"),
}  # fmt: skip


@pytest.mark.parametrize("shape", sorted(REFUSED_SHAPES))
def test_a_shape_the_copy_cannot_carry_is_refused_before_any_change(pg, shape):
    reset_database(pg)
    sql, reason = REFUSED_SHAPES[shape]
    pg.execute("CREATE TABLE people (id bigint PRIMARY KEY, email text NOT NULL, note text)")
    pg.execute("INSERT INTO people SELECT i, 'u' || i, NULL FROM generate_series(1, 50) i")
    for statement in sql.split(";; "):
        pg.execute(statement)
    before = pg.table("people").catalog()
    try:
        plan = lk.build_rename_column_migration(pg.table("people"), "email", "contact")
        with pytest.raises(PreflightError, match=reason):
            lk.MigrationRunner(pg.table("people")).execute_plan(plan)
        assert pg.table("people").catalog() == before
    finally:
        pg.execute("DROP PUBLICATION IF EXISTS shapes_pub")
        reset_database(pg)
        pg.execute("DROP FUNCTION IF EXISTS shapes_touch()")


def test_an_index_on_a_partitioned_table_is_refused_before_any_change(pg):
    """Finding 7: CREATE INDEX CONCURRENTLY is refused by PostgreSQL on a partitioned table, mid-run."""
    reset_database(pg)
    pg.execute("CREATE TABLE events (id bigint, kind text, PRIMARY KEY (id)) PARTITION BY RANGE (id)")
    pg.execute("CREATE TABLE events_1 PARTITION OF events FOR VALUES FROM (0) TO (1000)")
    try:
        assert pg.table("events").catalog().partitioned
        plan = lk.build_add_index_migration(pg.table("events"), "kind")
        with pytest.raises(StepDoesNotFitError, match="partitioned"):
            lk.MigrationRunner(pg.table("events")).execute_plan(plan)
        assert not [r for r in pg.query("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'events%kind%'")]
    finally:
        reset_database(pg)


def test_a_stale_comment_plan_is_refused_so_its_undo_cannot_restore_the_wrong_comment(pg):
    """Finding 9: a comment step whose ``previous`` no longer matches put back the wrong comment on rollback."""
    reset_database(pg)
    users = pg.import_table(lk.lab.make_users(10, seed=1))
    pg.execute("COMMENT ON COLUMN users.email IS 'first'")
    plan = lk.build_comment_migration(users, "email", "second")
    pg.execute("COMMENT ON COLUMN users.email IS 'changed meanwhile'")
    with pytest.raises(StepDoesNotFitError, match="comment is now 'changed meanwhile', not 'first'"):
        lk.MigrationRunner(users).execute_plan(plan)
    assert users.catalog().column("email").comment == "changed meanwhile"
    fresh = lk.build_comment_migration(users, "email", "second")
    assert lk.MigrationRunner(users, fail_at=fresh.steps[0].name).execute_plan(fresh).status == "rolled_back"
    assert users.catalog().column("email").comment == "changed meanwhile"
    reset_database(pg)


def test_a_key_column_is_named_as_a_key_column_and_a_partition_key_is_refused_before_any_change(pg):
    """Finding 9: renaming a key member or a partition key said "column does not exist" (it exists: in the key)."""
    reset_database(pg)
    pg.execute("CREATE TABLE lines (order_id bigint, line integer, sku text, PRIMARY KEY (order_id, line))")
    pg.execute("CREATE TABLE events (id bigint, region text NOT NULL, body text) PARTITION BY LIST (region)")
    pg.execute("CREATE TABLE events_eu PARTITION OF events FOR VALUES IN ('eu')")
    pg.execute("INSERT INTO events VALUES (1, 'eu', 'x')")
    try:
        with pytest.raises(KeyColumnError, match=r"'line' is part of the primary key \(order_id, line\)"):
            lk.build_rename_column_migration(pg.table("lines"), "line", "line_no")
        with pytest.raises(lk.ColumnNotFoundError, match="does not exist"):
            lk.build_rename_column_migration(pg.table("lines"), "nope", "line_no")
        before = pg.table("events").catalog()
        assert before.partition_key == "LIST (region)"
        plan = lk.build_rename_column_migration(pg.table("events"), "region", "area")
        with pytest.raises(PreflightError, match="partition key"):
            lk.MigrationRunner(pg.table("events")).execute_plan(plan)
        assert pg.table("events").catalog() == before
    finally:
        reset_database(pg)


@pytest.mark.parametrize("build", ["index", "foreign key", "not null"])
def test_a_plan_of_one_app_version_leaves_no_view_to_block_the_next_drop(pg, build):
    """Finding 9: a completed index or foreign-key plan left a labkit_v1 view that blocked the next ordinary
    DROP COLUMN (a plan with one app version needs no view: the app keeps using the table)."""
    reset_database(pg)
    pg.execute("CREATE TABLE accounts (id bigint PRIMARY KEY)")
    users = pg.import_table(lk.lab.make_users(20, seed=2))
    pg.execute("ALTER TABLE users ADD COLUMN account_id bigint")
    plans = {
        "index": lambda: lk.build_add_index_migration(users, "email"),
        "foreign key": lambda: lk.build_add_foreign_key_migration(users, "account_id", "accounts (id)"),
        "not null": lambda: lk.build_set_not_null_migration(users, "email"),
    }
    assert lk.MigrationRunner(users).execute_plan(plans[build]()).ok
    assert users.views == ()
    pg.execute("ALTER TABLE users DROP COLUMN name")  # the team's next ordinary change
    assert "name" not in users.column_names
    reset_database(pg)


def test_with_search_path_app_the_deploy_advice_names_the_apps_schema(pg_url, tmp_path):
    """Finding 9: with search_path = app, a copy ran start -> complete; the advice for the deploy said
    ``search_path = labkit_v2,public``, where the app's tables are in app."""
    from tests.conftest import labkit

    with lk.connect(pg_url) as db:
        reset_database(db)
        db.execute("DROP SCHEMA IF EXISTS app CASCADE")
        db.execute("CREATE SCHEMA app")
    url = pg_url + ("&" if "?" in pg_url else "?") + "options=-csearch_path%3Dapp"
    try:
        with lk.connect(url) as db:
            users = db.import_table(lk.lab.make_users(30, seed=1))
            assert db.query("SELECT current_schema()") == [("app",)]
            lk.save_plan(lk.build_rename_column_migration(users, "name", "full_name", batch_size=10),
                         tmp_path / "plan.json")  # fmt: skip
        started = labkit("start", "plan.json", "--db", url, cwd=tmp_path)
        assert started.returncode == 0 and "search_path = labkit_v2,app)" in started.stdout, started.stdout
        done = labkit("complete", "--db", url, cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        with lk.connect(url) as db:
            assert "full_name" in db.table("users").column_names
    finally:
        with lk.connect(pg_url) as db:
            db.execute("DROP SCHEMA app CASCADE")
            reset_database(db)


@pytest.mark.parametrize(("sql_type", "collation", "storage"), [("varchar(20)", '"C"', "EXTERNAL"),
                                                                 ("integer", None, None)])  # fmt: skip
def test_a_type_change_keeps_what_the_new_type_can_hold(pg, sql_type, collation, storage):
    """Finding 8 with a type change: the collation and the storage go to a copy that can hold them (text-like),
    not to an integer (PostgreSQL refuses COLLATE and EXTERNAL there); the statistics target goes to both."""
    reset_database(pg)
    pg.execute('CREATE TABLE codes (id bigint PRIMARY KEY, code text COLLATE "C")')
    pg.execute("ALTER TABLE codes ALTER COLUMN code SET STORAGE EXTERNAL")
    pg.execute("ALTER TABLE codes ALTER COLUMN code SET STATISTICS 200")
    pg.execute("INSERT INTO codes SELECT i, i::text FROM generate_series(1, 50) i")
    try:
        codes = pg.table("codes")
        plan = lk.build_change_type_migration(codes, "code", "code_new", sql_type, batch_size=20)
        result = lk.MigrationRunner(codes).execute_plan(plan)
        assert result.status == "completed", result.summary()
        column = codes.catalog().column("code_new")
        assert (column.collation, column.storage, column.statistics) == (collation, storage, 200)
        assert pg.query("SELECT count(*) FROM codes WHERE code_new::text = id::text") == [(50,)]
    finally:
        reset_database(pg)
