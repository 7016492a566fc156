"""The Setup cell of every notebook: check versions, set a small, stable plot style."""

from __future__ import annotations

from importlib.metadata import version

MINIMUM = {"pandas": (2, 2), "matplotlib": (3, 8), "ipywidgets": (8, 1)}


def _major_minor(text: str) -> tuple[int, int]:
    major, minor, *_ = [int("".join(ch for ch in p if ch.isdigit()) or 0) for p in [*text.split("."), "0", "0"]]
    return major, minor


def notebook_setup() -> str:
    """Raise if a dependency is too old; set the plot style; return one stable line (no exact versions)."""
    import matplotlib.pyplot as plt

    from . import __version__

    for package, minimum in MINIMUM.items():
        have = _major_minor(version(package))
        if have < minimum:
            raise RuntimeError(
                f"{package} {version(package)} is too old: the lab needs {minimum[0]}.{minimum[1]}+ "
                "(run `python3 lab.py` to set up the lab's own environment)"
            )
    import pandas as pd

    pd.set_option("display.max_colwidth", 200)  # findings and plan descriptions are whole sentences
    plt.rcParams.update({"figure.dpi": 72, "figure.figsize": (9, 3.6), "axes.grid": True, "grid.alpha": 0.3})
    checks = ", ".join(f"{p} >= {m[0]}.{m[1]}" for p, m in MINIMUM.items())
    return f"labkit {__version__} ready: Python >= 3.10, {checks}"
