from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator

import matplotlib
import pytest

matplotlib.use("Agg")  # plots are drawn off-screen in tests; their data is what the tests check

import labkit as lk
from labkit import lab


@pytest.fixture
def users() -> lk.Table:
    """A 20-row users table (name, email), the same every time."""
    return lab.make_users(20, seed=0)


def rename_plan(table: lk.Table, batch_size: int = 5) -> lk.MigrationPlan:
    return lk.build_rename_column_migration(table, "name", "full_name", batch_size=batch_size)


def add_plan(table: lk.Table, batch_size: int = 5) -> lk.MigrationPlan:
    return lk.build_add_column_migration(
        table, "email_domain", backfill=lab.email_domain, source="email", batch_size=batch_size
    )


# ---------------------------------------------------------------- real databases
import os  # noqa: E402

REQUIRE_PG = "LABKIT_REQUIRE_PG"  # CI sets it: PostgreSQL that cannot start is a failure there, not a skip


@pytest.fixture(scope="session")
def pg_url():
    """A PostgreSQL URL for the whole session: LABKIT_PG_DSN, or an embedded server started once."""
    if os.environ.get(lk.backends.servers.PG_DSN_VARIABLE):
        yield os.environ[lk.backends.servers.PG_DSN_VARIABLE]
        return
    server = lk.embedded_postgres()
    try:
        url = server.__enter__()
    except lk.DatabaseUnavailableError as exc:
        if os.environ.get(REQUIRE_PG):
            pytest.fail(f"PostgreSQL is required ({REQUIRE_PG} is set) but could not start: {exc}")
        pytest.skip(f"PostgreSQL could not be started: {exc}")
    try:
        yield url
    finally:
        server.__exit__(None, None, None)


@contextlib.contextmanager
def server_folder() -> Iterator[Path]:
    """A folder for a PostgreSQL data directory of a test's own, outside pytest's temporary folders: pytest sets
    ``/tmp/pytest-of-<user>`` back to mode 0700 whenever a pytest process starts using it (another worker, a pytest
    run by a test), and embedded-postgres, run as root, runs the server as a user of its own, which then cannot
    reach its files (initdb died with "could not open file .../global/pg_control: Permission denied" once)."""
    folder = Path(tempfile.mkdtemp(prefix="labkit-test-pg-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def reset_database(db: lk.Database) -> None:
    """The one way the tests empty a database: every table (with labkit's views, triggers and state), and on
    PostgreSQL labkit's view schemas; on SQLite any view left behind."""
    if db.dialect.name == "sqlite":
        for (name,) in db.query("SELECT name FROM sqlite_master WHERE type = 'view'"):
            db.execute(f'DROP VIEW IF EXISTS "{name}"')
    for table in db.tables():
        db.drop_table(table)
    if db.dialect.name == "postgresql":
        for (schema,) in db.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'labkit\\_%'"):
            db.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def make_roles(db: lk.Database, names: tuple[str, ...], *, login: bool = False) -> None:
    """Roles for a test, made afresh (one a killed run left behind goes first, with what it owns); a login role's
    password is ``pw-<name>``."""
    drop_roles(db, names)
    for role in names:
        db.execute(f"CREATE ROLE {role} " + (f"LOGIN PASSWORD 'pw-{role}'" if login else "NOLOGIN"))


def drop_roles(db: lk.Database, names: tuple[str, ...]) -> None:
    """Drop test roles and whatever they own or were granted, if they are there."""
    for role in names:
        if db.query("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]):
            db.execute(f"DROP OWNED BY {role}")
            db.execute(f"DROP ROLE {role}")


@pytest.fixture
def pg(pg_url):
    """The session's PostgreSQL, emptied before and after (``reset_database``: its tables, and labkit's view schemas,
    which a test run later may not be allowed to create in if they are another role's)."""
    with lk.connect(pg_url) as db:
        reset_database(db)
        yield db
        if not db.closed:
            reset_database(db)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """A real database, empty: a SQLite file, or the session's PostgreSQL (emptied before and after)."""
    if request.param == "sqlite":
        database = lk.connect(f"sqlite:///{tmp_path}/lab.db")
        yield database
        database.close()
        return
    database = lk.connect(request.getfixturevalue("pg_url"))
    reset_database(database)
    yield database
    if not database.closed:
        reset_database(database)
        database.close()


def db_rename_plan(table, batch_size: int = 5, **kw):
    return lk.build_rename_column_migration(table, "name", "full_name", batch_size=batch_size, **kw)


def db_add_plan(table, batch_size: int = 5, **kw):
    return lk.build_add_column_migration(
        table,
        "email_domain",
        backfill=lab.email_domain,
        backfill_sql=lab.EMAIL_DOMAIN_SQL,
        source="email",
        batch_size=batch_size,
        **kw,
    )


# ---------------------------------------------------------------- commands, as a user types them
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402


def labkit(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m labkit ARGS`` as a real process."""
    return subprocess.run([sys.executable, "-m", "labkit", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, check=False)  # fmt: skip


def status_json(url: str) -> dict:
    """``labkit status --json`` (in this process), read as a script reads it."""
    import contextlib
    import io
    import json

    from labkit.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["status", "--json", "--db", url]) == 0
    return json.loads(out.getvalue())


def waiting(url: str) -> list[dict]:
    """The plans ``labkit status --json`` says wait for the user (a deploy stop, a cut-off run): their ``next``."""
    return [p["next"] for p in status_json(url)["plans"] if p["next"] is not None]


def complete_plan(url: str, *extra: str, deploy=None) -> int:
    """``labkit complete`` (in this process) until the plan is done, as a deploy script reading ``labkit status
    --json`` would: at each deploy stop ``deploy(versions)`` (the roll-out; nothing by default), then complete
    again. The last exit status."""
    from labkit.cli import main

    while True:
        code = main(["complete", "--db", url, *extra])
        left = [n for n in waiting(url) if n["command"] == "complete"]
        if code != 0 or not left:
            return code
        if deploy is not None:
            deploy(left[0]["deploy"])


def alembic(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``alembic ARGS`` in an Alembic project, as a real process."""
    return subprocess.run([sys.executable, "-m", "alembic", *args], cwd=project, capture_output=True, text=True,
                          timeout=300, check=False)  # fmt: skip


def sqlalchemy_url(url: str) -> str:
    """The URL SQLAlchemy needs for labkit's: PostgreSQL through psycopg 3 (its default driver is psycopg2)."""
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def alembic_project(tmp_path: Path, url: str) -> Path:
    """An Alembic project as `alembic init` makes it, pointed at the database."""
    from alembic import command
    from alembic.config import Config

    project = tmp_path / "project"
    project.mkdir()
    # `alembic init migrations`, through Alembic's command API: the same files, without a Python start-up (about a
    # second) for each project the suite makes; the tests then run `alembic` as a real process where that is the point
    command.init(Config(str(project / "alembic.ini")), str(project / "migrations"))
    ini = project / "alembic.ini"
    sa_url = sqlalchemy_url(url)
    ini.write_text("\n".join(f"sqlalchemy.url = {sa_url}" if line.startswith("sqlalchemy.url") else line
                             for line in ini.read_text().splitlines()) + "\n")  # fmt: skip
    return project
