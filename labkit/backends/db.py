"""Real databases: ``connect(url)`` for SQLite files and PostgreSQL servers, and table handles.

A ``DbTable`` has the same interface as the in-memory ``Table`` (``column_names``, ``row_count``, ``insert``,
``get``, ``to_frame`` ...), so the builders, ``validate_migration_safety``, ``MigrationRunner`` and the views take
either. Identifiers are validated (plain lower-case names) and quoted; values are always bound parameters.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .. import keys
from .._common import check_name
from ..errors import ColumnNotFoundError, InvalidNameError, RowNotFoundError, TableNotFoundError
from ..table import Table, TableSnapshot
from . import state

if TYPE_CHECKING:
    import pandas as pd

    from ..catalog import TableCatalog
    from .dialect import Dialect


class Database:
    """One connection to one database. Use one ``Database`` per thread (``db.clone()`` opens another)."""

    def __init__(self, url: str, dialect: Dialect) -> None:
        self.url = url
        self.dialect = dialect
        self.conn = dialect.open()
        self._depth = 0
        self._lock = threading.RLock()
        self.closed = False

    # ---------------------------------------------------------------- plumbing
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        # no parameters, no placeholder parsing: a literal % in the SQL stays a %
        return self.conn.execute(sql, tuple(params)) if params else self.conn.execute(sql)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self.execute(sql, params).fetchall())

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Database]:
        """One transaction; nested calls join the outer one."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self
                finally:
                    self._depth -= 1
                return
            self.dialect.begin(self.conn)
            self._depth = 1
            try:
                yield self
            except BaseException:
                self._depth = 0
                self.dialect.rollback(self.conn)
                raise
            self._depth = 0
            self.dialect.commit(self.conn)

    def clone(self) -> Database:
        """A new connection to the same database (for another thread, e.g. an app writer)."""
        return Database(self.url, self.dialect.fresh())

    def close(self) -> None:
        if not self.closed:
            self.conn.close()
            self.closed = True

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Database({self.dialect.name}, {self.dialect.display})"

    # ---------------------------------------------------------------- tables
    def tables(self) -> list[str]:
        return self.dialect.tables(self)

    def table(self, name: str) -> DbTable:
        """A handle on table ``name``, or ``"schema.table"`` (PostgreSQL) for one outside the current schema."""
        if not isinstance(name, str):
            raise InvalidNameError(name, kind="table", reason="a table name is a string")
        schema, _, table = name.rpartition(".")
        check_name(table, kind="table")
        if schema:
            check_name(schema, kind="schema")
            if not self.dialect.has_schemas:
                raise InvalidNameError(name, kind="table", reason=f"{self.dialect.name} has no schemas")
            if schema == self.dialect.current_schema(self):
                schema = ""  # the same table as its bare name: one state row, one lock, one set of views
        if schema:
            if not self.dialect.table_exists(self, f"{schema}.{table}"):
                raise TableNotFoundError(name)
            return DbTable(self, table, schema)
        if table not in self.tables():
            raise TableNotFoundError(name, [t for t in self.tables() if not t.startswith("labkit_")])
        return DbTable(self, table)

    def create_table(self, name: str, columns: Mapping[str, str] | Sequence[str]) -> DbTable:
        """Create a table with an integer primary key ``id`` and the given columns (name -> SQL type)."""
        check_name(name, kind="table")
        cols = dict(columns) if isinstance(columns, Mapping) else {c: "TEXT" for c in columns}
        for c, t in cols.items():
            check_name(c)
            self.dialect.check_type(self, t)
        q = self.dialect.quote
        body = ", ".join([f"{q('id')} {self.dialect.id_type}", *(f"{q(c)} {t}" for c, t in cols.items())])
        with self.transaction():
            self.execute(f"CREATE TABLE {q(name)} ({body})")
        return DbTable(self, name)

    def import_table(self, table: Table, *, name: str | None = None, types: Mapping[str, str] | None = None) -> DbTable:
        """Copy an in-memory ``Table`` (ids included) into a new table; types are inferred from the values."""
        name = name or table.name
        types = dict(types or {})
        cols = table.data_columns
        for c in cols:
            if c not in types:
                sample = next((v for v in table.column(c) if v is not None), None)
                types[c] = self.dialect.type_for(sample)
        handle = self.create_table(name, {c: types[c] for c in cols})
        rows = zip(table.ids, *(table.column(c) for c in cols))
        with self.transaction():
            self.dialect.bulk_load(self, name, ["id", *cols], rows)
        return handle

    def drop_table(self, name: str) -> None:
        """Drop table ``name`` (or ``"schema.table"``) with labkit's views and triggers of it."""
        for part in name.split(".") if isinstance(name, str) else [name]:
            check_name(part, kind="table")
        with self.transaction():
            self.dialect.drop_table(self, name)

    def migrations(self) -> list[dict[str, Any]]:
        """The rows of ``labkit_migrations``: what ran here, how far it got, and how it ended."""
        return state.runs(self)


class DbTable:
    """A handle on one table of a ``Database``, with the in-memory ``Table``'s interface."""

    def __init__(self, db: Database, name: str, schema: str | None = None) -> None:
        self.db = db
        self._name = check_name(name, kind="table")
        self.schema = check_name(schema, kind="schema") if schema is not None else None  # None: the current one
        self._key: tuple[str, ...] | None = None

    @property
    def name(self) -> str:
        """The table's own name (what plans name); ``qualified`` adds its schema when it is not the current one."""
        return self._name

    @property
    def qualified(self) -> str:
        """``schema.table``, or ``table`` in the connection's current schema: what the engine, the state table and
        the lock know the table by."""
        return f"{self.schema}.{self._name}" if self.schema else self._name

    @property
    def ref(self) -> str:
        """The table as SQL names it, quoted (and schema-qualified when it is not in the current schema)."""
        return self.db.dialect.quote_table(self.qualified)

    def _q(self, ident: str) -> str:
        return self.db.dialect.quote(ident)

    @property
    def column_names(self) -> list[str]:
        return [c for c, _ in self.db.dialect.columns(self.db, self.qualified)]

    @property
    def key(self) -> tuple[str, ...]:
        """The primary key's columns, read from the catalog once (empty: the table has none)."""
        if self._key is None:
            self._key = self.catalog().key
        return self._key

    def keyset(self) -> keys.Keyset:
        """Keyset batches over this table's key (``labkit.keys.Keyset``: the one definition of a batch)."""
        d = self.db.dialect
        return keys.Keyset(self.ref, tuple(self.key), d.quote, d.param)

    def _order(self) -> str:
        """ORDER BY the key (the table's own order of rows; ``rowid`` for a SQLite table without one)."""
        key = self.key or (("rowid",) if self.db.dialect.name == "sqlite" else ())
        return "ORDER BY " + ", ".join(self._q(k) for k in key) if key else ""

    def _where_key(self) -> str:
        if not self.key:
            raise InvalidNameError(self._name, kind="table", reason="it has no primary key to find a row by")
        return f"{keys.columns_sql(self._q, self.key)} = {keys.marks_sql(self.db.dialect.param, self.key)}"

    @property
    def data_columns(self) -> list[str]:
        """Every column but the primary key's."""
        key = set(self.key) or {"id"}
        return [c for c in self.column_names if c not in key]

    def column_types(self) -> dict[str, str]:
        return dict(self.db.dialect.columns(self.db, self.qualified))

    def has_column(self, column: str) -> bool:
        return column in self.column_names

    @property
    def row_count(self) -> int:
        return int(self.db.query(f"SELECT count(*) FROM {self.ref}")[0][0])

    def __len__(self) -> int:
        return self.row_count

    @property
    def ids(self) -> list[Any]:
        """The key of every row, in key order (a tuple per row for a composite key)."""
        cols = ", ".join(self._q(k) for k in self.key)
        rows = self.db.query(f"SELECT {cols} FROM {self.ref} {self._order()}")
        return [keys.value_of(r, self.key) for r in rows]

    def catalog(self) -> TableCatalog:
        """What the catalog says about this table: key, columns as declared, constraints both ways, indexes,
        user triggers, dependent views (``labkit.catalog.TableCatalog``)."""
        return self.db.dialect.catalog(self.db, self.qualified)

    @property
    def triggers(self) -> tuple[str, ...]:
        """The dual-write triggers labkit installed on this table."""
        return tuple(self.db.dialect.labkit_triggers(self.db, self.qualified))

    @property
    def views(self) -> tuple[str, ...]:
        """The versioned views labkit created for this table."""
        return tuple(self.db.dialect.labkit_views(self.db, self.qualified))

    def seen_by(self, version: str) -> VersionView | None:
        """App ``version``'s versioned view of this table, if labkit made one: what that version's queries
        go through when it names a column the table does not have (a rename through views, approach B)."""
        d = self.db.dialect
        name = d.view_name(self.qualified, version)
        if name not in self.views:
            return None
        return VersionView(self, d.view_ref(self.qualified, version), d.view_columns(self.db, name))

    def _check(self, names: Sequence[str]) -> None:
        cols = self.column_names
        for c in names:
            if c == "id" and self.key == ("id",):
                raise InvalidNameError("id", reason="'id' is managed by the table and cannot be set")
            if c not in cols:
                raise ColumnNotFoundError(self._name, c, cols)

    def insert(self, row: Mapping[str, Any] | None = None) -> Any:
        values = dict(row or {})
        self._check(list(values))
        t = self.ref
        if values:
            cols = ", ".join(self._q(c) for c in values)
            marks = ", ".join([self.db.dialect.param] * len(values))
            sql = f"INSERT INTO {t} ({cols}) VALUES ({marks})"
        else:
            sql = f"INSERT INTO {t} DEFAULT VALUES"
        sql += " RETURNING " + ", ".join(self._q(k) for k in self.key or ("id",))
        with self.db.transaction():
            returned = self.db.execute(sql, list(values.values())).fetchone()
            return keys.value_of(returned, self.key or ("id",))

    def insert_many(self, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        return [self.insert(r) for r in rows]

    def update(self, row_id: Any, values: Mapping[str, Any]) -> None:
        values = dict(values)
        self._check(list(values))
        if not values:
            self.get(row_id)
            return
        p = self.db.dialect.param
        sets = ", ".join(f"{self._q(c)} = {p}" for c in values)
        with self.db.transaction():
            cur = self.db.execute(
                f"UPDATE {self.ref} SET {sets} WHERE {self._where_key()}",
                [*values.values(), *keys.params(row_id, self.key)],
            )
            if cur.rowcount == 0:
                raise RowNotFoundError(self._name, row_id)

    def delete(self, row_id: Any) -> None:
        with self.db.transaction():
            cur = self.db.execute(f"DELETE FROM {self.ref} WHERE {self._where_key()}", keys.params(row_id, self.key))
            if cur.rowcount == 0:
                raise RowNotFoundError(self._name, row_id)

    def _select_all(self, where: str = "", params: Sequence[Any] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        # SELECT * and the names from the cursor: one statement, so a concurrent DROP COLUMN cannot slip
        # between reading the column list and reading the rows
        cur = self.db.execute(f"SELECT * FROM {self.ref} {where} {self._order()}", params)
        return [d[0] for d in cur.description], cur.fetchall()

    def get(self, row_id: Any) -> dict[str, Any]:
        cols, rows = self._select_all(f"WHERE {self._where_key()}", keys.params(row_id, self.key))
        if not rows:
            raise RowNotFoundError(self._name, row_id)
        return dict(zip(cols, rows[0]))

    def rows(self) -> list[dict[str, Any]]:
        cols, rows = self._select_all()
        return [dict(zip(cols, r)) for r in rows]

    def column(self, name: str) -> list[Any]:
        if name not in self.key:
            self._check([name])
        return [r[0] for r in self.db.query(f"SELECT {self._q(name)} FROM {self.ref} {self._order()}")]

    def snapshot(self) -> TableSnapshot:
        """Every row in key order: the key's values (``ids``) and each other column's, as the in-memory table's."""
        cols, rows = self._select_all()
        key = [c for c in cols if c in self.key] or cols[:1]
        at = [cols.index(k) for k in key]
        ids = tuple(tuple(r[i] for i in at) if len(at) > 1 else r[at[0]] for r in rows) if cols else ()
        others = [i for i in range(len(cols)) if i not in at]
        columns = tuple(tuple(r[i] for r in rows) for i in others)
        return TableSnapshot(self._name, tuple([*key, *(cols[i] for i in others)]), ids, columns)

    def to_frame(self) -> pd.DataFrame:
        """A pandas DataFrame indexed by ``id``, like ``Table.to_frame``."""
        import pandas as pd

        snap = self.snapshot()
        ints = all(isinstance(i, int) for i in snap.ids)
        name = snap.column_names[0] if len(self.key) <= 1 else None
        index = pd.Index(list(snap.ids), name=name, dtype="int64" if ints else object)
        names = snap.column_names[max(1, len(self.key)) :]
        data = {c: pd.Series(list(v), index=index, dtype=object) for c, v in zip(names, snap.columns)}
        typed: pd.DataFrame = pd.DataFrame(data, index=index).infer_objects()  # the stubs say Any
        return typed

    def __repr__(self) -> str:
        return f"DbTable({self.qualified!r} in {self.db!r})"


class VersionView:
    """An app version's queries through its versioned view: read, update and insert by the table's ``id``.

    A view has no key of its own, so a SQLite insert through it (an INSTEAD OF trigger) learns its new id as
    the table's largest: right for one writer, which is how the traffic simulator uses it.
    """

    def __init__(self, table: DbTable, ref: str, columns: Sequence[str]) -> None:
        self.table, self.ref, self.columns = table, ref, list(columns)
        self.db = table.db

    def get(self, row_id: Any) -> dict[str, Any]:
        cur = self.db.execute(f"SELECT * FROM {self.ref} WHERE id = {self.db.dialect.param}", [row_id])
        rows = cur.fetchall()
        if not rows:
            raise RowNotFoundError(self.table.name, row_id)
        return dict(zip([c[0] for c in cur.description], rows[0]))

    def update(self, row_id: Any, values: Mapping[str, Any]) -> None:
        """Raises ``RowNotFoundError`` when PostgreSQL reports no row changed, as an ORM does; a SQLite view
        (INSTEAD OF triggers) reports 0 rows always, so there the count is not checked."""
        d = self.db.dialect
        sets = ", ".join(f"{d.quote(c)} = {d.param}" for c in values)
        with self.db.transaction():
            cur = self.db.execute(f"UPDATE {self.ref} SET {sets} WHERE id = {d.param}", [*values.values(), row_id])
        if d.name == "postgresql" and cur.rowcount != 1:
            raise RowNotFoundError(self.table.name, row_id)

    def insert(self, row: Mapping[str, Any]) -> Any:
        d = self.db.dialect
        cols = ", ".join(d.quote(c) for c in row)
        sql = f"INSERT INTO {self.ref} ({cols}) VALUES ({', '.join([d.param] * len(row))})"
        with self.db.transaction():
            if d.name == "postgresql":
                return self.db.execute(sql + " RETURNING id", list(row.values())).fetchone()[0]
            self.db.execute(sql, list(row.values()))
            return self.db.query(f"SELECT max(id) FROM {self.table.ref}")[0][0]
