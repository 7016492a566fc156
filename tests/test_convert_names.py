"""``labkit convert`` on the names and text real migrations have (issue 32): the table a statement names, in the schema
it names or its search path resolves to, is the table the plan changes, whatever the file's comments hold; a column
named like a keyword does not crash the catalog; statements about the session are said what became of them.

Each test compares the table the statement names with its twin in another schema: every row and the catalog of the
twin are unchanged, the named one is changed as the statement says."""

from __future__ import annotations

import contextlib
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labkit as lk
from labkit.cli import main
from labkit.convert import as_sql, convert_sql, plans_by_table
from tests.conftest import complete_plan


def _twins(db: lk.Database) -> None:
    """public.users and app.users, the same shape and rows: a reserved-word column, a serial named ``timestamp``, an
    index of the same name in each schema (PostgreSQL names indexes per schema)."""
    db.execute("DROP SCHEMA IF EXISTS app CASCADE")
    db.execute("CREATE SCHEMA app")
    for schema in ("public", "app"):
        db.execute(f'CREATE TABLE {schema}.users (id bigint PRIMARY KEY, email text, price_v2 numeric(10,2), '
                   f'price numeric(10,2), "offset" integer, "timestamp" serial, "limit" text, note text)')  # fmt: skip
        db.execute(f"INSERT INTO {schema}.users (id, email, price_v2, price, \"offset\", \"limit\", note) "
                   f"SELECT g, 'u' || g || '@{schema}.example', g, g * 2, g, 'l', 'n' FROM generate_series(1, 40) g")
        db.execute(f"CREATE INDEX users_note_idx ON {schema}.users (note)")
        db.execute(f"CREATE INDEX users_email_idx ON {schema}.users (email)")


def _rows(db: lk.Database, ref: str) -> list[tuple]:
    return db.query(f"SELECT * FROM {ref} ORDER BY id")


def test_a_table_with_keyword_and_serial_columns_reads_and_converts(pg):
    """pg_get_serial_sequence takes the column's name as it is (quoted, "timestamp" named no column: a traceback
    from every command that reads the catalog)."""
    _twins(pg)
    catalog = pg.table("users").catalog()
    assert catalog.column("timestamp").sequence == "users_timestamp_seq", catalog.column("timestamp")
    (conversion,) = convert_sql("ALTER TABLE users ADD COLUMN seen integer DEFAULT 0", pg)
    assert conversion.plan is not None, str(conversion)


@pytest.mark.parametrize("how", ["qualified", "search_path"])
def test_a_statement_on_another_schemas_table_changes_that_table_through_the_plan_file(pg, pg_url, tmp_path, how,
                                                                                        capsys):  # fmt: skip
    """``ALTER TABLE app.users DROP COLUMN email`` (or the bare name after ``SET search_path TO app``), converted,
    saved, started and completed from the plan file alone: app.users loses email, public.users keeps every row and
    column (the plan file dropped the schema once, and public.users.email with its data went)."""
    _twins(pg)
    public_before, public_catalog = _rows(pg, "public.users"), pg.table("users").catalog()
    sql = ("ALTER TABLE app.users DROP COLUMN email;\n" if how == "qualified"
           else "SET search_path TO app, public;\nALTER TABLE users DROP COLUMN email;\n")  # fmt: skip
    (tmp_path / "m.sql").write_text(sql)
    assert main(["convert", str(tmp_path / "m.sql"), "--db", pg_url, "-o", str(tmp_path / "p.json")]) == 0
    assert json.loads((tmp_path / "p.json").read_text())["steps"][0]["table"] == "app.users"
    assert main(["start", str(tmp_path / "p.json"), "--db", pg_url]) == 0
    assert complete_plan(pg_url, "--table", "app.users") == 0
    capsys.readouterr()
    assert "email" not in pg.table("app.users").column_names
    assert _rows(pg, "public.users") == public_before and pg.table("users").catalog() == public_catalog
    assert pg.query("SELECT count(*) FROM app.users")[0][0] == 40


def test_a_plan_for_one_schemas_table_is_refused_on_another(pg):
    _twins(pg)
    (conversion,) = convert_sql("ALTER TABLE app.users DROP COLUMN note", pg)
    with pytest.raises(lk.StepDoesNotFitError, match=r"app\.users"):
        lk.MigrationRunner(pg.table("users")).execute_plan(conversion.plan)
    assert "note" in pg.table("users").column_names


def test_drop_index_finds_the_index_in_the_schema_it_names_and_drops_each_one_listed(pg):
    _twins(pg)
    drops = convert_sql("DROP INDEX app.users_note_idx, users_email_idx;\nDROP INDEX IF EXISTS app.nope", pg)
    assert [(c.table, c.plan is not None) for c in drops[:2]] == [("app.users", True), ("users", True)]
    assert drops[2].plan is None and drops[2].noted and "IF EXISTS" in drops[2].noted
    for plan in plans_by_table(drops):
        table = pg.table(plan.table)
        assert lk.MigrationRunner(table).execute_plan(plan).status == "completed"
    indexes = {s: {i.name for i in pg.table(t).catalog().indexes} for s, t in (("public", "users"),
                                                                               ("app", "app.users"))}  # fmt: skip
    assert indexes == {"public": {"users_pkey", "users_note_idx"}, "app": {"users_pkey", "users_email_idx"}}
    (missing,) = convert_sql("DROP INDEX app.nope", pg)
    assert missing.refused and "no index 'nope' in schema 'app'" in missing.refused


def test_statements_are_cut_from_the_text_after_any_comment(pg, pg_url, tmp_path, capsys):
    """pglast's positions are characters of the string: cut from its UTF-8 bytes, "é", "—" and "注文" before a
    statement shifted it onto the next column's name (``DROP COLUMN price`` for ``price_v2``: data lost)."""
    _twins(pg)
    sql = ("-- Prix révisé — 注文の価格 (second version)\n/* éèà — 価格 */\n"
           "ALTER TABLE users DROP COLUMN price_v2;\n-- ünïcödé\nALTER TABLE users RENAME COLUMN note TO remark;\n")
    first, second = convert_sql(sql, pg)
    assert first.statement == "ALTER TABLE users DROP COLUMN price_v2"
    assert second.statement == "ALTER TABLE users RENAME COLUMN note TO remark"
    assert [s.kind for s in first.plan.steps] == ["drop_column"] and first.plan.steps[0].column == "price_v2"
    (tmp_path / "m.sql").write_text(sql, encoding="utf-8")
    assert main(["convert", str(tmp_path / "m.sql"), "--db", pg_url, "-o", str(tmp_path / "p.json")]) == 0
    capsys.readouterr()


def test_the_statements_left_for_later_keep_the_search_path_they_were_read_under(pg, pg_url, tmp_path, capsys):
    _twins(pg)
    (tmp_path / "m.sql").write_text("SET search_path TO app;\nALTER TABLE users RENAME COLUMN note TO remark;\n"
                                    "ALTER TABLE users ADD COLUMN seen integer DEFAULT 0;\n")  # fmt: skip
    conversions = convert_sql((tmp_path / "m.sql").read_text(), pg)
    assert as_sql(conversions[1:]).startswith('SET search_path TO "app";\nALTER TABLE users RENAME')
    assert main(["convert", str(tmp_path / "m.sql"), "--db", pg_url, "-o", str(tmp_path / "p.json")]) == 0
    capsys.readouterr()
    rest = tmp_path / "p.rest.sql"
    if rest.exists():  # the two became two plans: what is left names app.users still
        assert rest.read_text().startswith('SET search_path TO "app";')
        (later,) = [c for c in convert_sql(rest.read_text(), pg) if c.plan is not None]
        assert later.table == "app.users"


def test_session_statements_are_each_said_what_became_of_them(pg):
    _twins(pg)
    sql = ("BEGIN;\nSET lock_timeout = '2s';\nSET statement_timeout TO 0;\nSET CONSTRAINTS ALL DEFERRED;\n"
           "ALTER TABLE users ALTER COLUMN note DROP NOT NULL;\nCOMMIT;\nSET work_mem = '64MB'")
    out = convert_sql(sql, pg)
    assert [c.kind for c in out] == ["begin", "set lock_timeout", "set statement_timeout", "set constraints",
                                     "drop not null", "commit", "set work_mem"]  # fmt: skip
    assert all(c.noted for c in out[:6]), [str(c) for c in out]  # note takes NULL already: nothing to do
    assert "already takes NULL" in out[4].noted and out[4].plan is None
    assert out[6].refused and "work_mem" in out[6].refused


def test_alembics_own_bookkeeping_is_left_out_by_what_it_acts_on_not_by_its_text(pg):
    from pglast import parse_sql

    from labkit.convert import _alembics_own

    kept = "COMMENT ON COLUMN users.note IS 'see alembic_version for the revision'"
    dropped = ["CREATE TABLE alembic_version (version_num varchar(32) NOT NULL)",
               "INSERT INTO alembic_version (version_num) VALUES ('a1')",
               "UPDATE alembic_version SET version_num='a2' WHERE alembic_version.version_num = 'a1'"]  # fmt: skip
    assert not _alembics_own(parse_sql(kept)[0].stmt)
    assert all(_alembics_own(parse_sql(s)[0].stmt) for s in dropped)


# Each option of a statement, converted: the plan's end catalog is the statement's own (column order aside), under
# the app's writes (issue 32, part 3). ext."Accounts"/"Id": a referenced table whose names need their quotes.
OPTIONS = {
    "fk: ON UPDATE, ON DELETE, MATCH FULL, DEFERRABLE": 'ALTER TABLE users ADD CONSTRAINT users_acc_fk FOREIGN KEY '
    '(account_id) REFERENCES ext."Accounts" ("Id") MATCH FULL ON UPDATE CASCADE ON DELETE SET NULL DEFERRABLE '
    "INITIALLY DEFERRED",
    "fk: NOT VALID stays not validated": "ALTER TABLE users ADD CONSTRAINT users_acc_fk FOREIGN KEY (account_id) "
    'REFERENCES ext."Accounts" ("Id") NOT VALID',
    "fk: unnamed": 'ALTER TABLE users ADD FOREIGN KEY (account_id) REFERENCES ext."Accounts" ("Id") ON DELETE CASCADE',
    "check: NO INHERIT": "ALTER TABLE users ADD CONSTRAINT visits_cap CHECK (visits < 1000000) NO INHERIT",
    "check: NOT VALID": "ALTER TABLE users ADD CONSTRAINT visits_cap CHECK (visits < 1000000) NOT VALID",
    "add column: COLLATE": 'ALTER TABLE users ADD COLUMN code text COLLATE "C"',
    "add column: NULL": "ALTER TABLE users ADD COLUMN code varchar(12) NULL",
    "add column: numeric(14,2) DEFAULT": "ALTER TABLE users ADD COLUMN credit numeric(14,2) DEFAULT 0.00",
    "add column: inline REFERENCES DEFERRABLE": "ALTER TABLE users ADD COLUMN acc bigint NULL REFERENCES "
    'ext."Accounts" ("Id") ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED',
    "add column: inline CHECK": "ALTER TABLE users ADD COLUMN score integer DEFAULT 0 CHECK (score >= 0)",
    "add column: volatile default, NOT NULL": "ALTER TABLE users ADD COLUMN token uuid NOT NULL "
    "DEFAULT gen_random_uuid()",
    "add column: volatile default": "ALTER TABLE users ADD COLUMN seen_at timestamptz DEFAULT clock_timestamp()",
    "index: USING hash": "CREATE INDEX users_email_hash ON users USING hash (email)",
    "index: INCLUDE, WHERE": "CREATE INDEX users_visits_inc ON users (visits) INCLUDE (email) WHERE visits > 10",
    "index: opclass, collation": 'CREATE INDEX users_email_pat ON users (email COLLATE "C" text_pattern_ops)',
    "index: UNIQUE NULLS NOT DISTINCT": "CREATE UNIQUE INDEX users_note_uq ON users (note) NULLS NOT DISTINCT",
}


@pytest.mark.parametrize("option", list(OPTIONS))
def test_each_option_of_a_statement_reaches_the_plan(pg, option):
    from tests.test_convert import _make, _under_writes, _unordered

    def make() -> lk.DbTable:
        pg.execute("DROP SCHEMA IF EXISTS ext CASCADE")
        users = _make(pg)
        pg.execute('CREATE SCHEMA ext; CREATE TABLE ext."Accounts" ("Id" bigint PRIMARY KEY)')
        pg.execute('INSERT INTO ext."Accounts" SELECT g FROM generate_series(1, 3) g')
        return users

    sql = OPTIONS[option]
    try:
        twin = make()
        pg.execute(sql)
        expected = _unordered(twin.catalog())
        users = make()
        conversions = convert_sql(sql, pg)
        assert all(c.plan is not None for c in conversions), [str(c) for c in conversions]
        (plan,) = plans_by_table(conversions)
        _under_writes(users, plan)
        assert _unordered(users.catalog()) == expected
        if "volatile" in option:  # each row its own value, as the statement gives it; none left NULL
            column = "token" if "token" in sql else "seen_at"
            assert pg.query(f"SELECT count(*) FILTER (WHERE {column} IS NULL), count(DISTINCT {column}) > 1 "
                            "FROM users")[0] == (0, True)  # fmt: skip
    finally:  # the schema goes with the test (reset_database empties the current one only)
        pg.execute("DROP SCHEMA IF EXISTS ext CASCADE")


TYPE_CHANGES = [  # (old, new, PostgreSQL rewrites the table): each claim is checked against the server below
    ("varchar(500)", "varchar(6000)", False),
    ("varchar(500)", "text", False),
    ("varchar(500)", "varchar", False),
    ("text", "varchar", False),
    ("numeric(10,2)", "numeric(14,2)", False),
    ("numeric(10,2)", "numeric", False),
    ("cidr", "inet", False),
    ("varchar(500)", "varchar(20)", True),
    ("text", "varchar(20)", True),
    ("numeric(10,2)", "numeric(14,4)", True),
    ("numeric(10,2)", "numeric(8,2)", True),
    ("integer", "bigint", True),
    ("char(5)", "char(10)", True),
    ("timestamp", "timestamptz", True),
]


@pytest.mark.parametrize(("old", "new", "rewrites"), TYPE_CHANGES)
def test_a_type_change_is_called_catalog_only_exactly_when_the_server_keeps_the_tables_file(pg, old, new, rewrites):
    """labkit's rule (binary-coercible casts, typmod widening) against the server's own act: the table's relfilenode
    is unchanged by ALTER COLUMN TYPE exactly when labkit says the catalog alone changes."""
    pg.execute(f"CREATE TABLE probe (id bigint PRIMARY KEY, c {old})")
    pg.execute("INSERT INTO probe SELECT g, NULL FROM generate_series(1, 10) g")
    said = pg.dialect.type_change_rewrites(pg, "probe", "c", new)
    before = pg.query("SELECT relfilenode FROM pg_class WHERE oid = 'probe'::regclass")[0][0]
    pg.execute(f"ALTER TABLE probe ALTER COLUMN c TYPE {new}")
    after = pg.query("SELECT relfilenode FROM pg_class WHERE oid = 'probe'::regclass")[0][0]
    if said:  # a rewrite said may be a conservative call (timestamp -> timestamptz under UTC): never the reverse
        assert rewrites, (old, new, "labkit said rewrite where it expected none")
    else:
        assert before == after, (old, new, "labkit said catalog-only, the server rewrote the table")
    assert said == rewrites, (old, new)


def test_a_catalog_only_type_change_is_said_instant_and_runs_as_written_only_when_asked(pg, pg_url, tmp_path,
                                                                                       capsys):  # fmt: skip
    """varchar(500) -> varchar(6000): PostgreSQL changes the catalog alone, and convert says so. But an app's
    server-side prepared statements that return the column then fail once each ("cached plan must not change result
    type"): the default stays the copy, under which the preparing app fails nothing; --in-catalog runs it as written,
    the table's file unchanged, and an app that prepares no statement fails nothing either. The app that prepares
    does fail under it: what the conversion's note says is what the server does."""
    from tests.test_convert import _make, _unordered

    sql = "ALTER TABLE users ALTER COLUMN note TYPE varchar(6000)"

    def make() -> lk.DbTable:
        users = _make(pg)
        pg.execute("ALTER TABLE users ALTER COLUMN note TYPE varchar(500)")
        return users

    twin = make()
    pg.execute(sql)
    expected = _unordered(twin.catalog())

    def run(plan: lk.MigrationPlan, table: lk.DbTable, *, prepared: bool) -> list[str]:
        from labkit.course.workload import AppWorkload

        with AppWorkload(table, plan, threads=2, seed=7, rollout_requests=3, prepared=prepared,
                         read_ratio=0.8) as load:  # fmt: skip
            assert load.wait_for_writes(40)  # past psycopg's five runs: its statements are prepared by now
            assert lk.MigrationRunner(table, observers=[load]).execute_plan(plan).status == "completed"
            assert load.wait_for_writes(20)
        assert load.audit(table) == 0 and load.lost_writes == 0
        return sorted({r.error.split(":")[1].strip() for r in load.failed if r.error})

    users = make()
    (copy,) = convert_sql(sql, pg)
    assert copy.kind == "change type in the catalog" and "instant" in copy.naive_lock
    assert "--in-catalog note" in copy.instead and len(copy.plan.steps) > 3
    assert run(copy.plan, users, prepared=True) == []
    assert _unordered(users.catalog()) == expected

    for prepared, failures in ((False, []), (True, ["cached plan must not change result type"])):
        users = make()
        (written,) = convert_sql(sql, pg, in_catalog=["note"])
        assert [s.kind for s in written.plan.steps] == ["change_type_in_place"] and "as written" in written.instead
        file_before = pg.query("SELECT relfilenode FROM pg_class WHERE oid = 'users'::regclass")[0][0]
        assert run(written.plan, users, prepared=prepared) == failures
        assert pg.query("SELECT relfilenode FROM pg_class WHERE oid = 'users'::regclass")[0][0] == file_before
        assert _unordered(users.catalog()) == expected
    make()
    (tmp_path / "m.sql").write_text(sql + ";\n")
    assert main(["convert", str(tmp_path / "m.sql"), "--db", pg_url, "--in-catalog", "note", "-o",
                 str(tmp_path / "p.json")]) == 0  # fmt: skip
    assert "run as written" in capsys.readouterr().out
    assert [s.kind for s in lk.load_plan(tmp_path / "p.json").steps] == ["change_type_in_place"]


KEPT_AS_THE_STATEMENT = {  # (what the table has first, the statement): converted, run, the end catalog the same
    "drop constraint: a CHECK": ("", "ALTER TABLE users DROP CONSTRAINT users_visits_check"),
    "drop constraint IF EXISTS: a foreign key": (
        "ALTER TABLE users ADD CONSTRAINT users_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id)",
        "ALTER TABLE users DROP CONSTRAINT IF EXISTS users_account_fk"),
    "drop constraint: a UNIQUE and its index": (
        "ALTER TABLE users ADD CONSTRAINT users_note_key UNIQUE (note)",
        "ALTER TABLE users DROP CONSTRAINT users_note_key"),
    "add primary key: nullable columns made NOT NULL first": (
        "CREATE TABLE memberships (org bigint, member bigint, role text); "
        "INSERT INTO memberships SELECT g % 7, g, 'r' FROM generate_series(1, 300) g",
        "ALTER TABLE memberships ADD CONSTRAINT memberships_pkey PRIMARY KEY (org, member)"),
    "create index on a column of a composite key": (
        "CREATE TABLE memberships (org bigint, member bigint, role text, PRIMARY KEY (org, member)); "
        "INSERT INTO memberships SELECT g % 7, g, 'r' FROM generate_series(1, 300) g",
        "CREATE INDEX memberships_member_idx ON memberships (member)"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(KEPT_AS_THE_STATEMENT))
def test_what_real_projects_ship_converts_to_the_statements_end_state(pg, case):
    from tests.test_convert import _make, _under_writes, _unordered

    first, sql = KEPT_AS_THE_STATEMENT[case]
    target = "memberships" if "memberships" in sql else "users"

    def make() -> lk.DbTable:
        _make(pg)
        pg.execute("DROP TABLE IF EXISTS memberships")
        for statement in filter(None, first.split("; ")):
            pg.execute(statement)
        return pg.table(target)

    twin = make()
    pg.execute(sql)
    expected = _unordered(pg.table(target).catalog())
    assert twin.name == target
    table = make()
    (conversion,) = convert_sql(sql, pg)
    assert conversion.plan is not None, str(conversion)
    if target == "users":
        _under_writes(table, conversion.plan)
    else:  # memberships has no key the app model writes by before the plan: the plan alone, its SQL checked
        assert lk.MigrationRunner(table).execute_plan(conversion.plan).status == "completed"
    assert _unordered(pg.table(target).catalog()) == expected


def test_a_drop_constraint_that_cannot_run_is_refused_saying_what_to_do(pg):
    from tests.test_convert import _make

    _make(pg)
    pg.execute("ALTER TABLE accounts ADD COLUMN owner bigint")
    pg.execute("ALTER TABLE users ADD CONSTRAINT users_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id)")
    missing, cascade, needed, absent = convert_sql(
        "ALTER TABLE users DROP CONSTRAINT nope; ALTER TABLE users DROP CONSTRAINT users_account_fk CASCADE; "
        "ALTER TABLE accounts DROP CONSTRAINT accounts_pkey; ALTER TABLE users DROP CONSTRAINT IF EXISTS nope", pg)
    assert missing.refused and "no constraint 'nope'" in missing.refused
    assert cascade.refused and "CASCADE" in cascade.refused
    assert needed.refused and "users.users_account_fk" in needed.refused
    assert absent.noted and "IF EXISTS" in absent.noted


def test_statements_naming_what_an_earlier_one_adds_become_one_plan(pg, pg_url, tmp_path, capsys):
    """What Django's sqlmigrate prints for a ForeignKey added to a model (PostgreSQL backend, Django 4.2/5.x): the
    column with its key inline DEFERRABLE, SET CONSTRAINTS ... IMMEDIATE, then the index on the new column. One
    plan, one start and complete, the end catalog the statements' own, under the app's writes."""
    from tests.test_convert import _make, _under_writes, _unordered

    sql = ('ALTER TABLE "users" ADD COLUMN "account_ref_id" bigint NULL CONSTRAINT '
           '"users_account_ref_id_4f3a_fk_accounts_id" REFERENCES "accounts"("id") DEFERRABLE INITIALLY DEFERRED; '
           'SET CONSTRAINTS "users_account_ref_id_4f3a_fk_accounts_id" IMMEDIATE; '
           'CREATE INDEX "users_account_ref_id_4f3a" ON "users" ("account_ref_id"); '
           "COMMENT ON COLUMN users.account_ref_id IS 'the account it bills'")  # fmt: skip
    twin = _make(pg)
    for statement in sql.split("; "):
        pg.execute(statement)
    expected = _unordered(twin.catalog())
    users = _make(pg)
    conversions = convert_sql(sql, pg)
    assert [c.plan is not None or bool(c.noted) for c in conversions] == [True] * 4, [str(c) for c in conversions]
    (plan,) = plans_by_table(conversions)
    _under_writes(users, plan)
    assert _unordered(users.catalog()) == expected
    users = _make(pg)
    (tmp_path / "m.sql").write_text(sql + ";\n")
    assert main(["convert", str(tmp_path / "m.sql"), "--db", pg_url, "-o", str(tmp_path / "p.json")]) == 0
    assert not (tmp_path / "p.rest.sql").exists()
    needs_rows = convert_sql("ALTER TABLE users ADD COLUMN seen integer; ALTER TABLE users ALTER seen SET NOT NULL",
                             pg)  # fmt: skip
    assert needs_rows[1].refused and "convert and run the statements before it first" in needs_rows[1].refused
    capsys.readouterr()


def test_a_type_change_complete_could_never_verify_is_refused_before_any_change(pg):
    """A USING with a subquery, over another column, or volatile, and a way back that does not undo it on the table's
    own rows: each refused at convert, saying why (complete could never verify the copy, or a rollback would write
    other values back); a way back that undoes it converts."""
    from tests.test_convert import _make

    _make(pg)
    before = pg.query("SELECT * FROM users ORDER BY id")

    def refused(sql: str, **kw) -> str:
        (c,) = convert_sql(sql, pg, **kw)
        assert c.plan is None and c.refused, str(c)
        return c.refused

    assert "subquery" in refused("ALTER TABLE users ALTER COLUMN visits TYPE bigint USING (SELECT max(id) FROM "
                                 "accounts)", back={"visits": lk.SQL("visits_labkit_new")})  # fmt: skip
    assert "names account_id besides visits" in refused("ALTER TABLE users ALTER COLUMN visits TYPE bigint USING "
                                                        "visits + account_id", copy_as={"visits": "v2"})  # fmt: skip
    assert "volatile" in refused("ALTER TABLE users ALTER COLUMN visits TYPE bigint USING visits + "
                                 "(random() * 0)::int", copy_as={"visits": "v2"})  # fmt: skip
    assert "does not undo" in refused("ALTER TABLE users ALTER COLUMN visits TYPE bigint USING visits * 2",
                                      back={"visits": lk.SQL("visits_labkit_new / 3")})  # fmt: skip
    (good,) = convert_sql("ALTER TABLE users ALTER COLUMN visits TYPE bigint USING visits * 2",
                          pg, back={"visits": lk.SQL("visits_labkit_new / 2")})  # fmt: skip
    assert good.plan is not None, str(good)
    assert pg.query("SELECT * FROM users ORDER BY id") == before  # convert changed nothing


def test_a_new_table_and_what_goes_on_it_run_as_written_first(pg, pg_url, tmp_path, capsys):
    """Django's initial migrations: CREATE TABLE, its indexes, its foreign keys to tables in use. Nothing uses the
    new table: each statement runs as written, before the plan (PLAN.before.sql, under a lock_timeout), and the
    statement on a table in use is converted as usual."""
    _twins(pg)
    sql = ('CREATE TABLE "tags" ("id" bigint NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, '
           '"name" varchar(100) NOT NULL UNIQUE, "user_id" bigint NOT NULL);\n'
           'ALTER TABLE "tags" ADD CONSTRAINT "tags_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "users" ("id") '
           "DEFERRABLE INITIALLY DEFERRED;\n"
           'CREATE INDEX "tags_user_id_idx" ON "tags" ("user_id");\n'
           'ALTER TABLE "users" ADD COLUMN "tag_count" integer DEFAULT 0 NOT NULL;\n')  # fmt: skip
    (tmp_path / "m.sql").write_text(sql)
    assert main(["convert", str(tmp_path / "m.sql"), "--db", pg_url, "-o", str(tmp_path / "p.json")]) == 0
    out = capsys.readouterr().out
    assert out.count("run as written, before the plans") == 3 and "converted: add users.tag_count" in out
    before = (tmp_path / "p.before.sql").read_text()
    assert "SET lock_timeout" in before and before.count("tags") >= 4 and "tag_count" not in before
    pg.execute(before)
    assert main(["start", str(tmp_path / "p.json"), "--db", pg_url]) == 0  # one expand step: start completes it
    capsys.readouterr()
    assert {i.name for i in pg.table("tags").catalog().indexes} >= {"tags_user_id_idx", "tags_name_key"}
    assert "tag_count" in pg.table("users").column_names


def test_an_update_in_a_migration_runs_in_journaled_batches_to_the_statements_rows(pg):
    """A data migration's UPDATE: the converted plan leaves every row as the statement would (no app writing), loses
    no app write while the app writes, and a rollback puts every old value back."""
    from tests.test_convert import _make, _under_writes

    sql = "UPDATE users SET note = upper(note) || '!' WHERE visits > 10"
    _make(pg)
    pg.execute(sql)
    expected = pg.query("SELECT * FROM users ORDER BY id")
    users = _make(pg)
    before = pg.query("SELECT * FROM users ORDER BY id")
    (c,) = convert_sql(sql, pg)
    assert c.kind == "update"
    assert [s.kind for s in c.plan.steps] == ["add_column", "guard_fix", "fix_rows", "drop_journals"]
    assert lk.MigrationRunner(users, fail_at="drop_journals").execute_plan(c.plan).status == "rolled_back"
    assert pg.query("SELECT * FROM users ORDER BY id") == before and users.column_names == [
        "id", "name", "email", "visits", "account_id", "note"]  # fmt: skip
    assert lk.MigrationRunner(users).execute_plan(c.plan).status == "completed"
    assert pg.query("SELECT * FROM users ORDER BY id") == expected
    users = _make(pg)
    _under_writes(users, c.plan)
    (two,) = convert_sql("UPDATE users SET note = 'x', name = 'y'", pg)
    assert two.refused and "one statement per column" in two.refused


ODD_COLUMNS = ['"Kind"', '"user"', '"naïve"', '"with space"', '"CreatedAt"', '"9lives"', '"x.y"', "note"]


@pytest.mark.parametrize("sql", [
    "ALTER TABLE events ADD COLUMN seen integer DEFAULT 0",
    'ALTER TABLE events DROP COLUMN "Kind"',
    'CREATE INDEX "Events_CreatedAt_idx" ON events ("CreatedAt")',
    'ALTER TABLE events RENAME COLUMN "user" TO "Owner"',
    'ALTER TABLE events ALTER COLUMN "naïve" SET NOT NULL',
    'ALTER TABLE events ALTER COLUMN "with space" TYPE varchar(40)',
    'ALTER TABLE events ADD CONSTRAINT "lives_check" CHECK ("9lives" <> \'\')',
    'COMMENT ON COLUMN events."x.y" IS \'dotted\'',
])  # fmt: skip
def test_columns_named_as_ef_core_and_friends_name_them_convert_and_run(pg, sql):
    """Mixed case (EF Core's "CreatedAt"), a reserved word, non-ASCII, a space, a leading digit, a dot: column names
    PostgreSQL takes quoted (labkit refuses only a quote character, NUL or control character in one). A table
    holding such columns converts and runs under the app's writes to the statement's own end catalog (a table
    holding one used to refuse every statement, touched or not)."""
    from tests.test_convert import _under_writes, _unordered

    def make() -> lk.DbTable:
        pg.execute("DROP TABLE IF EXISTS events")
        columns = ", ".join(c + " text" for c in ODD_COLUMNS)
        pg.execute(f"CREATE TABLE events (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, {columns})")
        values = ", ".join("'v'" for _ in ODD_COLUMNS)
        pg.execute(f"INSERT INTO events ({', '.join(ODD_COLUMNS)}) SELECT {values} FROM generate_series(1, 60) g")
        return pg.table("events")

    make()
    pg.execute(sql)
    expected = _unordered(pg.table("events").catalog())
    events = make()
    conversions = convert_sql(sql, pg)
    assert all(c.plan is not None for c in conversions), [str(c) for c in conversions]
    (plan,) = plans_by_table(conversions)
    _under_writes(events, plan)
    assert _unordered(pg.table("events").catalog()) == expected


# Any column name labkit takes (a property): letters of any case and script, digits, spaces, dots, punctuation and
# keywords, up to 63 bytes; no quote character, '%', control character, or blank edge (those are refused).
_NAME_CHARS = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters='"`%\x00')
COLUMN_NAMES = st.one_of(
    st.sampled_from(["user", "order", "select", "timestamp", "offset", "CreatedAt", "Id_", "naïve", "注文", "a.b"]),
    st.text(_NAME_CHARS, min_size=1, max_size=20).map(str.strip).filter(
        lambda s: s and len(s.encode()) <= 40 and s.lower() not in ("id", "note", "seen")),
)  # fmt: skip


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=COLUMN_NAMES)
def test_any_column_name_converts_renames_and_drops_with_every_row_kept(pg, name):
    """For a generated column name: a table holding it converts an ADD COLUMN, a rename of it, a COMMENT and a
    DROP of it, and each plan runs to the statement's catalog with every row of the other columns kept."""
    from labkit.backends.postgresql import quote

    q = quote(name)
    pg.execute("DROP TABLE IF EXISTS odd")
    pg.execute(f"CREATE TABLE odd (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, {q} text, note text)")
    pg.execute(f"INSERT INTO odd ({q}, note) SELECT 'v' || g, 'n' || g FROM generate_series(1, 30) g")
    odd = pg.table("odd")
    notes = pg.query("SELECT id, note FROM odd ORDER BY id")
    for sql in ("ALTER TABLE odd ADD COLUMN seen integer DEFAULT 0", f"COMMENT ON COLUMN odd.{q} IS 'odd'",
                f"ALTER TABLE odd RENAME COLUMN {q} TO renamed", f"ALTER TABLE odd RENAME COLUMN renamed TO {q}",
                f"ALTER TABLE odd DROP COLUMN {q}"):  # fmt: skip
        (c,) = convert_sql(sql, pg)
        assert c.plan is not None, (name, str(c))
        result = lk.MigrationRunner(odd).execute_plan(c.plan)
        assert result.status == "completed", (name, sql, result.summary())
        with contextlib.redirect_stdout(io.StringIO()):
            main(["retire", "--db", pg.url, "--table", "odd"])
    assert name not in odd.column_names and pg.query("SELECT id, note FROM odd ORDER BY id") == notes
