"""Keyset batches have one definition (labkit.keys.Keyset): the runner's executor, the PL/pgSQL loop and the Alembic
revisions all run its statements, and its batches cover every key once, in order, whatever the key."""

from __future__ import annotations

import sqlite3

import pytest

import labkit as lk
from labkit import lab
from labkit.export_alembic import alembic_revisions
from labkit.keys import Keyset
from labkit.plan_sql import as_sent, runnable_sql


def _sqlite_keyset(rows: list[tuple], key: tuple[str, ...]) -> tuple[Keyset, sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    cols = ", ".join(f'"{k}"' for k in key)
    conn.execute(f"CREATE TABLE t ({', '.join(f'{k} ANY' for k in key)}, v TEXT, PRIMARY KEY ({cols}))")
    conn.executemany(f"INSERT INTO t VALUES ({', '.join('?' * (len(key) + 1))})", [(*r, "x") for r in rows])
    return Keyset('"t"', key, lambda n: f'"{n}"', "?"), conn


def _fetch(conn: sqlite3.Connection, key: tuple[str, ...]):
    def fetch(sql, params):
        row = conn.execute(sql, params).fetchone()
        return None if row is None else (tuple(row) if len(key) > 1 else row[0])

    return fetch


@pytest.mark.parametrize(
    ("rows", "key", "size"),
    [
        ([(i,) for i in range(-7, 30, 3)], ("id",), 4),
        ([(f"k{i:03}",) for i in range(25)], ("code",), 7),
        ([(a, b) for a in range(4) for b in "xyz"], ("a", "b"), 5),
        ([(1,)], ("id",), 10),
        ([(i,) for i in range(10)], ("id",), None),
    ],
    ids=["signed ints", "text", "composite", "one row", "one batch"],
)
def test_keyset_batches_cover_every_key_once_in_order(rows, key, size):
    ks, conn = _sqlite_keyset(rows, key)
    ranges = ks.ranges(_fetch(conn, key), size)
    covered = []
    for lo, hi in ranges:
        names = ", ".join(key)
        batch = conn.execute(f"SELECT {names} FROM t WHERE {ks.predicate} ORDER BY {names}", ks.bind(lo, hi)).fetchall()
        covered += [tuple(r) if len(key) > 1 else r[0] for r in batch]
        assert size is None or len(batch) <= size
    expected = sorted(tuple(r) if len(key) > 1 else r[0] for r in rows)
    assert covered == expected  # every key once, in key order
    assert len(ranges) == (1 if size is None else -(-len(rows) // size))


def test_keyset_resumes_after_a_key_and_ignores_an_empty_table():
    ks, conn = _sqlite_keyset([(i,) for i in range(1, 21)], ("id",))
    assert ks.ranges(_fetch(conn, ("id",)), 5, after=12) == [(13, 17), (18, 20)]
    assert ks.ranges(_fetch(conn, ("id",)), 5, after=20) == []
    empty, conn2 = _sqlite_keyset([], ("id",))
    assert empty.ranges(_fetch(conn2, ("id",)), 5) == []


def test_the_executor_the_plpgsql_loop_and_the_alembic_revision_run_the_same_keyset_statements(pg):
    users = pg.import_table(lab.make_users(20))
    plan = lk.build_rename_column_migration(users, "name", "full_name", batch_size=5)
    ks = users.keyset()
    assert lk.backends.engine.backend_for(users).batch_predicate() == ks.predicate
    loop = next(s for s in runnable_sql(plan, users) if s.startswith("CREATE PROCEDURE"))
    for sql in (ks.first(), ks.first(desc=True), ks.boundary, ks.next):
        assert pg.dialect.literal(as_sent("postgresql", sql)) in loop
    revision = alembic_revisions(plan, users)[0][1]
    for sql in (ks.first(), ks.first(desc=True), ks.boundary, ks.next):
        assert repr(sql) in revision


def test_a_walk_finds_each_boundary_when_asked_with_the_size_asked_then():
    """Issue 22: boundaries found batch by batch (nothing fixed up front but the last key), each batch the size
    ``size()`` says at that moment."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(1, 101)])
    ks = Keyset("t", ("id",), lambda n: f'"{n}"', "?")
    sizes = iter([10, 1, 30, 200])
    walk = ks.walk(_fetch(conn, ("id",)), lambda: next(sizes))
    assert next(walk) == (1, 10)
    conn.execute("INSERT INTO t VALUES (1000)")  # a row after the last key: the dual write's, not the walk's
    assert list(walk) == [(11, 11), (12, 41), (42, 100)]
