"""SQLite: a real file in WAL mode, AFTER triggers for dual writes, one view per app version."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sqlite3
import time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._common import TRIGGER_PREFIX
from ..errors import DatabaseUnavailableError, InvalidArgumentError, InvalidNameError
from ..throttle import Load
from . import catalog_sqlite
from .base import sql_literal

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from ..catalog import TableCatalog
    from .dialect import Session

try:  # POSIX: a lock the kernel drops when the process dies, even on SIGKILL
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

# How long labkit waits for SQLite's write lock before a step fails (and the plan rolls back). SQLite keeps no queue
# for it, so an app writing in a tight loop on a loaded machine can win it poll after poll. Waiting costs the app
# nothing here (a BEGIN IMMEDIATE that waits blocks nobody, unlike a PostgreSQL ALTER in the lock queue), so the
# wait is long.
BUSY_TIMEOUT_MS = 15_000
# SQLite's type-name grammar: words, then optionally one or two signed numbers in parentheses; or nothing
_WORDS = r"[A-Za-z_][A-Za-z0-9_]*( [A-Za-z_][A-Za-z0-9_]*)*"
_SIZE = r"( ?\(\s*[+-]?\d+\s*(,\s*[+-]?\d+\s*)?\))?"
_TYPE_NAME = re.compile(rf"^({_WORDS}{_SIZE})?$")


def quote(ident: str) -> str:
    """Quote a validated identifier (names are checked to be plain lower-case identifiers first).

    Backticks, not double quotes: SQLite turns a double-quoted name that matches no column into a string
    literal, so ``SELECT "name"`` after ``name`` was renamed would return the text 'name' instead of failing.
    A backtick-quoted name is always an identifier.
    """
    return "`" + ident.replace("`", "``") + "`"


def _while_locked(attempt: Callable[[], object]) -> None:
    """Call ``attempt`` until SQLite stops answering "database is locked", in fine steps, for at most
    BUSY_TIMEOUT_MS (SQLite's own busy handler sleeps up to 100 ms at a time: a writer would stall that long)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.0002
    while True:
        try:
            attempt()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.002)


class SQLiteDialect:
    name = "sqlite"
    param = "?"
    now = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
    id_type = "INTEGER PRIMARY KEY AUTOINCREMENT"  # AUTOINCREMENT: ids are never reused, as in the Table
    max_attempts = 1
    lock_timeout_ms = None  # SQLite has one lock, the write lock: BUSY_TIMEOUT_MS bounds every wait for it

    def __init__(self, path: str) -> None:
        if not path:
            raise InvalidArgumentError("sqlite:/// needs a file path, e.g. sqlite:///lab.db")
        if sqlite3.sqlite_version_info < (3, 35):
            raise DatabaseUnavailableError(
                "SQLite", f"version {sqlite3.sqlite_version} is too old: DROP COLUMN and RETURNING need 3.35+"
            )
        self.path = path
        self.display = path
        self._lock_file: Any = None

    quote = staticmethod(quote)

    def fresh(self) -> SQLiteDialect:
        """The same settings, for another connection (``Database.clone``)."""
        return SQLiteDialect(self.path)

    # ---------------------------------------------------------------- connection
    def open(self) -> sqlite3.Connection:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # busy_timeout 0: labkit waits for the write lock itself (begin() below), in fine steps; SQLite's own
        # busy handler sleeps in steps of up to 100 ms, which alone would make a 5 ms batch stall a writer 100 ms
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=0, check_same_thread=False)
        for sql in self.session_sql():
            # journal_mode can meet another connection's closing checkpoint, which locks the file for a moment
            _while_locked(functools.partial(conn.execute, sql))
        sqlite3.register_adapter(Decimal, str)
        return conn

    def session_sql(self) -> list[str]:
        """What every connection runs once it opens (the SQL of a plan lists it too)."""
        return ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=0"]

    begin_sql = "BEGIN IMMEDIATE"

    def begin(self, conn: sqlite3.Connection) -> None:
        """Take the write lock now (no deadlock upgrading a read lock later), waiting at most BUSY_TIMEOUT_MS."""
        _while_locked(lambda: conn.execute(self.begin_sql))

    def lost(self, conn: sqlite3.Connection) -> bool:
        return False  # a file: there is no connection to lose

    def commit(self, conn: sqlite3.Connection) -> None:
        conn.execute("COMMIT")

    def rollback(self, conn: sqlite3.Connection) -> None:
        with contextlib.suppress(sqlite3.OperationalError):  # already rolled back by SQLite itself
            conn.execute("ROLLBACK")

    def ddl_prelude(self) -> list[str]:
        return []  # busy_timeout bounds every wait for the write lock

    def quiet_triggers(self, db: Session) -> list[str]:
        """SQLite cannot keep a session's writes from firing triggers: the safety rule
        ``backfill-fires-user-triggers`` names them before the run instead."""
        return []

    def session_prelude(self) -> list[str]:
        """Before statements that run outside a transaction (``SET LOCAL`` would not outlive them)."""
        return []

    def session_reset(self) -> list[str]:
        return []

    def load(self, db: Session, table: str) -> Load:
        """SQLite has no standby and shows no lock queue: nothing to throttle on but the batch's own time."""
        return Load()

    def missing_privileges(self, db: Session, table: str, *, versions: Sequence[str]) -> list[str]:
        """SQLite's privileges are the file's: it must be writable, and so must its folder (the WAL, the
        shared-memory file and labkit's lock file live beside it)."""
        path = Path(self.path)
        missing = []
        if path.exists() and not os.access(path, os.W_OK):
            missing.append(f"the database file {path} is read-only for this process")
        if not os.access(path.parent, os.W_OK):
            missing.append(f"the folder {path.parent} is read-only: SQLite's WAL and labkit's lock file go there")
        return missing

    def retry_delay(self, exc: Exception, attempt: int) -> float | None:
        return None

    # ---------------------------------------------------------------- catalogue
    has_schemas = False  # an attached database is not supported

    def quote_table(self, qualified: str) -> str:
        return quote(qualified)

    def current_schema(self, db: Session) -> str:
        return "main"

    def table_exists(self, db: Session, qualified: str) -> bool:
        return qualified in self.tables(db)

    def resolve(self, db: Session, kind: str, name: str, schema: str | None,
                search_path: Sequence[str] | None = None) -> tuple[str, str] | None:  # fmt: skip
        """(``"main"``, table) of the table ``name``, or of the table index ``name`` is on (SQLite: one schema)."""
        if schema not in (None, "main"):
            return None
        rows = db.query("SELECT tbl_name FROM sqlite_master WHERE type = ? AND name = ?", [kind, name])
        return ("main", str(rows[0][0])) if rows else None

    def type_change_rewrites(self, db: Session, table: str, column: str, sql_type: str) -> bool:
        return True  # SQLite has no ALTER COLUMN: a type change copies the column, whatever the types

    def volatile(self, db: Session, expr: str) -> bool:
        return False  # SQLite refuses a non-constant default in ADD COLUMN itself

    def tables(self, db: Session) -> list[str]:
        """The user's tables (not SQLite's own, such as sqlite_sequence, which cannot be dropped)."""
        rows = db.query(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
        )
        return [r[0] for r in rows]

    def columns(self, db: Session, table: str) -> list[tuple[str, str]]:
        return [(r[1], r[2]) for r in db.query(f"PRAGMA table_info({quote(table)})")]

    def check_type(self, db: Session, sql_type: str) -> None:
        """SQLite takes any type name (its affinity follows from the name) and none at all (``""``): refuse only
        what is not a type name by SQLite's grammar, so it can be written into DDL as it is."""
        if not isinstance(sql_type, str) or not _TYPE_NAME.match(sql_type):
            raise InvalidNameError(
                sql_type, kind="column type", reason="use a type name such as TEXT, INTEGER or VARCHAR(20), or none"
            )

    def column_type(self, db: Session, sql_type: str) -> str:
        self.check_type(db, sql_type)
        return sql_type

    def type_for(self, value: Any) -> str:
        if isinstance(value, bool) or isinstance(value, int):
            return "INTEGER"
        if isinstance(value, float):
            return "REAL"
        if isinstance(value, Decimal):
            return "NUMERIC"
        return "TEXT"

    def literal(self, value: Any) -> str:
        return sql_literal(value, true="1", false="0")

    def check_expression(self, expr: str) -> None:
        return None  # SQLite's driver refuses a second statement when the expression is compiled

    def bulk_load(self, db: Session, table: str, columns: list[str], rows: Iterable[Sequence[Any]]) -> None:
        names = ", ".join(quote(c) for c in columns)
        marks = ", ".join("?" * len(columns))
        db.conn.executemany(f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})", rows)

    def drop_table(self, db: Session, table: str) -> None:
        for trigger in self.labkit_triggers(db, table):
            db.execute(f"DROP TRIGGER IF EXISTS {quote(trigger)}")
        for view in self.labkit_views(db, table):
            db.execute(f"DROP VIEW IF EXISTS {quote(view)}")
        db.execute(f"DROP TABLE IF EXISTS {quote(table)}")

    # ---------------------------------------------------------------- one migration at a time
    def try_lock(self, db: Session, table: str) -> bool:
        if fcntl is None:  # pragma: no cover
            return True
        handle = open(f"{self.path}.labkit-lock", "a")  # held until unlock(); the kernel drops it if we die
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._lock_file = handle
        return True

    def unlock(self, db: Session, table: str) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()  # the file stays: unlinking it would let two holders lock two inodes
            self._lock_file = None

    def catalog(self, db: Session, table: str) -> TableCatalog:
        """The table as the catalog describes it (see ``labkit.catalog``)."""
        return catalog_sqlite.read(db, table)

    # ---------------------------------------------------------------- dual-write triggers (see steps/dual_write.py)
    def labkit_triggers(self, db: Session, table: str) -> list[str]:
        return [
            r[0]
            for r in db.query(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? AND name LIKE ? ORDER BY name",
                [table, TRIGGER_PREFIX + "%"],
            )
        ]

    # ---------------------------------------------------------------- versioned views: "<table>__<version>"
    def view_name(self, table: str, version: str) -> str:
        return f"{table}__{version}"

    def view_ref(self, table: str, version: str) -> str:
        """The view as SQL names it (quoted)."""
        return quote(self.view_name(table, version))

    def create_view_sql(
        self, table: str, version: str, columns: dict[str, str], key: tuple[str, ...] = ("id",)
    ) -> list[str]:
        """The view, with every column aliased (so a later RENAME COLUMN keeps the names it shows), and
        INSTEAD OF triggers so the app can write through it (SQLite views are read-only otherwise)."""
        view = quote(self.view_name(table, version))
        shown = [c for c in columns if c not in key]
        match = " AND ".join(f"{quote(k)} = OLD.{quote(k)}" for k in key)
        select = ", ".join(f"{quote(real)} AS {quote(name)}" for name, real in columns.items())
        sets = ", ".join(f"{quote(columns[c])} = NEW.{quote(c)}" for c in shown)
        names = ", ".join(quote(columns[c]) for c in shown)
        values = ", ".join(f"NEW.{quote(c)}" for c in shown)
        upd, ins = (quote(f"{self.view_name(table, version)}_{kind}") for kind in ("upd", "ins"))
        return [
            f"CREATE VIEW IF NOT EXISTS {view} AS SELECT {select} FROM {quote(table)}",
            f"CREATE TRIGGER IF NOT EXISTS {upd} INSTEAD OF UPDATE ON {view} "
            f"BEGIN UPDATE {quote(table)} SET {sets} WHERE {match}; END",
            f"CREATE TRIGGER IF NOT EXISTS {ins} INSTEAD OF INSERT ON {view} "
            f"BEGIN INSERT INTO {quote(table)} ({names}) VALUES ({values}); END",
        ]

    def drop_view_sql(self, view: str) -> str:
        return f"DROP VIEW IF EXISTS {quote(view)}"

    def view_default_sql(self, view: str, column: str, expression: str) -> str | None:
        return None  # a SQLite view has no defaults (and a copy of a column with a DEFAULT is refused there)

    def view_grants_sql(self, db: Session, table: str, view: str) -> list[str]:
        return []  # SQLite has no roles: whoever opens the file reads it all

    def labkit_views(self, db: Session, table: str) -> list[str]:
        rows = db.query("SELECT name FROM sqlite_master WHERE type = 'view' AND name LIKE ? ESCAPE '\\' ORDER BY name",
                        [table.replace("_", "\\_") + "\\_\\_%"])  # fmt: skip
        return [r[0] for r in rows]

    def empty_view_homes(self, db: Session, vacated: Sequence[str] = ()) -> list[str]:
        return []  # SQLite's views live beside the table: nothing else to tidy

    def view_columns(self, db: Session, view: str) -> list[str]:
        return [r[1] for r in db.query(f"PRAGMA table_info({quote(view)})")]
