#!/usr/bin/env python3
"""What keeping a real column whole costs: a rename by copy of a plain column against a production-shaped one.

    python bench/real_table.py [--rows 200000] [--engines sqlite,postgresql]

Per engine, in one run, with one app writer updating random rows on its own connection all along:
1. the copy of a plain column (``users.name``: labkit's own table, nothing to keep) and of a production column
   (PostgreSQL: ``orders.account_id`` with NOT NULL, DEFAULT, CHECK, a foreign key, a multi-column UNIQUE index and
   a comment, each rebuilt on the copy; SQLite: ``orders.note``, a column CHECK and an index): wall time of the
   whole plan and the writer's worst wait;
2. the same production copy failing at ``switch_reads`` (after the backfill): the rollback's wall time and the
   writer's worst wait during it (the undo of the backfill writes no row).
Prints a table and writes bench/results/real_table.json. PostgreSQL is the embedded server unless LABKIT_PG_DSN
names one.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import labkit as lk
from labkit import lab

RESULTS = Path(__file__).resolve().parent / "results"
COPY = {"postgresql": ("account_id", "payer_id"), "sqlite": ("note", "remark")}


def load_orders(db: lk.Database, rows: int) -> lk.DbTable:
    """``lab.make_orders``'s schema, then ``rows`` orders inserted by the database itself."""
    for t in ("refunds", "eu_orders", "orders", "accounts", "users", "labkit_migrations"):
        if t in db.tables():
            db.drop_table(t)
    db.execute("DROP VIEW IF EXISTS eu_orders")
    orders = lab.make_orders(db, 0)
    if db.dialect.name == "postgresql":
        db.execute(
            "INSERT INTO orders (account_id, code, region, amount, note) SELECT 1 + i % 3, 'o-' || i, 'r' || i, "
            f"i % 100000, CASE WHEN i % 4 = 0 THEN 'note ' || i END FROM generate_series(1, {int(rows)}) AS s(i)"
        )
        db.execute("ANALYZE")
    else:
        with db.transaction():
            db.execute(
                "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?) "
                "INSERT INTO orders (account_id, code, region, amount, note) "
                "SELECT 1 + i % 3, 'o-' || i, 'r' || i, i % 100000, CASE WHEN i % 4 = 0 THEN 'note ' || i END FROM s",
                [rows],
            )
    return orders


def load_users(db: lk.Database, rows: int) -> lk.DbTable:
    for t in ("users", "labkit_migrations"):
        if t in db.tables():
            db.drop_table(t)
    return db.import_table(lab.make_users(rows))


class Writer:
    """One app connection updating random rows as fast as it can; records each update's latency."""

    def __init__(self, url: str, table: str, column: str, rows: int) -> None:
        self.url, self.table, self.column, self.rows = url, table, column, rows
        self.waits: list[tuple[float, float]] = []  # (start, seconds)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        rng = random.Random(7)
        with lk.connect(self.url) as db:
            p = db.dialect.param
            while not self._stop.is_set():
                start = time.perf_counter()
                with db.transaction():
                    db.execute(f"UPDATE {self.table} SET {self.column} = {self.column} WHERE id = {p}",
                               [rng.randint(1, self.rows)])  # fmt: skip
                self.waits.append((start, time.perf_counter() - start))
                time.sleep(0.001)

    def __enter__(self) -> Writer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def worst(self, since: float, until: float) -> float:
        return max((w for s, w in self.waits if since <= s <= until), default=0.0)


def timed_run(url: str, table: lk.DbTable, plan: lk.MigrationPlan, column: str, rows: int, **runner: object) -> dict:
    with Writer(url, table.name, column, rows) as writer:
        time.sleep(0.1)
        start = time.perf_counter()
        result = lk.MigrationRunner(table, **runner).execute_plan(plan)  # type: ignore[arg-type]
        end = time.perf_counter()
        time.sleep(0.05)
    rollback_started = next((e.tick for e in result.history if e.kind == "rollback_start"), None)
    return {"status": result.status, "seconds": round(end - start, 3),
            "writer_max_ms": round(writer.worst(start, end) * 1000, 1), "updates": len(writer.waits),
            "rollback": rollback_started is not None}  # fmt: skip


def bench(engine: str, url: str, rows: int) -> dict:
    out: dict = {}
    with lk.connect(url) as db:
        users = load_users(db, rows)
        plan = lk.build_rename_column_migration(users, "name", "full_name", batch_size=1000)
        out["plain_copy"] = timed_run(url, users, plan, "email", rows)
        old, new = COPY[engine]
        orders = load_orders(db, rows)
        plan = lk.build_rename_column_migration(orders, old, new, batch_size=1000)
        out["production_copy"] = timed_run(url, orders, plan, "amount", rows)
        out["production_copy"]["steps"] = len(plan.steps)
        orders = load_orders(db, rows)
        plan = lk.build_rename_column_migration(orders, old, new, batch_size=1000)
        before = orders.catalog()
        out["production_rollback"] = timed_run(url, orders, plan, "amount", rows, fail_at="switch_reads")
        out["production_rollback"]["catalog_restored"] = orders.catalog() == before
        for t in ("refunds", "orders", "accounts", "users"):
            if t in db.tables():
                db.drop_table(t)
    out["copy_time_ratio"] = round(out["production_copy"]["seconds"] / out["plain_copy"]["seconds"], 2)
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--engines", default="sqlite,postgresql")
    ap.add_argument("--out", default=str(RESULTS))
    args = ap.parse_args(argv)
    figures: dict = {"rows": args.rows, "machine": platform.platform(), "python": platform.python_version()}
    with contextlib.ExitStack() as stack:
        for engine in args.engines.split(","):
            if engine == "sqlite":
                url = f"sqlite:///{stack.enter_context(tempfile.TemporaryDirectory())}/bench.db"
            else:
                url = stack.enter_context(lab.postgres_url())
            figures[engine] = bench(engine, url, args.rows)
    print(f"rename by copy, {args.rows:,} rows, one app writer (times in s, waits in ms)")
    print(f"{'engine':<11} {'plain copy':>11} {'whole copy':>11} {'ratio':>6} {'writer max':>11} "
          f"{'fail+undo':>10} {'writer max':>11} {'catalog back':>13}")  # fmt: skip
    for engine in args.engines.split(","):
        f = figures[engine]
        p, c, r = f["plain_copy"], f["production_copy"], f["production_rollback"]
        restored = str(r["catalog_restored"])
        print(f"{engine:<11} {p['seconds']:>11} {c['seconds']:>11} {f['copy_time_ratio']:>6} "
              f"{c['writer_max_ms']:>11} {r['seconds']:>10} {r['writer_max_ms']:>11} {restored:>13}")  # fmt: skip
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "real_table.json").write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
