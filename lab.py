#!/usr/bin/env python3
"""Set up the lab and run it: the only two commands a newcomer needs.

    python3 lab.py          # set everything up (first time only) and start JupyterLab on the notebooks
    python3 lab.py test     # set everything up and run every test (ruff, mypy, pytest, the notebooks)
    python3 lab.py refresh  # (authors) re-execute every notebook in place, storing fresh outputs

Needs only Python 3.10+. Creates ./.venv (override with LABKIT_VENV) and installs labkit into it with
its dependencies; re-installs when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("LABKIT_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def _say(msg: str) -> None:
    print(f"[lab] {msg}", flush=True)


def setup() -> None:
    """Create the virtual environment and install labkit with everything it needs (once per pyproject)."""
    if sys.version_info < (3, 10):  # noqa: UP036 - lab.py must explain itself on an old Python
        sys.exit(f"[lab] Python 3.10 or newer is needed, this is {sys.version.split()[0]}")
    stamp = VENV / ".labkit-installed"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if PY.exists() and stamp.exists() and stamp.read_text() == wanted:
        return
    if not PY.exists():
        _say(f"creating a virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    _say("installing labkit and its dependencies (about a minute the first time)")
    pip = [str(PY), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "--quiet", "--upgrade", "pip"], check=True)
    # PYTHONWARNINGS: setuptools warns on every editable install that a folder named like the package may shadow
    # it on import; here that folder is the package itself, so the warning only alarms a newcomer
    quiet = {**os.environ, "PYTHONWARNINGS": "ignore"}
    subprocess.run([*pip, "install", "--quiet", "-e", f"{ROOT}[test]"], check=True, env=quiet)
    stamp.write_text(wanted)


def run(*cmd: str) -> int:
    return subprocess.run(list(cmd), cwd=ROOT).returncode


# pytest-xdist workers for `test`: one per core, at most 4 (each starts its own PostgreSQL, JupyterLab and Chromium);
# on 2 cores 2 workers took 0.60 of the serial time and 3 took 0.64 (one run each, notes of issue 23)
WORKERS = int(os.environ.get("LABKIT_TEST_WORKERS") or min(os.cpu_count() or 1, 4))
FIRST_NOTEBOOK = "00_index.ipynb"
# the lab's own JupyterLab settings (overrides.json): no "get notified about official Jupyter news?" pop-up over a
# newcomer's first notebook, no update check (the course pins its JupyterLab)
LAB_SETTINGS = ROOT / "jupyterlab-settings"
# a URL the server prints once it listens, e.g. http://localhost:8888/lab/tree/00_index.ipynb?token=...
SERVER_URL = re.compile(r"https?://(?:localhost|127\.0\.0\.1|\[::1\])(?::\d+)?/\S*")


def lab(extra: list[str]) -> int:
    """Start JupyterLab on the notebooks, its log in a file, and end with where it is and what to open first.

    The server gets a session of its own, so the terminal's Ctrl-C reaches this script only, which then stops the
    server cleanly (SIGTERM) instead of JupyterLab asking "Shut down this Jupyter server (y/[n])?".
    """
    cmd = [str(BIN / "jupyter"), "lab", f"--ServerApp.root_dir={ROOT / 'notebooks'}",
           f"--LabApp.default_url=/lab/tree/{FIRST_NOTEBOOK}", f"--LabApp.app_settings_dir={LAB_SETTINGS}"]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # JupyterLab refuses to start as root without it (containers, CI boxes)
    # a log of its own for each lab started (its process id in the name): two labs from one checkout, or the tests
    # starting two at once, each read their own server's URL, never the other's
    # Ctrl-C stops the lab whatever this process inherited: a shell starts a background job with SIGINT ignored,
    # and Python then leaves it ignored (the tests' busy runs, started so, waited 300 s for a lab that never stopped)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    log_path = VENV / "logs" / f"jupyterlab-{os.getpid()}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    trust_notebooks()
    _say("starting JupyterLab")
    with open(log_path, "wb") as log:  # the child keeps its own handle
        server = subprocess.Popen([*cmd, *extra], cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=os.name != "nt")  # fmt: skip
    try:
        url = _wait_for_url(server, log_path)
        if url is None:
            print(log_path.read_text(errors="replace")[-3000:], file=sys.stderr)
            _say(f"JupyterLab did not start (exit code {server.poll()}); its whole log is in {log_path}")
            _stop(server)
            return 1
        _say(f"server log: {log_path}; Ctrl-C stops the lab")
        print(f"\nJupyterLab is running at {url}\nOpen {FIRST_NOTEBOOK} first.", flush=True)
        return server.wait()
    except KeyboardInterrupt:
        _say("stopping JupyterLab")
        _stop(server)
        return 0


def _wait_for_url(server: subprocess.Popen[bytes], log_path: Path, timeout_s: float = 180) -> str | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and server.poll() is None:
        found = SERVER_URL.search(log_path.read_text(errors="replace"))
        if found:
            return found.group(0)
        time.sleep(0.2)
    return None


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.terminate()  # JupyterLab shuts its kernels down on SIGTERM
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test(extra: list[str]) -> int:
    _say("ruff: lint")
    rc = run(str(PY), "-m", "ruff", "check", "labkit", "tests", "bench", "lab.py", "conftest.py")
    if rc:
        return rc
    # mypy checks beside pytest (its ten seconds of one core overlap pytest's start); its report comes after pytest's
    _say("mypy: types, strict on labkit/ (beside pytest; its report follows pytest's)")
    mypy = subprocess.Popen([str(PY), "-m", "mypy"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _say("pytest: unit, property and notebook tests")
        rc = run(str(PY), "-m", "pytest", *spread(extra), *extra)
    finally:
        typed = mypy.communicate()[0].decode(errors="replace")
    _say("mypy: " + ("passed" if mypy.returncode == 0 else "FAILED"))
    print(typed, end="", flush=True)
    return rc or mypy.returncode


def spread(extra: list[str]) -> list[str]:
    """pytest-xdist's options for the whole suite: a worker per core (many tests wait on a server, a kernel or a
    browser), each notebook whole on one worker (the repository's conftest.py makes a notebook a scope), every
    other test wherever a worker is free. None when the caller chose (``-n``, ``-p no:xdist``) or names tests (a few run
    sooner in one process), or when the tests share one PostgreSQL server given by LABKIT_PG_DSN: each worker
    would empty the same tables under the others."""
    chosen = any(a == "-n" or a.startswith(("-n", "--numprocesses", "--dist")) or a == "no:xdist" for a in extra)
    named = any(not a.startswith("-") for a in extra)
    if chosen or named or os.environ.get("LABKIT_PG_DSN") or WORKERS < 2:
        return []
    return ["-n", str(WORKERS), "--dist", "loadscope"]  # a scope: a notebook, or one test (conftest.py)


def course_notebooks(folder: Path = ROOT / "notebooks") -> list[Path]:
    return sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def trust_notebooks(
    folder: Path = ROOT / "notebooks", jupyter: Path = BIN / "jupyter", env: dict[str, str] | None = None
) -> None:
    """Mark the course's notebooks trusted for this user, as `jupyter trust` does.

    JupyterLab draws an untrusted notebook's stored widgets as their plain-text fallback: without this, the failure
    panel of notebook 04 is text until its cell runs. These are the notebooks the learner cloned to run.
    """
    cmd = [str(jupyter), "trust", *map(str, course_notebooks(folder))]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)  # quiet: it logs every notebook it signs
    if done.returncode:  # the lab still works; the panel shows as text until its cell runs
        _say(f"could not mark the notebooks trusted ({done.stderr.strip()[-300:]}); widgets show once their cell runs")


def refresh(extra: list[str]) -> int:
    """Re-run every notebook top to bottom in a fresh kernel and store its outputs (what nbval compares with)."""
    notebooks = course_notebooks()
    if extra:
        notebooks = [p for p in notebooks if any(e in p.name for e in extra)]
    for nb in notebooks:
        _say(f"executing {nb.relative_to(ROOT)}")
        rc = run(
            str(BIN / "jupyter"), "nbconvert", "--to", "notebook", "--execute", "--inplace",
            "--ExecutePreprocessor.timeout=120", "--ExecutePreprocessor.kernel_name=python3",
            "--ExecutePreprocessor.record_timing=False", str(nb),
        )  # fmt: skip
        if rc:
            return rc
    return 0


def main(argv: list[str]) -> int:
    command, extra = (argv[0], argv[1:]) if argv and not argv[0].startswith("-") else ("lab", argv)
    if command not in ("lab", "test", "setup", "refresh"):
        print(f"[lab] unknown command {command!r}: use 'python3 lab.py' or 'python3 lab.py test'", file=sys.stderr)
        return 64
    setup()
    if command == "setup":
        return 0
    return {"lab": lab, "test": test, "refresh": refresh}[command](extra)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
