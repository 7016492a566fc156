#!/usr/bin/env python3
"""Backfills and renames on real SQLite and PostgreSQL, side by side, with and without live app traffic.

    python bench/db_backfill.py [--rows 1000000] [--engines sqlite,postgresql]

Per engine, in one run:
1. throughput with no app load: labkit's batched backfill (1,000 and 10,000 rows a batch) vs one UPDATE
   (medians of 3; each timing covers the whole step: the range query, the batches, the saved progress);
2. with concurrent app clients (open loop: requests due on a schedule, latency from when due, so the percentiles
   are not hidden by coordinated omission): failed requests and app p50 / p99 / max latency during each backfill;
3. PostgreSQL: the lock queue behind a 3 s reader, a plain ALTER (no lock timeout) vs labkit's 100 ms lock
   timeout with retries;
4. the rename the usual Alembic way (op.alter_column(new_column_name=...), run by Alembic against the same
   database) vs labkit's expand/contract rename, under the same workload and the same app rollout.
Prints a table and writes bench/results/db_backfill.json and .md. PostgreSQL is the embedded server (started
and stopped here) unless LABKIT_PG_DSN names one.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import labkit as lk
from labkit import lab
from labkit.course.scenarios import long_reader, run_scenario
from labkit.course.workload import AppWorkload
from labkit.steps import AddColumn, Backfill

RESULTS = Path(__file__).resolve().parent / "results"
ROLLOUT = {"rollout_ticks": 5, "dwell": 0.2}  # the same one-second app rollout for Alembic and labkit


def _fresh(db: lk.Database, rows: int) -> lk.DbTable:
    for t in ("users", "labkit_migrations"):
        if t in db.tables():
            db.drop_table(t)
    users = db.import_table(lab.make_users(rows))
    lk.MigrationRunner(users).execute_plan(lk.MigrationPlan("prepare", [AddColumn("users", "full_name")]))
    db.drop_table("labkit_migrations")
    # start every measurement from the same state: loaded data flushed, statistics fresh
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)" if db.dialect.name == "sqlite" else "CHECKPOINT")
    db.execute("ANALYZE")
    return users


def _backfill_plan(batch_size: int | None, pause: float = 0.0) -> lk.MigrationPlan:
    v1 = lk.AppVersion("v1", ["name", "email"], ["name", "email"])
    step = Backfill("users", "full_name", source="name", batch_size=batch_size, pause=pause)
    return lk.MigrationPlan(f"backfill in batches of {batch_size or 'all'}", [step], apps=[v1])


def throughput(db: lk.Database, rows: int, batch_size: int | None, repeats: int = 3) -> float:
    """Rows per second of one backfill with no app load (the median of ``repeats`` runs)."""
    rates = []
    for _ in range(repeats):
        users = _fresh(db, rows)
        start = time.perf_counter()
        result = lk.MigrationRunner(users).execute_plan(_backfill_plan(batch_size))
        took = time.perf_counter() - start
        assert result.ok, result.summary()
        rates.append(rows / took)
    return sorted(rates)[len(rates) // 2]


def under_load(db: lk.Database, rows: int, batch_size: int | None, pause: float) -> dict:
    """App clients (2 threads, open loop: 250 requests a second each, latency counted from when each was due, so a
    stall counts every request that fell due during it) while one backfill runs: what do they see?"""
    users = _fresh(db, rows)
    plan = _backfill_plan(batch_size, pause)
    load = AppWorkload(users, plan, threads=2, seed=1, rate=250, open_loop=True, read_ratio=0.3, insert_ratio=0.0)
    with load:
        time.sleep(0.3)
        t0 = load.now()
        result = lk.MigrationRunner(users, observers=[load]).execute_plan(plan)
        t1 = load.now()
        time.sleep(0.3)
    assert result.ok, result.summary()
    during = [r for r in load.requests if r.start + r.latency >= t0 and r.start <= t1]
    lat = sorted(r.latency for r in during)
    return {
        "backfill_s": round(t1 - t0, 3),
        "requests": len(during),
        "failed": sum(not r.ok for r in during),
        "p50_ms": round(lat[int(0.50 * (len(lat) - 1))] * 1000, 2) if lat else 0.0,
        "p99_ms": round(lat[int(0.99 * (len(lat) - 1))] * 1000, 2) if lat else 0.0,
        "max_ms": round(lat[-1] * 1000, 2) if lat else 0.0,
    }


def lock_queue(url: str, *, plain: bool) -> dict:
    """ALTER TABLE behind a 3 s reader: the app's worst latency, and whether the migration got through."""
    kwargs = {"lock_timeout_ms": 0} if plain else {"lock_timeout_ms": 100}
    with lk.connect(url, **kwargs) as db:
        db.dialect.max_attempts = 1 if plain else 40
        users = _fresh(db, 10_000)
        plan = lk.build_add_column_migration(users, "nickname")
        load = AppWorkload(users, plan, threads=2, seed=2, think=0.002)
        with load:
            time.sleep(0.3)
            t0 = load.now()
            with long_reader(url, "users", 3.0):
                time.sleep(0.05)  # the reader's transaction is open before the ALTER arrives
                runner = lk.MigrationRunner(users, observers=[load])
                result = runner.execute_plan(plan)
            t1 = load.now()
            time.sleep(0.3)
        during = [r for r in load.requests if r.start + r.latency >= t0 and r.start <= t1]
        return {
            "status": result.status,
            "retries": sum(e.kind == "retry" for e in runner.history),
            "failed": sum(not r.ok for r in during),
            "max_ms": round(max(r.latency for r in during) * 1000, 1),
        }


def _sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


class AlembicRename:
    """At the start of the rename step, Alembic renames the column (op.alter_column); labkit's runner only rolls
    the app out afterwards, as a deploy pipeline would after `alembic upgrade head`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.seconds = 0.0

    def on_tick(self, event, apps) -> None:
        if event.kind != "start":
            return
        from alembic.migration import MigrationContext
        from alembic.operations import Operations
        from sqlalchemy import create_engine

        engine = create_engine(_sqlalchemy_url(self.url))
        start = time.perf_counter()
        with engine.begin() as conn:
            Operations(MigrationContext.configure(conn)).alter_column("users", "name", new_column_name="full_name")
        self.seconds = time.perf_counter() - start
        engine.dispose()


def alembic_vs_labkit(url: str, rows: int) -> dict:
    out = {}
    alembic = AlembicRename(url)

    def naive(table):
        return lk.build_naive_rename_migration(table, "name", "full_name")

    # Alembic: the column is renamed by Alembic, then the app rolls out (v1 -> v2); the app queries the table.
    start = time.perf_counter()
    r = run_scenario(url, naive, name="alembic", rows=rows, use_views=False, observers=[alembic], **ROLLOUT)
    out["alembic"] = {
        "failed": r.failed_requests,
        "lost": r.lost_writes,
        "seconds": round(time.perf_counter() - start, 2),
        "ddl_seconds": round(alembic.seconds, 3),
        "status": r.result.status,
    }
    start = time.perf_counter()
    r = run_scenario(
        url,
        lambda t: lk.build_rename_column_migration(t, "name", "full_name", batch_size=10_000),
        name="labkit",
        rows=rows,
        **ROLLOUT,
    )
    out["labkit"] = {
        "failed": r.failed_requests,
        "lost": r.lost_writes,
        "seconds": round(time.perf_counter() - start, 2),
        "migration_seconds": round(r.migration_seconds, 2),
        "status": r.result.status,
    }
    return out


def bench_engine(url: str, engine: str, rows: int) -> dict:
    res: dict = {"rows": rows}
    with lk.connect(url) as db:
        single = throughput(db, rows, None)
        b1k = throughput(db, rows, 1000)
        b10k = throughput(db, rows, 10_000)
        res["single_statement_rows_per_s"] = round(single)
        res["batched_1000_rows_per_s"] = round(b1k)
        res["batched_10000_rows_per_s"] = round(b10k)
        res["throughput_ratio"] = round(b10k / single, 3)
        res["throughput_ratio_1000"] = round(b1k / single, 3)
        pause = 0.005 if engine == "sqlite" else 0.0
        s = under_load(db, rows, None, 0.0)
        b = under_load(db, rows, 1000, pause)
        res["under_load"] = {"single_statement": s, "batched_1000": b, "pause_s": pause}
        res["app_max_latency_ratio"] = round(s["max_ms"] / max(b["max_ms"], 0.001), 1)
        res["app_p99_latency_ratio"] = round(s["p99_ms"] / max(b["p99_ms"], 0.001), 1)
        res["failed_requests_labkit"] = b["failed"]
        for t in ("users", "labkit_migrations"):
            if t in db.tables():
                db.drop_table(t)
    if engine == "postgresql":
        plain = lock_queue(url, plain=True)
        safe = lock_queue(url, plain=False)
        res["lock_queue"] = {"plain_alter": plain, "labkit": safe}
        res["lock_queue_latency_ratio"] = round(plain["max_ms"] / max(safe["max_ms"], 0.001), 1)
    cmp = alembic_vs_labkit(url, min(rows, 100_000))
    res["alembic_vs_labkit"] = cmp
    res["failed_requests_alembic"] = cmp["alembic"]["failed"]
    res["failed_requests_labkit_rename"] = cmp["labkit"]["failed"]
    return res


def markdown(results: dict) -> str:
    lines = [
        f"# Backfills on real databases ({results['rows']:,} rows; {results['python']}; one run)",
        "",
        "| figure | target | " + " | ".join(results["engines"]) + " |",
        "|---|---|" + "---|" * len(results["engines"]),
    ]
    rows = [
        ("batched (10,000) / single UPDATE, rows/s, no load", ">= 0.80", "throughput_ratio"),
        ("batched (1,000) / single UPDATE, rows/s, no load", "", "throughput_ratio_1000"),
        ("app max latency: single / batched", ">= 5 (SQLite), >= 20 (PG)", "app_max_latency_ratio"),
        ("app p99 latency: single / batched", "", "app_p99_latency_ratio"),
        ("failed requests during labkit's backfill", "0", "failed_requests_labkit"),
        ("lock queue: app max latency, plain / labkit", ">= 10 (PG)", "lock_queue_latency_ratio"),
        ("failed requests, Alembic rename", "", "failed_requests_alembic"),
        ("failed requests, labkit rename", "0", "failed_requests_labkit_rename"),
    ]
    for label, target, key in rows:
        cells = [str(results["engines"][e].get(key, "—")) for e in results["engines"]]
        lines.append(f"| {label} | {target} | " + " | ".join(cells) + " |")
    lines.append("")
    for e, r in results["engines"].items():
        ul = r["under_load"]
        lines.append(
            f"- {e}: single UPDATE stalled app writes up to {ul['single_statement']['max_ms']} ms "
            f"({ul['single_statement']['backfill_s']} s); batches of 1,000 kept them under "
            f"{ul['batched_1000']['max_ms']} ms ({ul['batched_1000']['backfill_s']} s). "
            f"Alembic rename: {r['alembic_vs_labkit']['alembic']['seconds']} s, "
            f"labkit rename: {r['alembic_vs_labkit']['labkit']['seconds']} s (whole scenario, same rollout)."
        )
        if "lock_queue" in r:
            lq = r["lock_queue"]
            lines.append(
                f"- {e} lock queue: plain ALTER {lq['plain_alter']['max_ms']} ms worst app latency; labkit "
                f"{lq['labkit']['max_ms']} ms with {lq['labkit']['retries']} retries ({lq['labkit']['status']})."
            )
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--engines", default="sqlite,postgresql")
    ap.add_argument("--out", type=Path, default=RESULTS, help="folder for db_backfill.json/.md (default bench/results)")
    args = ap.parse_args()
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    out = {"rows": args.rows, "python": f"Python {platform.python_version()}", "engines": {}}
    for engine in engines:
        print(f"[bench] {engine} ...", file=sys.stderr, flush=True)
        if engine == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                out["engines"]["sqlite"] = bench_engine(f"sqlite:///{tmp}/bench.db", "sqlite", args.rows)
        elif engine == "postgresql":
            with lab.postgres_url() as url:
                out["engines"]["postgresql"] = bench_engine(url, "postgresql", args.rows)
        else:
            ap.error(f"unknown engine {engine!r}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "db_backfill.json").write_text(
        json.dumps({**out["engines"], "meta": {"rows": args.rows, "python": out["python"]}}, indent=2) + "\n"
    )
    md = markdown(out)
    (args.out / "db_backfill.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
