#!/usr/bin/env python3
"""Time the course headless: each notebook executed in a fresh kernel, its slowest cell, and the total.

    python bench/notebook_timings.py

Targets (issue #3): the whole course <= 60 s on a 2-core machine, and no cell > 5 s. Prints a table and writes
bench/results/notebook_timings.json. Nothing is written back into the notebooks.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"


def _seconds(cell) -> float:
    t = cell.metadata.get("execution", {})
    start, end = t.get("iopub.execute_input"), t.get("shell.execute_reply")
    if not start or not end:
        return 0.0
    parse = datetime.fromisoformat
    return (parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))).total_seconds()


def main() -> None:
    notebooks = sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    rows = []
    course_start = time.perf_counter()
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        NotebookClient(nb, timeout=120, kernel_name="python3", record_timing=True, resources={
            "metadata": {"path": str(path.parent)}}).execute()  # fmt: skip
        wall = time.perf_counter() - start
        cells = [(c, _seconds(c)) for c in nb.cells if c.cell_type == "code"]
        slowest_cell, slowest = max(cells, key=lambda x: x[1])
        rows.append({
            "notebook": str(path.relative_to(ROOT / "notebooks")),
            "wall_s": round(wall, 2),
            "cells_s": round(sum(s for _, s in cells), 2),
            "slowest_cell_s": round(slowest, 2),
            "slowest_cell": slowest_cell.source.splitlines()[0][:50],
        })  # fmt: skip
    total = time.perf_counter() - course_start
    width = max(len(r["notebook"]) for r in rows)
    print(f"{'notebook':{width}}  {'wall (s)':>9}  {'in cells (s)':>12}  {'slowest cell (s)':>16}")
    for r in rows:
        print(f"{r['notebook']:{width}}  {r['wall_s']:9.2f}  {r['cells_s']:12.2f}  {r['slowest_cell_s']:16.2f}")
    slowest = max(r["slowest_cell_s"] for r in rows)
    print(f"whole course: {total:.1f} s wall (kernel start-ups included); slowest cell {slowest:.2f} s")
    ok = total <= 60 and slowest <= 5
    print(f"targets (course <= 60 s, every cell <= 5 s): {'met' if ok else 'NOT met'}")
    RESULTS.mkdir(exist_ok=True)
    out = {"notebooks": rows, "total_s": round(total, 1), "slowest_cell_s": slowest, "targets_met": ok}
    (RESULTS / "notebook_timings.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
