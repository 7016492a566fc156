#!/usr/bin/env python3
"""Benchmark the in-memory migrations on a large table, against a plain pandas column copy.

    python bench/inmemory_migration.py [--rows 1000000] [--batch-size 1000]

Prints wall time, peak memory and ratios measured in this one run, and writes bench/results/inmemory.json.
Targets (issue #2): rename <= 1 s and <= 2x the table's own memory at peak.
Timings run without tracemalloc (it slows Python down); memory is measured in separate runs with it on.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import labkit as lk
from labkit import lab

RESULTS = Path(__file__).resolve().parent / "results"


def rename(table: lk.Table, batch_size: int) -> lk.MigrationResult:
    plan = lk.build_rename_column_migration(table, "name", "full_name", batch_size=batch_size)
    return lk.MigrationRunner(table).execute_plan(plan)


def add_computed(table: lk.Table, batch_size: int) -> lk.MigrationResult:
    plan = lk.build_add_column_migration(
        table, "email_domain", backfill=lab.email_domain, source="email", batch_size=batch_size
    )
    return lk.MigrationRunner(table).execute_plan(plan)


def timed(fn: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def peak_over(make: Callable[[], object], work: Callable[[object], object]) -> tuple[int, int]:
    """(bytes held by what ``make`` builds, peak bytes while ``work`` runs on it, both traced)."""
    gc.collect()
    tracemalloc.start()
    obj = make()
    base, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    work(obj)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return base, peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--batch-size", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=RESULTS, help="folder for inmemory.json (default bench/results)")
    args = ap.parse_args()
    n, bs = args.rows, args.batch_size

    # --- wall time (no tracing)
    t = lab.make_users(n)
    rename_s = timed(lambda: rename(t, bs))
    assert t.column_names == ["id", "email", "full_name"]
    t = lab.make_users(n)
    add_s = timed(lambda: add_computed(t, bs))
    assert t.get(n)["email_domain"] == lab.email_domain(t.get(n))

    frame = lab.make_users(n).to_frame()
    pandas_copy_s = timed(lambda: frame.__setitem__("full_name", frame["name"].copy()))
    pandas_map_s = timed(
        lambda: frame.__setitem__("email_domain", frame["email"].map(lambda e: lab.email_domain({"email": e})))
    )

    # --- memory (traced)
    table_bytes, rename_peak = peak_over(lambda: lab.make_users(n), lambda tb: rename(tb, bs))
    _, add_peak = peak_over(lambda: lab.make_users(n), lambda tb: add_computed(tb, bs))
    frame_bytes, pandas_peak = peak_over(
        lambda: lab.make_users(n).to_frame(), lambda f: f.__setitem__("full_name", f["name"].copy())
    )

    results = {
        "rows": n,
        "batch_size": bs,
        "python": platform.python_version(),
        "rename_s": round(rename_s, 3),
        "add_computed_s": round(add_s, 3),
        "pandas_column_copy_s": round(pandas_copy_s, 3),
        "pandas_map_s": round(pandas_map_s, 3),
        "rename_vs_pandas_copy": round(rename_s / pandas_copy_s, 1),
        "add_computed_vs_pandas_map": round(add_s / pandas_map_s, 2),
        "table_mb": round(table_bytes / 2**20, 1),
        "rename_peak_mb": round(rename_peak / 2**20, 1),
        "rename_peak_ratio": round(rename_peak / table_bytes, 2),
        "add_computed_peak_ratio": round(add_peak / table_bytes, 2),
        "pandas_copy_peak_ratio": round(pandas_peak / frame_bytes, 2),
        "target_rename_s_max": 1.0,
        "target_peak_ratio_max": 2.0,
    }
    results["targets_met"] = results["rename_s"] <= 1.0 and results["rename_peak_ratio"] <= 2.0

    print(f"In-memory migrations on {n:,} rows (batch size {bs:,}), Python {results['python']}")
    print(f"{'':34}{'wall time':>12}{'peak / table memory':>22}")
    print(f"{'rename (expand/contract)':34}{rename_s:>11.3f}s{results['rename_peak_ratio']:>21.2f}x")
    print(f"{'add column, Python backfill':34}{add_s:>11.3f}s{results['add_computed_peak_ratio']:>21.2f}x")
    print(f"{'pandas column copy':34}{pandas_copy_s:>11.3f}s{results['pandas_copy_peak_ratio']:>21.2f}x")
    print(f"{'pandas Series.map(same function)':34}{pandas_map_s:>11.3f}s{'':>22}")
    print(f"table's own memory: {results['table_mb']} MB; rename peak: {results['rename_peak_mb']} MB")
    print(
        f"rename / pandas copy: {results['rename_vs_pandas_copy']}x; "
        f"add column / pandas map: {results['add_computed_vs_pandas_map']}x"
    )
    print(f"targets (rename <= 1 s, peak <= 2x table): {'met' if results['targets_met'] else 'NOT met'}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "inmemory.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
