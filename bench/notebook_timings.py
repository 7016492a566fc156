#!/usr/bin/env python3
"""Time the course headless: each notebook executed in a fresh kernel, its slowest cell, and the total.

    python bench/notebook_timings.py

Targets (issues 3 and 11), on a 2-core machine: the lessons (00-09, solutions aside) <= 120 s, notebook 09 <= 60 s,
and no cell of the in-memory notebooks (00-06) > 5 s (07-09 drive real databases under traffic: longer cells).
Prints a table and writes bench/results/notebook_timings.json. Nothing is written back into the notebooks.
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
    course = sum(r["wall_s"] for r in rows if "/" not in r["notebook"])  # the lessons, not the solutions
    lesson = next((r["wall_s"] for r in rows if r["notebook"].startswith("09_")), 0.0)
    in_memory = max(r["slowest_cell_s"] for r in rows if r["notebook"][:2] in {f"0{i}" for i in range(7)})
    ok = course <= 120 and lesson <= 60 and in_memory <= 5
    print(f"the lessons 00-09: {course:.1f} s; 09: {lesson:.1f} s; slowest cell of 00-06: {in_memory:.2f} s")
    met = "met" if ok else "NOT met"
    print(f"targets (lessons <= 120 s, 09 <= 60 s, cells of the in-memory notebooks <= 5 s): {met}")
    RESULTS.mkdir(exist_ok=True)
    out = {
        "notebooks": rows,
        "total_s": round(total, 1),
        "lessons_s": round(course, 1),
        "lesson_09_s": lesson,
        "slowest_cell_s": slowest,
        "targets_met": ok,
    }
    (RESULTS / "notebook_timings.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
