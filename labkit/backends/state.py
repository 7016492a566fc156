"""``labkit_migrations``: the record of every run on a database, and the one module that reads or writes it.

One row per (table, plan): the plan's fingerprint, the step and batch committed last (with the last key a batch
covered), the status (``running``; ``rolling_back``: a rollback under way, or one that failed and is finished by
running it again; ``completed``; ``rolled_back``), when it started and last changed, and the plan as a plan file (so
``labkit complete`` needs only the database). Every change a run makes and the row that records it commit in one
transaction: the callers open it, this module writes inside it. *(pgroll keeps the same in ``pkg/state``.)*
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import keys
from ..errors import PrivilegeError

if TYPE_CHECKING:
    from .dialect import Session

STATE_TABLE = "labkit_migrations"
ALEMBIC_PROGRESS = "labkit_alembic_progress"  # the units an exported Alembic revision committed (labkit.export_alembic)


def owns(table: str | None) -> bool:
    """Is ``table`` one of labkit's own bookkeeping tables (to leave out of an app's schema comparison)?"""
    return table in (STATE_TABLE, ALEMBIC_PROGRESS)
UNFINISHED = ("running", "rolling_back")  # a run cut off (a crash, a lost connection) or stopped on request
_COLUMNS = ("plan", "fingerprint", "step_index", "batch", "last_id", "status", "step", "last_key")
# column -> its type per engine; added by a later labkit: (column, type) added to a table an older one made
_TYPES = {
    "sqlite": {"text": "TEXT", "int": "INTEGER", "bigint": "INTEGER", "time": "TEXT"},
    "postgresql": {"text": "text", "int": "integer", "bigint": "bigint", "time": "timestamptz"},
}
_LATER = ("last_key", "plan_json")
USES = ("SELECT", "INSERT", "UPDATE", "DELETE")  # what a run does to the state table (status only reads it)


def _ddl(engine: str) -> str:
    t = _TYPES[engine]
    return (
        f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (table_name {t['text']} NOT NULL, plan {t['text']} NOT NULL, "
        f"fingerprint {t['text']} NOT NULL, step_index {t['int']} NOT NULL, step {t['text']}, "
        f"batch {t['int']} NOT NULL DEFAULT 0, last_id {t['bigint']}, last_key {t['text']}, "
        f"status {t['text']} NOT NULL, started_at {t['time']} NOT NULL, updated_at {t['time']} NOT NULL, "
        f"plan_json {t['text']}, PRIMARY KEY (table_name, plan))"
    )


def state_ddl(engine: str) -> str:
    """The state table's CREATE TABLE IF NOT EXISTS on ``engine`` (an exported Alembic revision records its plan
    in it, as a run does)."""
    return _ddl(engine)


def exists(db: Session) -> bool:
    return STATE_TABLE in db.tables()


def missing_access(db: Session, privileges: tuple[str, ...] = USES) -> PrivilegeError | None:
    """PostgreSQL: what of ``privileges`` this role lacks on the state table another role created (None: all
    there, or no table yet), naming the role, the privileges and whom to ask."""
    if db.dialect.name != "postgresql" or not exists(db):
        return None
    user, owner, *allowed = db.query(
        "SELECT current_user, pg_get_userbyid(c.relowner), "
        + ", ".join(f"has_table_privilege(c.oid, '{p}')" for p in privileges)
        + " FROM pg_class c WHERE c.oid = to_regclass(%s)",
        [STATE_TABLE],
    )[0]
    lacking = [p for p, ok in zip(privileges, allowed) if not ok]
    return PrivilegeError(user, ", ".join(lacking), STATE_TABLE, owner) if lacking else None


def _need_access(db: Session, privileges: tuple[str, ...]) -> None:
    """Refuse in one typed error, before any statement fails on a privilege halfway through a command."""
    missing = missing_access(db, privileges)
    if missing is not None:
        raise missing


def runs(db: Session) -> list[dict[str, Any]]:
    """Every row: what ran on this database, how far it got, and how it ended (oldest first)."""
    if not exists(db):
        return []
    _need_access(db, ("SELECT",))
    cur = db.execute(f"SELECT * FROM {STATE_TABLE} ORDER BY started_at, plan")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def unfinished(db: Session) -> list[dict[str, Any]]:
    """The runs cut off or stopped, which ``labkit complete`` / ``rollback`` / the same plan again carry on."""
    return [r for r in runs(db) if r["status"] in UNFINISHED]


def drop(db: Session) -> None:
    """Forget every run (a lab's fresh start; never on a database whose runs someone may still need)."""
    if exists(db):
        db.drop_table(STATE_TABLE)


class RunState:
    """The rows of one table (``table``: as qualified), for the backend that migrates it."""

    def __init__(self, db: Session, table: str) -> None:
        self.db = db
        self.table = table
        self._p = db.dialect.param
        self._now = db.dialect.now
        self._readable = False  # checked once: may this role use the state table (another role's, maybe)?

    def ensure(self) -> None:
        """Create the table (its own transaction), or add what an older labkit's lacks."""
        if not exists(self.db):
            with self.db.transaction():
                if self.db.dialect.name == "postgresql":  # two first runs at once: one creates it, the other waits
                    self.db.execute("SELECT pg_advisory_xact_lock(hashtext('labkit state table'))")
                self.db.execute(_ddl(self.db.dialect.name))
            return
        _need_access(self.db, USES)
        have = [c for c, _ in self.db.dialect.columns(self.db, STATE_TABLE)]
        text = _TYPES[self.db.dialect.name]["text"]
        for column in _LATER:
            if column not in have:
                with self.db.transaction():
                    self.db.execute(f"ALTER TABLE {STATE_TABLE} ADD COLUMN {column} {text}")

    def get(self, plan: str) -> dict[str, Any] | None:
        """The row of ``plan`` on this table (``plan``, ``fingerprint``, ``step_index``, ``batch``, ``last_id``,
        ``status``, ``step``, ``last_key``), or None."""
        if not exists(self.db):
            return None
        if not self._readable:  # a migrating command reads and writes it: say all it lacks, before it starts
            _need_access(self.db, USES)
            self._readable = True
        p = self._p
        row = self.db.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM {STATE_TABLE} WHERE table_name = {p} AND plan = {p}",
            [self.table, plan],
        ).fetchone()
        return dict(zip(_COLUMNS, row)) if row is not None else None

    def cut_off(self, plan: str) -> dict[str, Any] | None:
        """The row of ``plan`` if its run is unfinished (to resume or undo), else None."""
        state = self.get(plan)
        return state if state and state["status"] in UNFINISHED else None

    def others_cut_off(self, plan: str) -> list[tuple[str, str]]:
        """Other plans' unfinished runs on this table: (plan, step)."""
        if not exists(self.db):
            return []
        p = self._p
        rows = self.db.query(
            f"SELECT plan, step FROM {STATE_TABLE} WHERE table_name = {p} AND plan <> {p} "
            f"AND status IN ({', '.join(repr(s) for s in UNFINISHED)}) ORDER BY plan",
            [self.table, plan],
        )
        return [(r[0], r[1] or "") for r in rows]

    def open(self, plan: str, fingerprint: str, first_step: str, plan_json: str | None) -> None:
        """A fresh run of ``plan``: its row (an older row of the same plan replaced), in its own transaction."""
        p, now = self._p, self._now
        with self.db.transaction():
            self.db.execute(f"DELETE FROM {STATE_TABLE} WHERE table_name = {p} AND plan = {p}", [self.table, plan])
            self.db.execute(
                f"INSERT INTO {STATE_TABLE} (table_name, plan, fingerprint, step_index, step, batch, status, "
                f"started_at, updated_at, plan_json) VALUES ({p}, {p}, {p}, 0, {p}, 0, 'running', {now}, {now}, {p})",
                [self.table, plan, fingerprint, first_step, plan_json],
            )

    def save(self, plan: str, step_index: int, step: str | None, batch: int = 0, last_key: Any = None,
             status: str | None = None) -> None:  # fmt: skip
        """Where the run is: the next step, the batches of it committed, the last key covered. Inside the caller's
        transaction, the one that commits the change this records."""
        p = self._p
        sets = f"step_index = {p}, step = {p}, batch = {p}, last_id = {p}, last_key = {p}, updated_at = {self._now}"
        last_id = last_key if isinstance(last_key, int) and not isinstance(last_key, bool) else None
        params: list[Any] = [step_index, step, batch, last_id, keys.encode(last_key) if last_key is not None else None]
        if status:
            sets += f", status = {p}"
            params.append(status)
        self.db.execute(f"UPDATE {STATE_TABLE} SET {sets} WHERE table_name = {p} AND plan = {p}",
                        [*params, self.table, plan])  # fmt: skip

    def close(self, plan: str, status: str) -> bool:
        """How the run ended (``completed``, ``rolled_back``; ``rolling_back`` for a rollback to finish); False if
        nothing records it."""
        if not exists(self.db):
            return False
        p = self._p
        with self.db.transaction():
            self.db.execute(
                f"UPDATE {STATE_TABLE} SET status = {p}, updated_at = {self._now} "
                f"WHERE table_name = {p} AND plan = {p}",
                [status, self.table, plan],
            )
        return True

    def forget(self) -> None:
        """Delete this table's rows (a lab exercise starting afresh on a table it made)."""
        if exists(self.db):
            with self.db.transaction():
                self.db.execute(f"DELETE FROM {STATE_TABLE} WHERE table_name = {self._p}", [self.table])
