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
