"""App versions as unkind as real ones, for the tests that run labkit's lifecycle under them.

A ``Writer`` is one app version writing in a thread of its own, with a connection of its own: INSERTs that leave the
migrated column to its DEFAULT when it has one, UPDATEs whose row count it checks (as an ORM does), edge values
(NULL where the column takes it, empty, non-Latin, long, the type's extremes). It keeps each acknowledged write
(row id -> last value) and each failure. Two clients: plain SQL through labkit's own connection, and SQLAlchemy's ORM
(a declarative model over the table or the version's view: ``session.add`` / attribute changes / ``commit``; its
UPDATE raises ``StaleDataError`` when the row count is not 1).
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import labkit as lk
from labkit.cli import main
from tests.conftest import alembic, alembic_project, labkit, sqlalchemy_url

TEXTS = ["new", "paid", "shipped", "", "Zürich ✓", "注文", "x" * 200]  # empty, non-Latin, long
INTEGERS = [0, 1, 7, 42, 2147483647]  # the extremes an integer column holds that a CHECK (>= 0) lets through

LIVE: list[Writer] = []  # every writer started: a fixture stops them, so a failed test leaves none behind


def stop_all() -> None:
    while LIVE:
        LIVE.pop().finish()


@dataclass
class Writer:
    """One app version: where it writes (``ref``: the table, or its version's view), the name it knows the
    column by, and how it picks a value (``values(rng, n)``; None is a NULL)."""

    url: str
    version: str
    ref: str
    column: str
    values: Callable[[random.Random, int], Any]
    seed: int
    omit: bool = True  # an INSERT may leave the column out (it has a DEFAULT, or takes NULL)
    client: str = "sql"  # or "orm"
    pause: float = 0.002
    acked: dict[Any, Any] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    writes: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    ready: threading.Event = field(default_factory=threading.Event)  # its client is made: the next write is a write
    thread: threading.Thread | None = None
    counted: threading.Condition = field(default_factory=threading.Condition)  # notified at every write made

    def start(self) -> Writer:
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"app-{self.version}")
        self.thread.start()
        LIVE.append(self)
        self.ready.wait(timeout=60)  # (the first ORM client of a process takes SQLAlchemy's import: a second or so)
        return self

    def wrote(self, n: int = 3, timeout: float = 120) -> Writer:
        """Wait until this version has made ``n`` more writes (acknowledged or failed) than when called: what a test
        needs before it moves on (the app wrote in this phase), never a window of time, which a busy machine fills
        with fewer writes. Fails after ``timeout`` seconds (generous: a stalled app is a finding, not a slow one)."""
        with self.counted:
            target = self.writes + n
            done = self.counted.wait_for(lambda: self.writes >= target or self.thread is None
                                         or not self.thread.is_alive(), timeout=timeout)  # fmt: skip
        assert done and self.writes >= target, (
            f"app {self.version} made {self.writes} of the {target} writes awaited in {timeout:.0f} s")
        return self

    def finish(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=30)

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            with self.counted:  # a waiter learns at once that no more writes will come
                self.counted.notify_all()

    def _loop(self) -> None:
        rng = random.Random(self.seed)
        try:
            client = _OrmClient(self) if self.client == "orm" else _SqlClient(self)
        finally:
            self.ready.set()
        try:
            n = 0
            while not self.stop.is_set():
                n += 1
                try:
                    self._one(client, rng, n)
                except Exception as exc:  # a failed request: the app saw an error, nothing acknowledged
                    client.recover()
                    self.failed.append(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
                with self.counted:
                    self.writes += 1
                    self.counted.notify_all()
                time.sleep(self.pause)
        finally:
            client.close()

    def _one(self, client: _Client, rng: random.Random, n: int) -> None:
        if self.acked and rng.random() < 0.4:
            row_id = rng.choice(sorted(self.acked))
            value = self.values(rng, n)
            client.update(row_id, value)  # raises when it matched no row
            self.acked[row_id] = value
        elif self.omit and rng.random() < 0.5:
            row_id, stored = client.insert(None, omit=True)  # what the DEFAULT gave, as the app read it back
            self.acked[row_id] = stored
        else:
            value = self.values(rng, n)
            if value is None and self.omit and self.client == "orm":  # the ORM leaves a None out: the default it is
                row_id, self.acked[row_id] = client.insert(None, omit=True)
                return
            row_id, _ = client.insert(value, omit=False)
            self.acked[row_id] = value


class _Client:
    def insert(self, value: Any, *, omit: bool) -> tuple[Any, Any]: ...
    def update(self, row_id: Any, value: Any) -> None: ...
    def recover(self) -> None: ...
    def close(self) -> None: ...


class _SqlClient(_Client):
    def __init__(self, w: Writer) -> None:
        self.w = w
        self.db = lk.connect(w.url)
        self.p = self.db.dialect.param
        self.col = self.db.dialect.quote(w.column)

    def insert(self, value: Any, *, omit: bool) -> tuple[Any, Any]:
        with self.db.transaction():
            if omit:  # as an ORM with server defaults does: the value stored comes back with the id
                row = self.db.execute(f"INSERT INTO {self.w.ref} (note) VALUES ({self.p}) RETURNING id, {self.col}",
                                      [self.w.version]).fetchone()  # fmt: skip
            else:
                row = self.db.execute(f"INSERT INTO {self.w.ref} ({self.col}, note) VALUES ({self.p}, {self.p}) "
                                      f"RETURNING id, {self.col}", [value, self.w.version]).fetchone()  # fmt: skip
        return row[0], row[1]

    def update(self, row_id: Any, value: Any) -> None:
        with self.db.transaction():
            sql = f"UPDATE {self.w.ref} SET {self.col} = {self.p}, note = {self.p} WHERE id = {self.p}"
            count = self.db.execute(sql, [value, self.w.version, row_id]).rowcount
        if count != 1:
            raise AssertionError(f"UPDATE matched {count} rows (an ORM raises StaleDataError)")

    def close(self) -> None:
        self.db.close()


class _OrmClient(_Client):
    """SQLAlchemy 2's ORM: a model over ``ref`` with the id, the column (as the version names it) and ``note``."""

    def __init__(self, w: Writer) -> None:
        import sqlalchemy as sa
        from sqlalchemy import orm

        self.w = w
        url = w.url.replace("postgresql://", "postgresql+psycopg://", 1)
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        schema, _, name = w.ref.replace('"', "").replace("`", "").rpartition(".")
        metadata = sa.MetaData()
        # a column the app may leave out is declared with a server default, as a model of a column with a DEFAULT
        # is (else the ORM writes NULL into it); the value the server gave is read back (eager_defaults)
        fetched = sa.FetchedValue() if w.omit else None
        table = sa.Table(name, metadata, sa.Column("id", sa.BigInteger, primary_key=True),
                         sa.Column(w.column, key="value", server_default=fetched), sa.Column("note", sa.Text),
                         schema=schema or None)  # fmt: skip

        class Base(orm.DeclarativeBase):
            pass

        class Row(Base):
            __table__ = table
            __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012 (the ORM reads the server's defaults back)

        self.Row = Row
        self.session = orm.Session(self.engine, expire_on_commit=False)

    def insert(self, value: Any, *, omit: bool) -> tuple[Any, Any]:
        row = self.Row(note=self.w.version) if omit else self.Row(value=value, note=self.w.version)
        self.session.add(row)
        self.session.commit()
        return row.id, row.value

    def update(self, row_id: Any, value: Any) -> None:
        row = self.session.get(self.Row, row_id)
        if row is None:
            raise AssertionError(f"row {row_id} is gone")
        row.value, row.note = value, self.w.version
        self.session.commit()  # StaleDataError if the UPDATE matched no row

    def recover(self) -> None:
        self.session.rollback()
        self.session.expunge_all()

    def close(self) -> None:
        self.session.close()
        self.engine.dispose()


def lost(writers: list[Writer], rows: dict[Any, Any]) -> list[str]:
    """Acknowledged writes missing, or holding another value, where the surviving version reads."""
    out = []
    for w in writers:
        for row_id, value in w.acked.items():
            if rows.get(row_id, "<no row>") != value:
                out.append(f"{w.version} wrote {value!r} to row {row_id}; it reads {rows.get(row_id, '<no row>')!r}")
    return out


class Driver:
    """How the migration is carried, from ``plan.json`` in ``tmp_path``: labkit's CLI as a real process ("cli"),
    the same commands in this process ("in-process", for speed), or the plan exported to Alembic and run by
    Alembic ("alembic": ``upgrade +1`` starts, ``upgrade head`` completes, ``downgrade -1`` rolls back), as the
    ``alembic`` command in a process of its own, or through Alembic's own command API in this process
    ("alembic-in-process": the same ``env.py`` and revisions, without a Python start-up per command)."""

    def __init__(self, kind: str, url: str, tmp_path: Path) -> None:
        self.kind, self.url, self.tmp_path = kind, url, tmp_path
        if kind.startswith("alembic"):
            self.project = alembic_project(tmp_path, url)
            versions = self.project / "migrations" / "versions"
            plan = str(tmp_path / "plan.json")
            self._ok(self._labkit("export", "alembic", plan, "--db", url, "--dir", str(versions)))

    def _labkit(self, *args: str) -> tuple[int, str]:
        if self.kind == "cli":
            done = labkit(*args, cwd=self.tmp_path)
            return done.returncode, done.stdout + done.stderr
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
        return code, out.getvalue() + err.getvalue()

    def _alembic(self, command: str, target: str) -> tuple[int, str]:
        if self.kind == "alembic":
            done = alembic(self.project, command, target)
            return done.returncode, done.stdout + done.stderr
        from alembic import command as commands
        from alembic.config import Config

        # no ini file: the env.py that `alembic init` writes then skips logging.fileConfig, which would reconfigure
        # (and disable) this test process's loggers; the two settings the ini holds are given here instead
        config = Config()
        config.set_main_option("script_location", str(self.project / "migrations"))
        config.set_main_option("sqlalchemy.url", sqlalchemy_url(self.url))
        err = io.StringIO()
        try:
            with contextlib.redirect_stderr(err):
                getattr(commands, command)(config, target)
        except Exception as exc:  # what the alembic command would print before exiting 1
            return 1, f"{err.getvalue()}{type(exc).__name__}: {exc}"
        return 0, err.getvalue()

    def _ok(self, done: tuple[int, str], code: int = 0) -> str:
        assert done[0] == code, done[1]
        return done[1]

    def start(self, code: int = 0) -> str:
        if self.kind.startswith("alembic"):
            return self._ok(self._alembic("upgrade", "+1"), code)
        return self._ok(self._labkit("start", str(self.tmp_path / "plan.json"), "--db", self.url), code)

    def complete(self, *extra: str, code: int = 0, deploy: Callable[[list[str]], object] | None = None) -> str:
        """``complete`` until the plan is done, as a deploy script does from ``labkit status --json`` alone: at each
        deploy stop ``deploy(versions)`` rolls them out (the test's writers; nothing by default), then complete
        again. (Alembic: ``upgrade head``.) What every leg said."""
        if self.kind.startswith("alembic"):
            return self._ok(self._alembic("upgrade", "head"), code)
        said = []
        while True:
            said.append(self._ok(self._labkit("complete", "--db", self.url, *extra), code))
            status = json.loads(self._ok(self._labkit("status", "--json", "--db", self.url)))
            left = [p["next"] for p in status["plans"] if p["next"] and p["next"]["command"] == "complete"]
            if code != 0 or not left:
                return "".join(said)
            if deploy is not None:
                deploy(left[0]["deploy"])

    def rollback(self, *extra: str, code: int = 0) -> str:
        if self.kind.startswith("alembic"):
            return self._ok(self._alembic("downgrade", "-1"), code)
        return self._ok(self._labkit("rollback", "--db", self.url, *extra), code)
