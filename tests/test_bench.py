"""The benchmark scripts still run (tiny sizes; their figures are not asserted: speed is not a unit test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def test_inmemory_bench_runs_and_writes_its_figures(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(BENCH / "inmemory_migration.py"), "--rows", "20000", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    figures = json.loads((tmp_path / "inmemory.json").read_text())
    assert figures["rows"] == 20000 and figures["rename_s"] > 0 and figures["rename_peak_ratio"] > 1


def test_db_bench_runs_on_sqlite_and_writes_json_and_markdown(tmp_path):
    pytest.importorskip("alembic", reason="the Alembic comparison needs alembic (a test dependency)")
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCH / "db_backfill.py"),
            "--rows",
            "3000",
            "--engines",
            "sqlite",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    figures = json.loads((tmp_path / "db_backfill.json").read_text())
    sqlite = figures["sqlite"]
    for key in (
        "rows",
        "throughput_ratio",
        "app_max_latency_ratio",
        "failed_requests_labkit",
        "failed_requests_alembic",
    ):
        assert key in sqlite
    assert sqlite["failed_requests_labkit"] == 0 and sqlite["failed_requests_alembic"] > 0
    assert "| figure | target | sqlite |" in (tmp_path / "db_backfill.md").read_text()


def test_real_table_bench_runs_on_sqlite_and_writes_its_figures(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(BENCH / "real_table.py"), "--rows", "2000", "--engines", "sqlite", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    figures = json.loads((tmp_path / "real_table.json").read_text())["sqlite"]
    assert figures["production_copy"]["status"] == "completed"
    assert figures["production_rollback"]["status"] == "rolled_back"
    assert figures["production_rollback"]["catalog_restored"] is True


def test_backfill_auto_bench_runs_on_both_engines_and_writes_every_figure(tmp_path):
    """Issue 22's bench at a tiny size: it runs end to end (pgbench, a real standby, the verification) and writes
    each figure the closing note quotes; the figures themselves are the bench's to print, not this test's."""
    proc = subprocess.run(
        [sys.executable, str(BENCH / "backfill_auto.py"), "--rows", "5000", "--out", str(tmp_path), "--window", "0.5"],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    figures = json.loads((tmp_path / "backfill_auto.json").read_text())
    for engine in ("sqlite", "postgresql"):
        row = figures[engine]["5000"]
        for key in ("auto_throughput_ratio", "target_chunk_ms", "time_to_first_batch_ms", "peak_rss_mb",
                    "checksum_cost_ratio"):
            assert isinstance(row[key], (int, float)) and row[key] >= 0, (engine, key, row.get(key))
        # The app's figures: a number when the phases had the transactions to measure (a 5,000-row backfill can be
        # over before the app's next one is due), null otherwise, never a 0 ms "p99" of nothing.
        app = row["app"]
        assert app["baseline"]["transactions"] > 0, app["baseline"]  # half a second of load at 200/s
        enough = {p: app[p]["transactions"] >= 20 for p in ("baseline", "single", "auto", "auto_50ms")}
        for key, phases in (("app_p99_ratio_vs_baseline", ("auto", "baseline")), ("app_max_ms", ("auto",)),
                            ("single_vs_labkit_app_max_ratio", ("single", "auto"))):
            if all(enough[p] for p in phases):
                assert isinstance(row[key], (int, float)) and row[key] >= 0, (engine, key, row[key])
            else:
                assert row[key] is None, (engine, key, row[key], app)
    assert "replica_lag_peak_ratio" in figures["postgresql"]["5000"], figures["postgresql"]["5000"].get("standby")
    waits = figures["postgresql"]["5000"]["app"]["auto"]["waits"]  # pgbench's sessions, as pg_stat_activity saw them
    assert set(waits) == {"WAL flush", "row or table lock", "other wait", "running"}, waits
    assert sum(waits.values()) == 0 or abs(sum(waits.values()) - 1) < 0.01, waits
    assert "| auto ÷ one UPDATE, rows/s, no load |" in (tmp_path / "backfill_auto.md").read_text()
