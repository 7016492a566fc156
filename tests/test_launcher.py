"""`python3 lab.py`, the newcomer's first command: it starts JupyterLab quietly and ends by saying where it is.

Runs the real launcher against the environment these tests run in (already set up, so `setup()` returns at once).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from tests.ports import free_port

ROOT = Path(__file__).resolve().parent.parent


def _launch(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    if not (Path(sys.prefix) / ".labkit-installed").exists():
        pytest.skip("these tests do not run in an environment that lab.py set up")
    env = {**os.environ, "LABKIT_VENV": sys.prefix, "HOME": str(tmp_path), "JUPYTER_CONFIG_DIR": str(tmp_path / "j"),
           "JUPYTER_DATA_DIR": str(tmp_path / "jd"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "jr"),
           "IPYTHONDIR": str(tmp_path / "ip")}  # fmt: skip
    return subprocess.Popen([sys.executable, str(ROOT / "lab.py"), *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip


def _read_until(proc: subprocess.Popen[str], last: str, timeout_s: float = 120) -> list[str]:
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith(last):
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout_s)
    return lines


def test_the_lab_starts_quietly_names_its_url_and_the_first_notebook_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    proc = _launch(tmp_path, "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1")
    try:
        lines = _read_until(proc, "Open 00_index.ipynb first.")
        assert lines and lines[-1] == "Open 00_index.ipynb first.", lines
        url = lines[-2].removeprefix("JupyterLab is running at ")
        assert url.startswith(f"http://127.0.0.1:{port}/lab/tree/00_index.ipynb?token="), lines
        assert all(line.startswith("[lab] ") for line in lines[:-3]) and lines[-3] == "", lines  # nothing else
        with urllib.request.urlopen(url, timeout=10) as page:  # the URL printed works as it is
            assert page.status == 200 and b"JupyterLab" in page.read()
        token = url.split("token=")[1]
        api = f"http://127.0.0.1:{port}/api/contents/00_index.ipynb?content=0&token={token}"
        with urllib.request.urlopen(api, timeout=10) as found:  # and serves the notebooks folder
            assert found.status == 200
        os.kill(proc.pid, signal.SIGINT)  # Ctrl-C: reaches lab.py only (the server has a session of its own)
        assert proc.wait(timeout=300) == 0  # generous: a loaded machine stops JupyterLab slowly
        rest = proc.stdout.read() if proc.stdout else ""
        assert "stopping JupyterLab" in rest
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=5)  # the server is gone
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_server_that_cannot_start_is_reported_with_its_log(tmp_path):
    """Started beside a lab that runs (two terminals on one checkout; the tests on two workers): it reports its own
    server's failure, not the other's URL (they once shared one log file)."""
    port = free_port()
    good = _launch(tmp_path / "good", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1")
    try:
        lines = _read_until(good, "Open 00_index.ipynb first.")  # a lab running, its URL in its log
        assert any(f":{port}/lab" in line for line in lines), lines
        proc = _launch(tmp_path / "bad", "--no-browser", "--port=not-a-port")
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 1
        assert "JupyterLab did not start" in out and "not-a-port" in out and "running at" not in out, out
        good_log = next(line for line in lines if "server log: " in line).split("server log: ")[1].split(";")[0]
        assert good_log not in out  # each lab its own log
    finally:
        os.kill(good.pid, signal.SIGINT)
        try:
            good.wait(timeout=300)
        except subprocess.TimeoutExpired:  # it did not stop: it goes anyway, not left running after the test
            good.kill()
            good.wait()
            raise


def test_the_test_command_spreads_the_suite_unless_told_or_sharing_one_server(monkeypatch):
    """`python3 lab.py test` runs pytest on every core (pytest-xdist), each notebook a scope of its own; not when
    the caller chose, names tests, or points every worker at one PostgreSQL (LABKIT_PG_DSN)."""
    import lab

    monkeypatch.delenv("LABKIT_PG_DSN", raising=False)
    monkeypatch.setattr(lab, "WORKERS", 2)
    assert lab.spread([]) == ["-n", "2", "--dist", "loadscope"]
    assert lab.spread(["-x", "-q"]) == ["-n", "2", "--dist", "loadscope"]
    for chosen in (["-n", "4"], ["-n4"], ["-p", "no:xdist"], ["--dist", "load"], ["tests/test_plan.py"]):
        assert lab.spread(chosen) == [], chosen
    monkeypatch.setenv("LABKIT_PG_DSN", "postgresql://somewhere/db")
    assert lab.spread([]) == []
    monkeypatch.delenv("LABKIT_PG_DSN")
    monkeypatch.setattr(lab, "WORKERS", 1)
    assert lab.spread([]) == []


def test_a_notebook_is_one_scope_and_every_other_test_its_own():
    """Under --dist loadscope the repository's conftest.py makes a notebook's cells one unit (they share a kernel)
    and every other test a unit of its own (the browser's and the harness's cases spread over the workers)."""
    pytest.importorskip("xdist")
    import conftest as root

    class Config:
        option = type("Options", (), {"loadscopereorder": True})()

        def getvalue(self, name: str) -> str:
            return "loadscope"

    sched = root.pytest_xdist_make_scheduler(Config(), log=None)
    assert Config.option.loadscopereorder is False  # the scopes go out in the collection's order: the longest first
    assert sched._split_scope("notebooks/08_your_own_stack.ipynb::Cell 3") == "notebooks/08_your_own_stack.ipynb"
    # the two measured lessons are one unit: one after the other, never both beside their busy loops at once
    assert sched._split_scope("notebooks/07_real_databases.ipynb::Cell 3") == sched._split_scope(
        "notebooks/09_beyond_add_and_rename.ipynb::Cell 0")
    one = "tests/test_lifecycle_harness.py::test_lifecycle_under_a_rolling_deploy[rename-plain-sqlite-in-process]"
    assert sched._split_scope(one) == one
    class Item:
        def __init__(self, path: str) -> None:
            self.path = ROOT / path

    names = ["tests/test_plan.py", "notebooks/02_add_column.ipynb", "tests/browser/test_jupyterlab.py",
             "notebooks/09_beyond_add_and_rename.ipynb", "notebooks/07_real_databases.ipynb"]  # fmt: skip
    items = [Item(n) for n in names]
    root.pytest_collection_modifyitems(Config(), items)  # the longest units first, each keeping its own order
    assert [str(i.path.relative_to(ROOT)) for i in items] == [names[3], names[4], names[2], names[1], names[0]]
    Config.getvalue = lambda self, name: "load"  # type: ignore[method-assign]
    assert root.pytest_xdist_make_scheduler(Config(), log=None) is None
    plain = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", "-o",
                            "addopts=", "-q", "tests/test_plan.py"], cwd=ROOT, capture_output=True, text=True,
                           timeout=300, check=False)  # fmt: skip
    assert plain.returncode == 0, plain.stdout[-2000:]  # the suite runs without pytest-xdist too
