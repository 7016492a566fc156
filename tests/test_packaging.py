from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import requires
from pathlib import Path

import yaml

import labkit

ROOT = Path(__file__).resolve().parent.parent


def _name(req: str) -> str:
    return re.split(r"[<>=!~ ;\[]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    # the installed metadata is pyproject's [project] dependencies and extras (tomllib needs Python 3.11)
    wanted = {_name(r) for r in requires("labkit")}
    assert {"pandas", "pytest"} <= wanted
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    deps = env["dependencies"]
    assert all(isinstance(d, (str, dict)) for d in deps)  # a mis-indented list would parse as one string
    conda = {_name(d.split("=")[0]) for d in deps if isinstance(d, str)} - {"python", "pip"}
    pip = next(d["pip"] for d in deps if isinstance(d, dict))
    from_pip = {_name(p) for p in pip if not p.startswith("-e")}
    assert conda | from_pip == wanted
    for d in deps:
        if isinstance(d, str) and not d.startswith(("python", "pip")):
            assert re.fullmatch(r"[a-z0-9-]+=\d+\.\d+", d), f"{d}: pin major.minor"
    assert pip[-1] == "-e ."
    assert all(re.fullmatch(r"[a-z0-9-]+==[\d.]+", p) for p in pip[:-1]), "pin pip-only packages exactly"


def test_all_is_sorted_and_every_name_exists():
    # sorted as ruff (RUF022) sorts it: CONSTANTS first, then the rest by code point
    assert labkit.__all__ == sorted(labkit.__all__, key=lambda n: (not n.isupper(), n))
    for name in labkit.__all__:
        assert hasattr(labkit, name), name


def test_the_core_imports_none_of_pandas_matplotlib_or_ipywidgets():
    code = (
        "import sys, labkit; heavy = {'pandas', 'matplotlib', 'ipywidgets'} & set(sys.modules); "
        "print(','.join(sorted(heavy)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""
