"""A plan exported as Alembic revisions, run by Alembic itself (`alembic upgrade` / `downgrade` in a project made by
`alembic init`), on SQLite and PostgreSQL: after each command the table's catalog and rows are the ones labkit's own
run leaves."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import labkit as lk
from labkit import lab
from labkit.cli import main
from labkit.errors import ExportError
from labkit.export_alembic import write_alembic
from labkit.stops import deploy_stops
from tests.conftest import alembic, alembic_project, reset_database, status_json


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> Any:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/app.db"
    return request.getfixturevalue("pg_url")


def _make(db: lk.Database, which: str) -> tuple[Any, lk.MigrationPlan]:
    if which == "users":
        table = db.import_table(lab.make_users(40, seed=4))
        return table, lk.build_rename_column_migration(table, "name", "full_name", batch_size=7)
    table = lab.make_orders(db)
    old, new = ("account_id", "payer_id") if db.dialect.name == "postgresql" else ("note", "remark")
    return table, lk.build_rename_column_migration(table, old, new, batch_size=6)


def _said(url: str) -> tuple[str, list[str] | None]:
    """What `labkit status --json` says of the plan: its status and the versions to deploy next."""
    (plan,) = status_json(url)["plans"]
    return plan["status"], plan["next"]["deploy"] if plan["next"] else None


def _state(table: Any) -> tuple[Any, list[dict[str, Any]]]:
    return table.catalog(), sorted(table.rows(), key=lambda r: r["id"])


@pytest.mark.parametrize("which", ["users", "orders"])
def test_alembic_runs_the_exported_revisions_as_labkit_runs_the_plan(url, which, tmp_path):
    with lk.connect(url) as db:
        # what labkit's own run leaves, phase by phase, on a fresh table
        reset_database(db)
        table, plan = _make(db, which)
        initial = _state(table)
        stops = [s.index for s in deploy_stops(plan)]  # v2 before the contract, v3 before the drop
        lk.MigrationRunner(table, until_step=stops[0]).execute_plan(plan)
        started = _state(table)
        lk.MigrationRunner(table, until_step=stops[1]).execute_plan(plan)
        stopped = _state(table)  # the dual write stopped, v3's view made for its deploy; the old column still there
        lk.MigrationRunner(table).execute_plan(plan)
        completed = _state(table)
        # the same plan as Alembic revisions, on the same fresh table
        reset_database(db)
        table, plan = _make(db, which)
        assert _state(table) == initial
        project = alembic_project(tmp_path, url)
        written = write_alembic(plan, table, project / "migrations" / "versions")
        parts = [re.search(r"_(start|complete(?:_\d+)?)\.py$", p.name)[1] for p in written]  # type: ignore[index]
        assert parts == ["start", "complete", "complete_2"]

    def after(*args: str) -> tuple[Any, list[dict[str, Any]]]:
        ran = alembic(project, *args)
        assert ran.returncode == 0, ran.stderr
        with lk.connect(url) as db:
            return _state(db.table(plan.table))

    assert after("upgrade", "+1") == started  # expand and migrate: both columns, dual write, views v1 and v2
    assert _said(url) == ("running", ["v2"])  # labkit's own state says it, as for a plan labkit runs
    assert main(["retire", "--db", url, "--table", plan.table]) == 3  # its views are in use: kept
    assert after("downgrade", "-1") == initial  # undone: the catalog and every row as before
    assert _said(url) == ("rolled_back", None)
    assert after("upgrade", "+1") == started
    assert after("upgrade", "+1") == stopped  # up to v3's deploy, as labkit complete stops
    assert _said(url) == ("running", ["v3"])
    assert after("upgrade", "head") == completed  # the drop
    assert _said(url) == ("completed", None)
    refused = alembic(project, "downgrade", "-1")
    assert refused.returncode != 0 and "the contract cannot be undone" in refused.stderr
    with lk.connect(url) as db:
        assert _state(db.table(plan.table)) == completed
        reset_database(db)


def test_the_cli_writes_the_revisions_and_refuses_a_folder_that_is_not_there(tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/app.db"
    with lk.connect(url) as db:
        users = db.import_table(lab.make_users(5, seed=1))
        plan = lk.build_rename_column_migration(users, "name", "full_name")
        lk.save_plan(plan, tmp_path / "plan.json")
        with pytest.raises(ExportError, match="not a folder"):
            write_alembic(plan, users, tmp_path / "nowhere")
    (tmp_path / "versions").mkdir()
    export = ["export", "alembic", str(tmp_path / "plan.json"), "--db", url, "--dir"]
    assert main([*export, str(tmp_path / "versions")]) == 0
    out = capsys.readouterr().out
    assert "start.py" in out and "complete.py" in out and len(list((tmp_path / "versions").glob("*.py"))) == 3
    text = next((tmp_path / "versions").glob("*_start.py")).read_text()
    compile(text, "revision", "exec")  # valid Python
    assert 'def downgrade() -> None:\n    _run(DOWNGRADE, "down", DOWNGRADE_OFFLINE)' in text
    assert "autocommit_block" in text
    assert main([*export, str(tmp_path / "x")]) == 64
    assert "not a folder" in capsys.readouterr().err


def _follows(versions: Path, revision: str) -> Any:
    """The revision ``revision`` follows, as Alembic reads the project."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(versions.parent), version_locations=[str(versions)]).get_revision(revision).down_revision


def test_the_export_follows_the_project_head_and_alembic_runs_the_chain(pg_url, tmp_path):
    with lk.connect(pg_url) as db:
        reset_database(db)
        users = db.import_table(lab.make_users(20, seed=2))
        plan = lk.build_rename_column_migration(users, "name", "full_name", batch_size=6)
        lk.save_plan(plan, tmp_path / "plan.json")
        project = alembic_project(tmp_path, pg_url)
        made = alembic(project, "revision", "-m", "the app's own history")
        assert made.returncode == 0, made.stderr
        versions = project / "migrations" / "versions"
        own = next(versions.glob("*.py")).name.split("_")[0]  # alembic names the file after its revision id
        paths = write_alembic(plan, users, versions)  # no down_revision: the project's head
        start = next(p for p in paths if p.name.endswith("_start.py")).name.split("_")[0]
        assert _follows(versions, start) == own
        assert write_alembic(plan, users, versions) == paths  # exported again: the same place in the history
        assert _follows(versions, start) == own
        heads = alembic(project, "heads")
        assert heads.returncode == 0 and heads.stdout.count("(head)") == 1, heads.stdout + heads.stderr
        done = alembic(project, "upgrade", "head")
        assert done.returncode == 0, done.stderr
        assert db.table("users").has_column("full_name") and not db.table("users").has_column("name")
        reset_database(db)


def test_a_revision_cut_off_half_way_carries_on_when_run_again(pg_url, tmp_path):
    with lk.connect(pg_url) as db:
        reset_database(db)
        users = db.import_table(lab.make_users(30, seed=3))
        names = users.column("name")
        plan = lk.build_rename_column_migration(users, "name", "full_name", batch_size=7)
        project = alembic_project(tmp_path, pg_url)
        write_alembic(plan, users, project / "migrations" / "versions")
        holder = lk.connect(pg_url)  # a long transaction: the switch to v2's view needs a lock it holds
        holder.dialect.begin(holder.conn)
        holder.execute("LOCK TABLE users IN ACCESS SHARE MODE")
        failed = alembic(project, "upgrade", "+1")  # ADD COLUMN waits 500 ms for its lock, then fails
        holder.dialect.rollback(holder.conn)
        holder.close()
        assert failed.returncode != 0 and "lock timeout" in (failed.stderr + failed.stdout).lower(), failed.stderr
        assert db.table("users").views == ('"labkit_v1"."users"',)  # part of the way: v1's view is made
        assert not db.table("users").has_column("full_name")
        again = alembic(project, "upgrade", "+1")  # (CREATE VIEW, ADD COLUMN ... would fail if run twice)
        assert again.returncode == 0, again.stderr
        assert users.column("full_name") == names
        assert db.query("SELECT count(*) FROM labkit_alembic_progress") == [(0,)]  # nothing left once it is done
        reset_database(db)


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_offline_mode_prints_the_script_on_postgresql_and_says_why_not_on_sqlite(engine, tmp_path, request):
    url = f"sqlite:///{tmp_path}/app.db" if engine == "sqlite" else request.getfixturevalue("pg_url")
    with lk.connect(url) as db:
        reset_database(db)
        users = db.import_table(lab.make_users(10, seed=4))
        plan = lk.build_rename_column_migration(users, "name", "full_name", batch_size=4)
        project = alembic_project(tmp_path, url)
        write_alembic(plan, users, project / "migrations" / "versions")
        offline = alembic(project, "upgrade", "head", "--sql")
        if engine == "postgresql":
            assert offline.returncode == 0, offline.stderr
            assert 'CREATE PROCEDURE "labkit_backfill_users_backfill"()' in offline.stdout
            assert 'ALTER TABLE "users" DROP COLUMN "name"' in offline.stdout
        else:
            assert offline.returncode != 0 and "sqlite has no loops in SQL" in offline.stderr
        assert db.table("users").has_column("name") and not db.table("users").has_column("full_name")  # untouched
        reset_database(db)


def test_include_object_keeps_labkits_own_objects_out_of_autogenerate(pg_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import MetaData, create_engine

    from labkit.export_alembic import include_object

    with lk.connect(pg_url) as db:
        reset_database(db)
        users = db.import_table(lab.make_users(10, seed=5))
        lk.MigrationRunner(users, until_phase="contract").execute_plan(
            lk.build_rename_column_migration(users, "name", "full_name", batch_size=4))  # state table, views
        engine = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            models = MetaData()
            models.reflect(engine, only=["users"])  # the app's models: its own table as it is now
            with engine.connect() as conn:
                plain = compare_metadata(MigrationContext.configure(conn), models)
                hooked = compare_metadata(MigrationContext.configure(conn, opts={"include_object": include_object}),
                                          models)  # fmt: skip
        finally:
            engine.dispose()
        assert any(d[0] == "remove_table" and d[1].name == "labkit_migrations" for d in plain if isinstance(d, tuple))
        assert hooked == []
        reset_database(db)


def test_a_not_null_plan_exports_a_revision_boundary_where_the_version_that_writes_no_null_deploys(pg_url, tmp_path):
    """The fill and SET NOT NULL wait in the next revision: `alembic upgrade +1` stops where labkit start stops,
    for app v2 (which never writes NULL) to roll out before the NULLs are filled (issue 33: the old app, still
    writing NULLs, got NotNullViolations when one revision ran it all)."""
    with lk.connect(pg_url) as db:
        reset_database(db)
        users = db.import_table(lab.make_users(40, seed=2))
        db.execute("UPDATE users SET name = NULL WHERE id % 5 = 0")
        plan = lk.build_set_not_null_migration(users, "name", fill="unknown", batch_size=7)
        project = alembic_project(tmp_path, pg_url)
        first, _ = write_alembic(plan, users, project / "migrations" / "versions")
    assert "After it, deploy app v2 everywhere (app v2 writes no NULL" in first.read_text()
    assert alembic(project, "upgrade", "+1").returncode == 0
    with lk.connect(pg_url) as db:
        assert db.query("SELECT count(*) FROM users WHERE name IS NULL") == [(8,)]  # nothing filled before v2
        assert not db.table("users").catalog().column("name").not_null
    ran = alembic(project, "upgrade", "head")
    assert ran.returncode == 0, ran.stderr
    with lk.connect(pg_url) as db:
        assert db.table("users").catalog().column("name").not_null
        assert db.query("SELECT count(*) FROM users WHERE name = 'unknown'") == [(8,)]
        reset_database(db)


def test_wire_env_gives_both_configure_calls_include_object_and_alembic_check_stays_clean(pg_url, tmp_path, capsys):
    """`labkit export alembic --wire-env`: labkit's include_object in both context.configure( calls of the env.py
    `alembic init` writes (offline and online). With it `alembic check` is clean after the plan ran; without it,
    autogenerate proposes to drop labkit's own state tables."""
    with lk.connect(pg_url) as db:
        reset_database(db)
        users = db.import_table(lab.make_users(10, seed=1))
        lk.save_plan(lk.build_rename_column_migration(users, "name", "full_name"), tmp_path / "plan.json")
    project = alembic_project(tmp_path, pg_url)
    env_py = project / "migrations" / "env.py"
    export = ["export", "alembic", str(tmp_path / "plan.json"), "--db", pg_url, "--dir",
              str(project / "migrations" / "versions"), "--wire-env"]  # fmt: skip
    assert main(export) == 0 and "include_object wired into each context.configure( call" in capsys.readouterr().out
    wired = env_py.read_text()
    assert wired.count("include_object=labkit_include_object,") == 2 == wired.count("context.configure(")
    assert main(export) == 0 and "wired already" in capsys.readouterr().out  # once only
    assert alembic(project, "upgrade", "head").returncode == 0
    app_models = ("from sqlalchemy import MetaData, create_engine\ntarget_metadata = MetaData()\n"
                  "target_metadata.reflect(bind=create_engine(config.get_main_option('sqlalchemy.url')), "
                  "only=['users'])  # the app's own models\n")  # fmt: skip
    env_py.write_text(wired.replace("target_metadata = None\n", app_models))
    checked = alembic(project, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    env_py.write_text(env_py.read_text().replace("include_object=labkit_include_object,", ""))  # unwired
    unwired = alembic(project, "check")
    assert unwired.returncode != 0 and "labkit_migrations" in unwired.stdout + unwired.stderr
    # an env.py with an include_object of its own is refused, before anything is written
    (tmp_path / "other").mkdir()
    other = alembic_project(tmp_path / "other", pg_url)
    own = other / "migrations" / "env.py"
    own.write_text(own.read_text().replace("target_metadata=target_metadata,", "target_metadata=target_metadata, "
                                           "include_object=mine,", 1))  # fmt: skip
    assert main([*export[:-2], str(other / "migrations" / "versions"), "--wire-env"]) == 64
    assert "an include_object of its own" in capsys.readouterr().err
    assert list((other / "migrations" / "versions").glob("*.py")) == []
    with lk.connect(pg_url) as db:
        reset_database(db)
