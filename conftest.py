"""pytest's settings for the whole repository (tests/ and the notebooks nbval runs).

- A notebook's cells share one kernel, so under pytest-xdist (``python3 lab.py test`` spreads the suite over the
  machine's cores) each notebook runs whole on one worker, while every other test goes wherever a worker is free.
- Issue 23: the stored facts of lessons 07 and 09 must hold on a busy laptop (a verdict read from two close timings
  once flipped when other work shared the two cores). Their nbval run is that check: two CPU-bound processes run
  beside every cell tagged ``busy-machine`` (each cell that runs the app's traffic or measures something; not the
  set-up, the plots or the clean-up, which state no measured fact), and a busy loop that ended early fails the cell
  after which it was found dead.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BUSY_NOTEBOOKS = frozenset({"07_real_databases.ipynb", "09_beyond_add_and_rename.ipynb"})
BUSY_TAG = "busy-machine"  # a cell's tag: it runs beside the busy loops
# as many CPU-bound processes as the machines the course is tested on have cores; LABKIT_BUSY_LOOPS=0 when the
# machine is made busy from outside (the suite run beside two loops of its own: the lessons get those two, not four)
BUSY_LOOPS = int(os.environ.get("LABKIT_BUSY_LOOPS", "2"))

_busy: list[subprocess.Popen[bytes]] = []


def _is_notebook(item: Any) -> bool:
    return Path(str(item.path)).suffix == ".ipynb"


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: without the plugin (-p no:xdist) it is not called
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under ``--dist loadscope``: a notebook is one scope (its cells share a kernel), every other test a scope of its
    own, so the browser's and the harness's many cases spread over the workers instead of staying with their module.
    The two measured lessons are one scope: run one after the other on one worker, each beside its own two busy
    loops, never both at once (four loops on two cores, which slowed everything and proved nothing more). Scopes
    go out in the collection's order (``pytest_collection_modifyitems``: the longest first), not xdist's own
    "most tests first". (``--dist loadgroup`` with an ``xdist_group`` mark would say the same, but pytest-xdist 3.8
    groups by renaming ``item._nodeid``, which pytest 9 no longer reads: every cell went its own way.)"""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    config.option.loadscopereorder = False

    class NotebookWhole(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            if Path(path).name in BUSY_NOTEBOOKS:
                return "the measured lessons"
            return path if path.endswith(".ipynb") else nodeid

    return NotebookWhole(config, log)


def _rank(item: pytest.Item) -> int:
    """The longest units of work first, so that no worker ends the run alone with a long one: the measured lessons
    (about a minute beside their busy loops), the browser's tests (JupyterLab, Chromium), the other notebooks; then
    the rest."""
    path = Path(str(item.path))
    if path.name in BUSY_NOTEBOOKS:
        return 0
    if "browser" in path.parts:
        return 1
    return 2 if path.suffix == ".ipynb" else 3


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=_rank)  # stable: a notebook's cells keep their order, the tests of a file theirs


def start_busy_loops() -> None:
    if not _busy and BUSY_LOOPS:
        _busy.extend(subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(BUSY_LOOPS))


def stop_busy_loops() -> list[int | None]:
    """Stop the loops; what each had already ended with (None: it ran until now)."""
    ended = [p.poll() for p in _busy]
    for p in _busy:
        p.kill()
        p.wait()
    _busy.clear()
    return ended


def busy_cell(item: Any) -> bool:
    """A cell of a measured lesson tagged to run beside the busy loops."""
    if item is None or not _is_notebook(item) or Path(str(item.path)).name not in BUSY_NOTEBOOKS:
        return False
    return BUSY_TAG in (getattr(item, "cell", None) or {}).get("metadata", {}).get("tags", [])


def pytest_runtest_setup(item: pytest.Item) -> None:
    if busy_cell(item):
        start_busy_loops()


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if not _busy or busy_cell(nextitem):  # the next cell runs beside them too: they go on
        return
    ended = stop_busy_loops()
    if any(code is not None for code in ended):
        raise RuntimeError(f"a busy loop beside {Path(str(item.path)).name} ended early ({ended}): its stored facts "
                           "were not checked on a busy machine")  # fmt: skip


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    stop_busy_loops()
