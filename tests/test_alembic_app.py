"""Alembic, end to end (issue 33, part 5): a SQLAlchemy 2 service with an Alembic project (tests/alembic_project:
revision 0001 applied, a naive 0002 that renames a column, adds one and indexes the renamed one).

0002 goes through `labkit convert --alembic` -> one plan -> `labkit export alembic --replaces 0002 --wire-env` (the
converted revisions take its place in the history, labkit's include_object in env.py) -> `alembic upgrade +1` at
each deploy stop, while real SQLAlchemy processes write through the ORM (which checks every UPDATE's row count):
the old code, then the new code through the view `labkit status --json` names, both at once at each roll-out.
Checked: no request failed, every acknowledged write is there, `labkit status` followed the revisions, and
`alembic check` is clean against the new code's models.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import labkit as lk
from labkit.cli import main
from tests.conftest import reset_database, sqlalchemy_url, status_json
from tests.releases import Release

PROJECT = Path(__file__).parent / "alembic_project"


def _env(url: str, code: str, search_path: str | None = None) -> dict[str, str]:
    env = {**os.environ, "SHOP_SA_URL": sqlalchemy_url(url), "SHOP_CODE": code}
    env.pop("SHOP_SEARCH_PATH", None)
    if search_path:
        env["SHOP_SEARCH_PATH"] = search_path
    return env


def _alembic(url: str, *args: str, project: Path = PROJECT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alembic", *args], cwd=project, env=_env(url, "new"),
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip


def _status(url: str) -> dict[str, Any]:
    (plan,) = status_json(url)["plans"]
    return plan


def test_a_naive_revision_replaced_by_labkits_runs_under_two_sqlalchemy_releases_and_alembic_check_is_clean(
    pg_url, tmp_path, monkeypatch
):
    project = tmp_path / "service"  # a copy: the export rewrites its versions folder and its env.py
    subprocess.run(["cp", "-r", str(PROJECT), str(project)], check=True)
    with lk.connect(pg_url) as db:
        reset_database(db)
    done = _alembic(pg_url, "upgrade", "0001", project=project)
    assert done.returncode == 0, done.stderr
    with lk.connect(pg_url) as db:
        db.execute("INSERT INTO orders (status, note) SELECT 's' || g, 'n' || g FROM generate_series(1, 300) g")
    for name, value in _env(pg_url, "new").items():  # labkit runs in the service's environment
        monkeypatch.setenv(name, value)
    said = io.StringIO()
    old = Release(project, _env(pg_url, "old"), 0, tmp_path).wrote()
    with contextlib.redirect_stdout(said):
        assert main(["convert", "--alembic", str(project), "0002", "--db", pg_url, "-o", str(tmp_path / "p.json")]
                    ) == 0, said.getvalue()  # fmt: skip
        assert main(["export", "alembic", str(tmp_path / "p.json"), "--db", pg_url, "--dir",
                     str(project / "migrations" / "versions"), "--replaces", "0002", "--wire-env"]) == 0  # fmt: skip
    assert "revision 0002 left the chain" in said.getvalue()
    releases, deployed = [old], []
    while True:
        done = _alembic(pg_url, "upgrade", "+1", project=project)
        assert done.returncode == 0, done.stderr
        plan = _status(pg_url)
        if plan["status"] == "completed":
            break
        assert plan["next"]["command"] == "complete"  # labkit's state follows the revisions
        version = plan["next"]["deploy"][-1]
        path = next(v["search_path"] for v in plan["versions"] if v["name"] == version)
        new = Release(project, _env(pg_url, "new", path), len(releases) % 3, tmp_path)
        new.wrote(), releases[-1].wrote()  # both at once: the rolling deploy
        releases[-1].finish()
        new.wrote()
        releases.append(new)
        deployed.append(version)
    releases[-1].wrote()
    releases[-1].finish()
    assert deployed == ["v2", "v3"]
    assert [e for r in releases for e in r.errors] == []
    with lk.connect(pg_url) as db:
        rows = dict(db.query("SELECT id, state FROM orders"))
        for r in releases:  # each release's rows hold its last acknowledged write
            assert {i: rows.get(i) for i in r.acked} == r.acked
    heads = _alembic(pg_url, "heads", project=project)
    assert heads.returncode == 0 and "0002" not in heads.stdout.split(), heads.stdout
    checked = _alembic(pg_url, "check", project=project)
    assert checked.returncode == 0, checked.stdout + checked.stderr  # the models and the database agree
    with lk.connect(pg_url) as db:
        reset_database(db)
