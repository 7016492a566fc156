"""The safety rules that know the engine: each with a bad and a good example on the real engine."""

from __future__ import annotations

import dataclasses

import pytest

import labkit as lk
from labkit import lab
from tests.conftest import db_rename_plan, reset_database


def rules(plan, table):
    return {f.rule for f in lk.validate_migration_safety(plan, table)}


def test_sqlite_drop_column_rewrites_the_table(tmp_path):
    with lk.connect(f"sqlite:///{tmp_path}/lab.db") as db:
        users = db.import_table(lab.make_users(10))
        assert "drop-column-rewrites-table" in rules(db_rename_plan(users), users)  # bad: a rename drops
        good = lk.build_add_column_migration(users, "nickname")
        assert "drop-column-rewrites-table" not in rules(good, users)
        memory = lab.make_users(10)
        assert "drop-column-rewrites-table" not in rules(db_rename_plan(memory), memory)  # not an SQLite table


def test_postgres_requires_a_lock_timeout(pg, pg_url):
    users = pg.import_table(lab.make_users(10))
    assert "require-lock-timeout" not in rules(db_rename_plan(users), users)  # good: the default 500 ms
    with lk.connect(pg_url, lock_timeout_ms=0) as unsafe:
        table = unsafe.table("users")
        findings = [f for f in lk.validate_migration_safety(db_rename_plan(table), table)]
        bad = [f for f in findings if f.rule == "require-lock-timeout"]
        assert bad and bad[0].step == "add_column" and bad[0].severity == "error"


def test_a_sql_default_is_refused_on_the_in_memory_table():
    users = lab.make_users(3)
    plan = lk.MigrationPlan("p", [lk.AddColumn("users", "at", default=lk.SQL("now()"))])
    with pytest.raises(lk.StepDoesNotFitError, match="constant defaults"):
        lk.MigrationRunner(users).execute_plan(plan)


@pytest.mark.parametrize("text", ["", "1; DROP TABLE users", 5], ids=["empty", "statements", "not-text"])
def test_sql_expressions_are_single_expressions(text):
    with pytest.raises((ValueError, AttributeError)):
        lk.SQL(text)


def test_sqlite_names_the_user_triggers_a_backfill_fires_and_a_rollback_does_not_claim_to_undo_them(tmp_path):
    with lk.connect(f"sqlite:///{tmp_path}/lab.db") as db:
        users = db.import_table(lab.make_users(12))
        db.execute("CREATE TABLE audit (user_id INTEGER, at TEXT)")
        db.execute(
            "CREATE TRIGGER users_audit AFTER UPDATE ON users FOR EACH ROW "
            "BEGIN INSERT INTO audit VALUES (NEW.id, 'x'); END"
        )
        plan = db_rename_plan(users, batch_size=5)
        warned = [f for f in lk.validate_migration_safety(plan, users) if f.rule == "backfill-fires-sqlite-triggers"]
        assert warned and warned[0].step == "backfill" and "users_audit" in warned[0].message
        result = lk.MigrationRunner(users, fail_at="switch_reads").execute_plan(plan)
        assert result.status == "rolled_back"
        assert db.query("SELECT count(*) FROM audit")[0][0] >= 12  # the backfill's UPDATEs were audited
        assert "as it was before" not in result.summary() and "users_audit" in result.summary()
        narrow = "CREATE TRIGGER users_audit AFTER UPDATE OF email ON users BEGIN SELECT 1; END"
        db.execute("DROP TRIGGER users_audit")
        db.execute(narrow)  # fires on writes of email only: the backfill of full_name leaves it alone
        plan = db_rename_plan(users, batch_size=5)
        assert "backfill-fires-sqlite-triggers" not in rules(plan, users)


def test_postgres_keeps_the_user_triggers_quiet_during_the_backfill(pg):
    users = pg.import_table(lab.make_users(12))
    pg.execute("CREATE TABLE audit (user_id bigint)")
    pg.execute(
        "CREATE OR REPLACE FUNCTION users_audit() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN INSERT INTO audit VALUES (NEW.id); RETURN NEW; END $$"
    )
    pg.execute("CREATE TRIGGER users_audit AFTER UPDATE ON users FOR EACH ROW EXECUTE FUNCTION users_audit()")
    plan = db_rename_plan(users, batch_size=5)
    assert "backfill-fires-user-triggers" not in rules(plan, users)  # a superuser: replica role in the backfill
    result = lk.MigrationRunner(users, fail_at="switch_reads").execute_plan(plan)
    assert result.status == "rolled_back" and "as it was before the plan" in result.summary()
    assert pg.query("SELECT count(*) FROM audit") == [(0,)]
    users.update(3, {"name": "an app write"})  # an app's own write still fires it
    assert pg.query("SELECT count(*) FROM audit") == [(1,)]


def test_postgres_refuses_a_role_that_does_not_own_the_table_before_any_change(pg, pg_url):
    users = pg.import_table(lab.make_users(5))
    pg.execute("DROP ROLE IF EXISTS lab_app")
    pg.execute("CREATE ROLE lab_app LOGIN")
    pg.execute("GRANT SELECT, INSERT, UPDATE ON users TO lab_app")
    try:
        with lk.connect(pg_url.replace("postgres:@", "lab_app:@", 1)) as app_db:
            table = app_db.table("users")
            plan = db_rename_plan(table)
            found = [f for f in lk.validate_migration_safety(plan, table) if f.rule == "missing-privilege"]
            assert found and "does not own" in found[0].message and found[0].severity == "error"
            with pytest.raises(lk.PreflightError, match="GRANT postgres TO lab_app"):
                lk.MigrationRunner(table).execute_plan(plan)
        assert users.column_names == ["id", "name", "email"] and users.triggers == ()
        assert "missing-privilege" not in rules(db_rename_plan(users), users)  # the owner may
    finally:
        pg.execute("DROP OWNED BY lab_app")
        pg.execute("DROP ROLE lab_app")


PROOFS = ["CHECK (email IS NOT NULL)", "CHECK (email <> '')", "CHECK (email IS NOT NULL AND length(email) > 3)",
          "CHECK (email IS NOT NULL OR name IS NOT NULL)", "CHECK (name IS NOT NULL)",
          "CHECK (length(email) > 0)"]  # fmt: skip


@pytest.mark.parametrize("definition", PROOFS)
def test_set_not_null_scans_agrees_with_postgresqls_own_proof(pg, pg_url, definition):
    """Issue 23: a CHECK (email <> '') + VALIDATE + SET NOT NULL plan passed every check, yet PostgreSQL still scans
    the table under ACCESS EXCLUSIVE. The rule is held to the server's word: with client_min_messages = debug1,
    SET NOT NULL says when existing constraints prove the column holds no NULL (and then skips its scan)."""
    import psycopg

    pg.import_table(lab.make_users(20, seed=4))
    heard: list[str] = []
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.add_notice_handler(lambda d: heard.append(d.message_primary or ""))
        conn.execute(f"ALTER TABLE users ADD CONSTRAINT probe {definition} NOT VALID")
        conn.execute("ALTER TABLE users VALIDATE CONSTRAINT probe")
        conn.execute("SET client_min_messages = debug1")
        conn.execute("ALTER TABLE users ALTER COLUMN email SET NOT NULL")
    engine_proved = any("sufficient to prove that it does not contain nulls" in m for m in heard)
    assert engine_proved == ("IS NOT NULL" in definition and "OR" not in definition and "name IS" not in definition)
    users = lk.connect(pg_url)
    try:
        table = users.table("users")
        table.db.execute("ALTER TABLE users ALTER COLUMN email DROP NOT NULL")
        table.db.execute("ALTER TABLE users DROP CONSTRAINT probe")
        steps = [lk.AddConstraint("users", "email", "probe", definition),
                 lk.ValidateConstraint("users", "email", "probe"), lk.SetNotNull("users", "email", check="probe")]
        found = [f for f in lk.validate_migration_safety(lk.MigrationPlan("p", steps), table)
                 if f.rule == "set-not-null-scans"]  # fmt: skip
        assert (found == []) is engine_proved, (definition, found)
        if found:
            assert "does not prove email IS NOT NULL" in found[0].message and "ACCESS EXCLUSIVE" in found[0].message
    finally:
        users.close()


def test_set_not_null_scans_names_a_check_that_is_not_validated_or_missing(pg):
    table = pg.import_table(lab.make_users(10, seed=4))
    cases = {"NOT VALID": [lk.AddConstraint("users", "email", "c", "CHECK (email IS NOT NULL)"),
                           lk.SetNotNull("users", "email", check="c")],
             "no step before it adds": [lk.SetNotNull("users", "email", check="c")],
             "has no CHECK": [lk.SetNotNull("users", "email")]}  # fmt: skip
    for says, steps in cases.items():
        found = [f for f in lk.validate_migration_safety(lk.MigrationPlan("p", steps), table)
                 if f.rule == "set-not-null-scans"]  # fmt: skip
        assert len(found) == 1 and says in found[0].message, (says, found)
    assert not [f for f in lk.validate_migration_safety(lk.build_set_not_null_migration(table, "email"), table)
                if f.rule == "set-not-null-scans"]  # fmt: skip


def test_a_table_owner_who_may_not_quiet_triggers_is_refused_until_granted_or_accepted(pg, pg_url):
    """Issue 23: a table owner without SET on session_replication_role got a warning, and the backfill fired the
    user's updated_at trigger on every row. Now: refused before any change; a grant, or fire_triggers=True, lets
    it run (and then the triggers stay quiet, or fire as accepted)."""
    from tests.conftest import drop_roles, make_roles

    make_roles(pg, ("lab_owner",), login=True)
    database = pg.query("SELECT current_database()")[0][0]
    pg.execute("GRANT CREATE ON SCHEMA public TO lab_owner")
    pg.execute(f'GRANT CREATE ON DATABASE "{database}" TO lab_owner')
    owner_url = pg_url.replace("postgres:@", "lab_owner:pw-lab_owner@", 1)
    try:
        with lk.connect(owner_url) as db:
            users = db.import_table(lab.make_users(12, seed=2))
            db.execute("ALTER TABLE users ADD COLUMN updated_at integer NOT NULL DEFAULT 0")
            db.execute("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS "
                       "$$ BEGIN NEW.updated_at := NEW.updated_at + 1; RETURN NEW; END $$")  # fmt: skip
            db.execute("CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch()")
            users = db.table("users")
            before = users.snapshot()
            plan = lk.build_rename_column_migration(users, "name", "full_name", batch_size=5)
            found = [f for f in lk.validate_migration_safety(plan, users) if f.rule == "backfill-fires-user-triggers"]
            assert found and found[0].severity == "error" and "users_touch" in found[0].message
            with pytest.raises(lk.PreflightError, match="GRANT SET ON PARAMETER session_replication_role"):
                lk.MigrationRunner(users).execute_plan(plan)
            assert users.snapshot() == before  # nothing changed
            accepted = lk.MigrationPlan(plan.name, [dataclasses.replace(s, fire_triggers=True)
                                                    if s.kind == "backfill" else s for s in plan.steps],
                                        apps=plan.apps)  # fmt: skip
            assert lk.MigrationRunner(users).execute_plan(accepted).status == "completed"
            assert db.query("SELECT min(updated_at) FROM users")[0][0] == 1  # every row fired it, as accepted
            db.drop_table("users")
        pg.execute("GRANT SET ON PARAMETER session_replication_role TO lab_owner")
        with lk.connect(owner_url) as db:
            users = db.import_table(lab.make_users(12, seed=2))
            db.execute("ALTER TABLE users ADD COLUMN updated_at integer NOT NULL DEFAULT 0")
            db.execute("CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch()")
            users = db.table("users")
            plan = lk.build_rename_column_migration(users, "name", "full_name", batch_size=5)
            assert "backfill-fires-user-triggers" not in rules(plan, users)
            assert lk.MigrationRunner(users).execute_plan(plan).status == "completed"
            assert db.query("SELECT max(updated_at) FROM users")[0][0] == 0  # quiet, as a superuser's would be
            db.drop_table("users")
    finally:
        pg.execute(f'REVOKE CREATE ON DATABASE "{database}" FROM lab_owner')
        drop_roles(pg, ("lab_owner",))


def test_the_lessons_role_owns_what_it_makes_and_nothing_more(pg_url):
    """lab.table_owner: the role notebooks 07-09 migrate as. Not a superuser, no CREATEROLE; it passes labkit's
    privilege checks on its own table, may quiet triggers and read the standbys' lag; dropped, with what it owns,
    at the end. A role that may not make roles gets its own URL back (the lesson then runs as it)."""
    with lk.connect(pg_url) as admin:
        reset_database(admin)
    with lab.table_owner(pg_url) as url:
        with lk.connect(url) as db:
            flags = db.query("SELECT rolsuper, rolcreaterole, rolcreatedb, pg_has_role(current_user, 'pg_monitor', "
                             "'USAGE') FROM pg_roles WHERE rolname = current_user")[0]  # fmt: skip
            assert flags == (False, False, False, True)
            users = db.import_table(lab.make_users(10, seed=1))
            plan = lk.build_rename_column_migration(users, "name", "full_name", batch_size=4)
            assert lk.validate_migration_safety(plan, users) == []
            assert lk.MigrationRunner(users).execute_plan(plan).ok
        with lab.table_owner(url, role="lab_inner") as same:
            assert same == url  # lab_owner may not make roles: it runs as itself
    with lk.connect(pg_url) as admin:
        assert not admin.query("SELECT 1 FROM pg_roles WHERE rolname = 'lab_owner'")
        assert "users" not in admin.tables()
