"""The course's own helpers, apart from the migration library: ``from labkit import lab`` in the notebooks.

``import labkit`` is the library (plans, builders, the runner, backends, safety, plan files, SQL, exports) and loads
none of this: the generated tables and their computations, the traffic simulator, the snapshot recorder, the
exercises' self-checks, the Setup cell, the SQL of a plan on both engines at once, and the progress bar that picks a
widget in Jupyter. ``views``, ``plots``, ``widgets`` and ``scenarios`` (beside it in ``labkit.course``) are the
course's presentation modules, imported by name (``from labkit import plots``).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Mapping
from importlib.metadata import version
from typing import Any, TextIO

import matplotlib.pyplot as plt
import pandas as pd

from .. import __version__
from ..backends.db import DbTable
from ..backends.engine import connect
from ..backends.servers import postgres_url, table_owner
from ..errors import InvalidArgumentError
from ..plan import MigrationPlan
from ..plan_sql import PlanSql, plan_sql
from ..progress import TerminalProgress
from ..table import Table
from . import exercises
from .data import EMAIL_DOMAIN_SQL, email_domain, make_orders, make_products, make_users, split_name
from .observe import SnapshotRecorder
from .traffic import TrafficReport, TrafficSimulator, simulate_traffic
from .widgets import NotebookProgress

MINIMUM = {"pandas": (2, 2), "matplotlib": (3, 8), "ipywidgets": (8, 1)}


def _major_minor(text: str) -> tuple[int, int]:
    major, minor, *_ = [int("".join(ch for ch in p if ch.isdigit()) or 0) for p in [*text.split("."), "0", "0"]]
    return major, minor


def notebook_setup() -> str:
    """Raise if a dependency is too old; set the plot style; return one stable line (no exact versions)."""
    for package, minimum in MINIMUM.items():
        have = _major_minor(version(package))
        if have < minimum:
            raise RuntimeError(
                f"{package} {version(package)} is too old: the lab needs {minimum[0]}.{minimum[1]}+ "
                "(run `python3 lab.py` to set up the lab's own environment)"
            )
    pd.set_option("display.max_colwidth", 200)  # findings and plan descriptions are whole sentences
    plt.rcParams.update({"figure.dpi": 72, "figure.figsize": (9, 3.6), "axes.grid": True, "grid.alpha": 0.3})
    checks = ", ".join(f"{p} >= {m[0]}.{m[1]}" for p, m in MINIMUM.items())
    return f"labkit {__version__} ready: Python >= 3.10, {checks}"


def plan_sql_on_engines(
    plan: MigrationPlan | Callable[[DbTable], MigrationPlan], table: Table, urls: Mapping[str, str] | None = None
) -> dict[str, PlanSql]:
    """The SQL ``plan`` runs on each engine, for a copy of the in-memory ``table``: what the lab's notebooks show
    beside the rows.

    ``plan``: a plan, or a builder (a function of the table) to build it on each engine's copy: a copy of a column
    needs that, since on a database the builder reads the catalog (the column's type, its constraints ...).

    ``urls``: engine label -> database URL; by default a SQLite file in a scratch folder and PostgreSQL
    (``LABKIT_PG_DSN``, else an embedded server started here), both closed, and the copies dropped, before this
    returns. A database that already has a table of that name is refused, not touched.
    """
    with contextlib.ExitStack() as stack:
        if urls is None:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="labkit-sql-"))
            urls = {"SQLite": f"sqlite:///{folder}/lab.db", "PostgreSQL": stack.enter_context(postgres_url())}
        out = {}
        for label, url in urls.items():
            db = stack.enter_context(connect(url))
            if table.name in db.tables():
                raise InvalidArgumentError(f"{label} already has a table {table.name!r}: plan_sql_on_engines works "
                                           "on a copy of its own and will not touch it")  # fmt: skip
            copy = db.import_table(table)
            try:
                out[label] = plan_sql(plan if isinstance(plan, MigrationPlan) else plan(copy), copy)
            finally:
                db.drop_table(table.name)
        return out


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where ipywidgets can draw)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def progress_bar(stream: TextIO | None = None) -> Any:
    """The bar for where this runs: an ipywidgets bar shown in the cell's output in Jupyter
    (``labkit.course.widgets.NotebookProgress``), else a line drawn on ``stream`` (stderr) when it is a terminal."""
    if stream is None and in_notebook():
        return NotebookProgress().show()
    return TerminalProgress(stream)


__all__ = [
    "EMAIL_DOMAIN_SQL",
    "SnapshotRecorder",
    "TrafficReport",
    "TrafficSimulator",
    "email_domain",
    "exercises",
    "in_notebook",
    "make_orders",
    "make_products",
    "make_users",
    "notebook_setup",
    "plan_sql_on_engines",
    "postgres_url",
    "progress_bar",
    "simulate_traffic",
    "split_name",
    "table_owner",
]
