"""Django, end to end (issue 33, part 4): a real Django project (tests/django_project: one app, an Order model, two
migrations as makemigrations writes them) whose second migration makes five changes (a field renamed, one added
with a default, a nullable field made required with a one-off default, a wider decimal, an index).

The migration goes through `labkit convert --django manage.py shop 0002` (Django's own sqlmigrate) -> one plan ->
`labkit start` -> deploy -> `labkit complete` -> deploy -> `labkit complete`, while real Django processes write
through the ORM: the old code, then the new code through the view `labkit start` names (its search_path in the
settings), both at once during each roll-out. Then `manage.py migrate --fake` records it. Checked: no request
failed, no acknowledged write is lost, Django's own state is clean (`migrate --plan` empty, `makemigrations
--check`), and the table is what Django's own `migrate` leaves on a twin database, column order aside.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import labkit as lk
from labkit.cli import main
from tests.conftest import reset_database, status_json
from tests.releases import Release

django = pytest.importorskip("django", reason="Django is in the test extras (pip install -e .[test])")

PROJECT = Path(__file__).parent / "django_project"


def _env(url: str, code: str, search_path: str | None = None) -> dict[str, str]:
    env = {**os.environ, "SHOP_DATABASE_URL": url, "SHOP_CODE": code}
    env.pop("SHOP_SEARCH_PATH", None)
    if search_path:
        env["SHOP_SEARCH_PATH"] = search_path
    return env


def _manage(url: str, *args: str, code: str = "new") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT, env=_env(url, code),
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip


def _columns(db: lk.Database) -> Any:
    catalog = db.table("shop_order").catalog()
    return dataclasses.replace(catalog, columns=tuple(sorted(catalog.columns, key=lambda c: c.name)))


def _waiting(url: str) -> dict[str, Any] | None:
    plans = [p for p in status_json(url)["plans"] if p["next"] is not None]
    return plans[0] if plans else None


def test_a_django_migration_of_five_changes_runs_under_two_releases_and_django_ends_clean(pg_url, tmp_path,
                                                                                          monkeypatch):  # fmt: skip
    with lk.connect(pg_url) as db:
        reset_database(db)
        db.execute("DROP TABLE IF EXISTS django_migrations")
        db.execute("DROP DATABASE IF EXISTS shop_twin")
        db.execute("CREATE DATABASE shop_twin")
    twin = pg_url.replace("/postgres?", "/shop_twin?", 1)
    # the twin: Django's own migrate, 0001 then 0002, on the same rows
    for url in (pg_url, twin):
        done = _manage(url, "migrate", "shop", "0001", code="old")
        assert done.returncode == 0, done.stderr
        with lk.connect(url) as db:
            db.execute("INSERT INTO shop_order (status, note, total) SELECT 's' || (g % 4), CASE WHEN g % 9 = 0 THEN "
                       "NULL ELSE 'n' || g END, g * 1.5 FROM generate_series(1, 300) g")  # fmt: skip
    done = _manage(twin, "migrate", "shop", "0002")
    assert done.returncode == 0, done.stderr
    with lk.connect(twin) as db:
        expected = _columns(db)

    old = Release(PROJECT, _env(pg_url, "old"), 0, tmp_path).wrote()
    for name, value in _env(pg_url, "new").items():  # labkit runs in the project's environment (its settings)
        monkeypatch.setenv(name, value)
    said = io.StringIO()
    with contextlib.redirect_stdout(said):
        assert main(["convert", "--django", str(PROJECT / "manage.py"), "shop", "0002", "--db", pg_url,
                     "-o", str(tmp_path / "0002.json"), "--in-catalog", "total"]) == 0, said.getvalue()  # fmt: skip
    assert not (tmp_path / "0002.rest.sql").exists()  # one plan for the whole migration
    releases = [old]
    with contextlib.redirect_stdout(said):
        assert main(["start", str(tmp_path / "0002.json"), "--db", pg_url]) == 0, said.getvalue()
    deployed = []
    while (waiting := _waiting(pg_url)) is not None:  # a stop: roll out the new code, as status --json says
        version = waiting["next"]["deploy"][-1]
        path = next(v["search_path"] for v in waiting["versions"] if v["name"] == version)
        new = Release(PROJECT, _env(pg_url, "new", path), len(releases) % 3, tmp_path)
        new.wrote(), releases[-1].wrote()  # both at once: the rolling deploy
        releases[-1].finish()
        new.wrote()
        releases.append(new)
        deployed.append(version)
        with contextlib.redirect_stdout(said):
            assert main(["complete", "--db", pg_url]) == 0, said.getvalue()
        new.wrote()
    releases[-1].wrote()
    releases[-1].finish()
    assert len(deployed) == 2, said.getvalue()  # the version that never writes NULL, then the one without status

    assert [e for r in releases for e in r.errors] == []
    with lk.connect(pg_url) as db:
        rows = dict(db.query("SELECT id, state FROM shop_order"))
        for r in releases:  # each release's rows hold its last acknowledged write
            assert {i: rows.get(i) for i in r.acked} == r.acked
        assert db.query("SELECT count(*) FROM shop_order WHERE note IS NULL") == [(0,)]
        assert _columns(db) == expected  # what Django's own migrate leaves, column order aside
    recorded = _manage(pg_url, "migrate", "shop", "0002", "--fake")
    assert recorded.returncode == 0, recorded.stderr
    planned = _manage(pg_url, "migrate", "--plan")
    assert planned.returncode == 0 and "No planned migration operations" in planned.stdout, planned.stdout
    check = _manage(pg_url, "makemigrations", "--check", "--dry-run")
    assert check.returncode == 0, check.stdout + check.stderr
    with lk.connect(pg_url) as db:
        reset_database(db)
        db.execute("DROP TABLE IF EXISTS django_migrations")
        db.execute("DROP DATABASE shop_twin")


def test_a_rollback_mid_deploy_keeps_what_both_releases_wrote_and_django_still_has_0002_to_run(pg_url, tmp_path,
                                                                                              monkeypatch):  # fmt: skip
    """The roll-out of the new code is called off half-way: `labkit rollback` with the old code still writing. The
    table is as it was (the same columns and catalog), each release's acknowledged writes are there under the old
    names, and Django still has 0002 to run: nothing of labkit's is recorded as Django's."""
    with lk.connect(pg_url) as db:
        reset_database(db)
        db.execute("DROP TABLE IF EXISTS django_migrations")
    assert _manage(pg_url, "migrate", "shop", "0001", code="old").returncode == 0
    with lk.connect(pg_url) as db:
        db.execute("INSERT INTO shop_order (status, note, total) SELECT 's' || g, 'n' || g, g FROM "
                   "generate_series(1, 300) g")  # fmt: skip
        before = _columns(db)
    for name, value in _env(pg_url, "new").items():
        monkeypatch.setenv(name, value)
    said = io.StringIO()
    old = Release(PROJECT, _env(pg_url, "old"), 0, tmp_path).wrote()
    with contextlib.redirect_stdout(said):
        assert main(["convert", "--django", str(PROJECT / "manage.py"), "shop", "0002", "--db", pg_url,
                     "-o", str(tmp_path / "0002.json"), "--in-catalog", "total"]) == 0, said.getvalue()  # fmt: skip
        assert main(["start", str(tmp_path / "0002.json"), "--db", pg_url]) == 0, said.getvalue()
    waiting = _waiting(pg_url)
    assert waiting is not None
    version = waiting["next"]["deploy"][-1]
    path = next(v["search_path"] for v in waiting["versions"] if v["name"] == version)
    new = Release(PROJECT, _env(pg_url, "new", path), 1, tmp_path)
    new.wrote(), old.wrote()  # both at once
    new.finish()  # the roll-out is called off: the new code goes, the old one stays
    with contextlib.redirect_stdout(said):
        assert main(["rollback", "--db", pg_url]) == 0, said.getvalue()
    old.wrote()
    old.finish()
    assert old.errors == [] and new.errors == []
    with lk.connect(pg_url) as db:
        assert _columns(db) == before
        rows = dict(db.query("SELECT id, status FROM shop_order"))
        for r in (old, new):
            assert {i: rows.get(i) for i in r.acked} == r.acked
    planned = _manage(pg_url, "migrate", "--plan")
    assert "shop.0002_order_changes" in planned.stdout, planned.stdout
    with lk.connect(pg_url) as db:
        reset_database(db)
        db.execute("DROP TABLE IF EXISTS django_migrations")
