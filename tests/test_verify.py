"""The copy checked before the contract (issue 22): every row's new value against what its source says, on both
engines; a deliberately wrong dual write is caught, named by key range, and ``complete`` refuses to drop."""

from __future__ import annotations

import dataclasses

import labkit as lk
from labkit import lab
from labkit.verify import verify_copy
from tests.conftest import complete_plan, labkit


def test_a_right_copy_verifies_and_complete_says_so(db, tmp_path):
    users = db.import_table(lab.make_users(3000, seed=1))
    plan = lk.build_rename_column_migration(users, "name", "full_name")
    assert lk.MigrationRunner(users, until_phase="contract").execute_plan(plan).status == "stopped"
    users.update(5, {"full_name": "Ünïcode ' name"})  # the new app's write, carried back by the dual write
    checked = verify_copy(users, plan, rows_per_range=700)
    assert checked.ok and checked.columns == ["full_name"] and checked.rows == 3000 and checked.ranges == 1  # one read
    lk.save_plan(plan, tmp_path / "plan.json")
    done = labkit("complete", "plan.json", "--db", db.url, cwd=tmp_path)
    assert done.returncode == 0 and "verified full_name: 3,000 rows" in done.stderr, done.stdout + done.stderr


def test_a_wrong_dual_write_is_caught_by_key_range_and_complete_refuses_to_drop(db, tmp_path):
    users = db.import_table(lab.make_users(3000, seed=2))
    good = lk.build_add_column_migration(users, "name_upper", backfill=str.upper, source="name",
                                         backfill_sql="upper(name)")  # fmt: skip
    wrong = [dataclasses.replace(s, sql="lower(name)") if isinstance(s, lk.StartDualWrite) else s for s in good.steps]
    plan = lk.MigrationPlan(good.name, wrong, apps=good.apps)  # the trigger computes something else
    assert lk.MigrationRunner(users, until_phase="contract").execute_plan(plan).status == "stopped"
    for row_id in (17, 18, 2900):  # the app writes: the wrong trigger fills name_upper with lower case
        users.update(row_id, {"name": f"Name {row_id}"})
    checked = verify_copy(users, plan, rows_per_range=1000)
    assert checked.ranges == 1 + 3  # the whole table, then its three ranges to say where
    assert not checked.ok and [(m.lo, m.hi, m.rows, m.first) for m in checked.mismatches] == [
        (1, 1000, 2, 17), (2001, 3000, 1, 2900)]  # fmt: skip
    assert "name_upper: 2 row(s) differ in keys 1..1000 (first: 17)" in checked.summary()
    lk.save_plan(plan, tmp_path / "plan.json")
    said = labkit("verify", "plan.json", "--db", db.url, cwd=tmp_path)
    assert said.returncode == 3 and "differ" in said.stdout, said.stdout + said.stderr
    done = labkit("complete", "plan.json", "--db", db.url, cwd=tmp_path)
    assert done.returncode == 3 and "nothing is dropped" in done.stderr, done.stdout + done.stderr
    assert "name_upper" in users.column_names and users.db.query(
        "SELECT count(*) FROM users WHERE name_upper = lower(name) AND name_upper <> upper(name)") == [(3,)]


# (type, the value every row holds, a value `=` calls equal, or cannot compare, that the app reads back otherwise)
EXACT = [
    ("double precision", "0", "-0"),
    ("numeric", "1.0", "1.000"),
    ("box", "(8,8),(7,7)", "(1001,1001),(1000,1000)"),  # box = compares areas
    ("json", '{"a": 1}', '{"a":1}'),  # json has no = at all
    ("point", "(1,2)", "(1,2.5)"),  # nor has point
    ("interval", "1 day", "24 hours"),  # '1 day' = '24 hours'
    ("text[]", "{a,b}", "{a,c}"),
    ("integer[]", "{{1,2},{3,4}}", "{{1,2},{3,5}}"),
    ("jsonb", '{"a": [1, 2]}', '{"a": [1, 3]}'),
    ("tsvector", "a b", "a:1 b"),
    ("bytea", "\\x00ff", "\\x00fe"),
    ("timestamptz", "2026-01-01 00:00:00+00", "2026-01-01 00:00:00.000001+00"),
    ("int4range", "[1,5)", "[1,6)"),
]


def test_verify_compares_what_the_app_reads_back_on_every_kind_of_column(pg):
    """Issue 34: a rename of a json or point column could never complete (verify crashed: no = operator), and verify
    passed copies that `=` calls equal but the application reads back otherwise (-0 for 0, 1.000 for 1.0, a box of
    the same area). Each column is renamed up to the contract, verified, then one row of the copy is changed behind
    the dual write's back (its trigger off) to a value `=` cannot tell apart: verify names that row."""
    columns = ", ".join(f"c{i} {kind}" for i, (kind, _, _) in enumerate(EXACT))
    pg.execute(f"CREATE TABLE kinds (id bigint PRIMARY KEY, {columns})")
    values = ", ".join(f"'{value}'" for _, value, _ in EXACT)
    pg.execute(f"INSERT INTO kinds SELECT g, {values} FROM generate_series(1, 40) g")
    pg.execute("INSERT INTO kinds (id) VALUES (41)")  # NULL in every column
    table = pg.table("kinds")
    for i, (kind, _, twin) in enumerate(EXACT):
        plan = lk.build_rename_column_migration(table, f"c{i}", f"c{i}_new")
        assert lk.MigrationRunner(table, until_phase="contract").execute_plan(plan).status == "stopped", kind
        assert verify_copy(table, plan).ok, kind
        with pg.transaction():  # the dual write's trigger (which fires in replica mode too) off for this write
            pg.execute("ALTER TABLE kinds DISABLE TRIGGER USER")
            pg.execute(f"UPDATE kinds SET c{i}_new = '{twin}' WHERE id = 7")
            pg.execute("ALTER TABLE kinds ENABLE TRIGGER USER")
        assert pg.query(f"SELECT c{i}::text <> c{i}_new::text FROM kinds WHERE id = 7") == [(True,)], kind
        checked = verify_copy(table, plan)
        assert [(m.rows, m.first) for m in checked.mismatches] == [(1, 7)], (kind, checked.summary())
        undone = lk.MigrationRunner(table, resume="rollback").execute_plan(plan)
        assert undone.status == "rolled_back" and table.column_names == ["id", *(f"c{j}" for j in range(len(EXACT)))]


def test_a_rename_of_a_json_and_of_a_point_column_completes(pg, tmp_path, capfd):
    """The columns whose type has no `=`: `labkit complete` verifies the copy, then drops the old column."""
    pg.execute("CREATE TABLE shapes (id bigint PRIMARY KEY, doc json, spot point)")
    pg.execute("INSERT INTO shapes SELECT g, json_build_object('g', g), point(g, -g) FROM generate_series(1, 30) g")
    before = pg.query("SELECT id, doc::text, spot::text FROM shapes ORDER BY id")
    for column in ("doc", "spot"):
        plan = lk.build_rename_column_migration(pg.table("shapes"), column, f"{column}_v2")
        lk.save_plan(plan, tmp_path / f"{column}.json")
        assert labkit("start", f"{column}.json", "--db", pg.url, cwd=tmp_path).returncode == 0
        assert complete_plan(pg.url) == 0  # each stop's complete, the one that verifies before the drop included
        assert f"verified {column}_v2: 30 rows, every one as expected" in capfd.readouterr().err
    assert pg.query("SELECT id, doc_v2::text, spot_v2::text FROM shapes ORDER BY id") == before


def test_a_rename_of_an_enum_and_an_enum_array_column_with_defaults_completes(pg):
    """Issue 34: renaming `moods mood[] DEFAULT '{ok}'` failed at switch_reads (`cannot cast type integer to
    mood[]`): the view's NULL default for the old column was CAST(NULLIF(1, 1) AS type), and an enum has no cast
    from an integer."""
    if "feelings" in pg.tables():
        pg.drop_table("feelings")
    pg.execute("DROP TYPE IF EXISTS mood")
    pg.execute("CREATE TYPE mood AS ENUM ('ok', 'sad')")
    pg.execute("CREATE TABLE feelings (id bigint PRIMARY KEY, moods mood[] DEFAULT '{ok}', m mood DEFAULT 'ok')")
    pg.execute("INSERT INTO feelings SELECT g, '{ok,sad}', 'sad' FROM generate_series(1, 40) g")
    before = pg.query("SELECT id, moods::text, m::text FROM feelings ORDER BY id")
    for column in ("moods", "m"):
        plan = lk.build_rename_column_migration(pg.table("feelings"), column, f"{column}_v2")
        result = lk.MigrationRunner(pg.table("feelings")).execute_plan(plan)
        assert result.status == "completed", result.summary()
    assert pg.query("SELECT id, moods_v2::text, m_v2::text FROM feelings ORDER BY id") == before
    catalog = pg.table("feelings").catalog()
    assert (catalog.column("moods_v2").default, catalog.column("m_v2").default) == ("'{ok}'::mood[]", "'ok'::mood")
    pg.drop_table("feelings")  # and the views of its versions
    pg.execute("DROP TYPE mood")
