"""The course in a real browser (issue 12): JupyterLab 4 driven by Playwright in Chromium, as a learner uses it.

A JupyterLab server runs on a free port with a scratch home, on a copy of the notebooks (JupyterLab saves what it
runs: the committed outputs stay as they are). Every notebook is opened as a learner first sees it: its stored
outputs drawn, its stored widgets drawn as widgets, the page logging no error. A screenshot of what a check saw is
saved when it fails (in the test's temporary folder, printed at the end), and of every check when
``$LABKIT_SCREENSHOTS`` names a folder (a reviewer's record of each page; ~0.15 s each, 30 a run). Running every
cell of every notebook is nbval's proof (strict, in a fresh kernel each): the browser runs what only a browser
shows. Notebook 04 is run whole (Run All) with its live failure panel, which is clicked with ten different failure
points: each figure under it must be the complete one, byte for byte the PNG the same choices produce headless. The
live progress bar is drawn and ends on the outcome.

The browser is the system's Chromium (``playwright install`` cannot download browsers here): ``LABKIT_CHROMIUM``, or
Debian's binary. Without Playwright or a browser the tests skip, saying why, unless ``LABKIT_REQUIRE_BROWSER`` is
set (CI sets it), which makes that a failure.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import lab as launcher
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
REQUIRE = "LABKIT_REQUIRE_BROWSER"
NOTEBOOKS = sorted(
    str(p.relative_to(ROOT / "notebooks")) for p in (ROOT / "notebooks").rglob("*.ipynb") if "checkpoint" not in str(p)
)
RUN_ALL_TIMEOUT_S = 180  # notebook 04 runs in about ten seconds on an idle machine


def chromium() -> str | None:
    """The Chromium binary to drive: LABKIT_CHROMIUM, Debian's (the `chromium` launcher runs this one), or PATH."""
    for candidate in (
        os.environ.get("LABKIT_CHROMIUM"),
        "/usr/lib/chromium/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        shutil.which("google-chrome"),
    ):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def _skip_or_fail(reason: str) -> None:
    if os.environ.get(REQUIRE):
        pytest.fail(f"a browser is required ({REQUIRE} is set) but {reason}")
    pytest.skip(f"browser tests skipped: {reason} (install Chromium, e.g. apt-get install chromium)")


@dataclass
class Lab:
    url: str
    token: str
    root: Path
    shots: Path
    process: subprocess.Popen[bytes] = field(repr=False)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    if chromium() is None:
        _skip_or_fail("no Chromium was found")
    pytest.importorskip("playwright", reason="playwright is a test dependency: python3 lab.py setup")
    scratch = tmp_path_factory.mktemp("jupyterlab")
    root = scratch / "notebooks"
    shutil.copytree(ROOT / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shots = Path(os.environ.get("LABKIT_SCREENSHOTS") or scratch / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    home = scratch / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "JUPYTER_CONFIG_DIR": str(scratch / "jupyter"),
           "JUPYTER_DATA_DIR": str(scratch / "jupyter-data"), "IPYTHONDIR": str(scratch / "ipython"),
           "JUPYTER_RUNTIME_DIR": str(scratch / "runtime"), "MPLCONFIGDIR": str(scratch / "mpl")}  # fmt: skip
    # trusted as `python3 lab.py` trusts them: JupyterLab draws stored widgets only in a trusted notebook
    launcher.trust_notebooks(root, Path(sys.executable).parent / "jupyter", env)
    port, token = free_port(), secrets.token_hex(16)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           "--LabApp.expose_app_in_browser=True", "--ServerApp.disable_check_xsrf=True",
           f"--LabApp.app_settings_dir={launcher.LAB_SETTINGS}"]  # fmt: skip  (the lab's own settings, as lab.py)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(scratch / "jupyterlab.log", "wb")  # kept open for the server's lifetime
    process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((scratch / "jupyterlab.log").read_text()[-2000:]) from None
                time.sleep(0.3)
        yield Lab(url, token, root, shots, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        print(f"\nscreenshots: {shots}")


@contextmanager
def pictured(page: Any, lab: Lab, name: str) -> Iterator[None]:
    """The page's screenshot as ``name``.png when the check inside fails (what it looked like), and after every
    check when LABKIT_SCREENSHOTS names a folder."""
    try:
        yield
    except BaseException:
        page.screenshot(path=str(lab.shots / f"{name}.png"))
        raise
    if os.environ.get("LABKIT_SCREENSHOTS"):
        page.screenshot(path=str(lab.shots / f"{name}.png"))


@pytest.fixture(scope="module")
def browser(lab: Lab) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium(), args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield b
        b.close()


# The notebook's own widget, found by its path: never shell.currentWidget, which a restored or
# newly opened tab can change under a waiting test. Every snippet below starts with it.
_NB = """
  const nb = window.jupyterapp && [...window.jupyterapp.shell.widgets('main')]
    .find(w => w.context && w.context.path === path);
  const kernel = nb && nb.sessionContext && nb.sessionContext.session && nb.sessionContext.session.kernel;
"""


def _js(args: str, body: str) -> str:
    """A function for page.evaluate / wait_for_function: `nb` and `kernel` are bound, then `body` runs."""
    return f"{args} => {{{_NB}{body}}}"


_KERNEL_IDLE = _js(
    "(path)",
    """
  return !!(kernel && kernel.status === 'idle' && nb.content && nb.content.model);
""",
)

_ALL_RAN = _js(
    "(path)",
    """
  if (!kernel || kernel.status !== 'idle') return false;
  const cells = nb.content.model.cells;
  for (let i = 0; i < cells.length; i++) {
    const c = cells.get(i);
    if (c.type !== 'code' || !c.sharedModel.getSource().trim()) continue;
    const outputs = c.outputs.toJSON();
    if (outputs.some(o => o.output_type === 'error')) return true;  // Run All stops at an error
    if (c.executionCount === null) return false;
  }
  return true;
""",
)

_CELLS = _js("(path)", "return nb.content.model.toJSON().cells;")

_RUN_ALL = _js(
    "(path)",
    """
  window.jupyterapp.shell.activateById(nb.id);
  // the stored execution counts cleared first: "every cell ran" is then a state to wait for, not a guess about
  // when the first cell started (the stored counts would say so before anything ran)
  const cells = nb.content.model.cells;
  for (let i = 0; i < cells.length; i++) if (cells.get(i).type === 'code') cells.get(i).executionCount = null;
  return window.jupyterapp.commands.execute('notebook:run-all-cells');
""",
)

_SHUTDOWN = _js("(path)", "return nb && nb.sessionContext.shutdown();")


class Page:
    """One notebook open in JupyterLab, with what the page logged."""

    def __init__(self, browser: Any, lab: Lab, notebook: str) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.console_errors: list[str] = []
        self.page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.console_errors.append(str(e)))
        self.path = notebook
        # ?reset: a fresh workspace, so the tabs that earlier tests opened are not restored (and started) again
        self.page.goto(f"{lab.url}/lab/tree/{notebook}?reset&token={lab.token}")
        self.page.wait_for_function(_KERNEL_IDLE, arg=notebook, timeout=120_000)

    def run_all(self) -> list[dict[str, Any]]:
        self.page.evaluate(_RUN_ALL, self.path)
        self.page.wait_for_function(_ALL_RAN, arg=self.path, timeout=RUN_ALL_TIMEOUT_S * 1000, polling=500)
        cells: list[dict[str, Any]] = self.page.evaluate(_CELLS, self.path)
        return cells

    def close(self) -> None:
        self.page.evaluate(_SHUTDOWN, self.path)
        self.page.close()


def _errors(cells: list[dict[str, Any]]) -> list[str]:
    return [f"{o['ename']}: {o['evalue']}" for c in cells for o in c.get("outputs", []) if o["output_type"] == "error"]


_OPEN = _js(
    "async (path)",
    """
  const widget = await window.jupyterapp.commands.execute('docmanager:open', {path, factory: 'Notebook'});
  await widget.context.ready;
  await widget.revealed;
  return true;
""",
)

_OPENED = _js(
    "(path)",
    """
  if (!nb || !nb.context.isReady || !nb.content.model) return null;
  const cells = nb.content.model.cells;
  let outputs = 0;
  for (let i = 0; i < cells.length; i++) outputs += cells.get(i).type === 'code' ? cells.get(i).outputs.length : 0;
  const drawn = nb.content.node.querySelectorAll('.jp-OutputArea-output').length;
  if (drawn < outputs) return null;  // still drawing
  const widgets = nb.content.node.querySelectorAll('.jupyter-widgets').length;
  return {cells: cells.length, outputs, drawn, widgets, fallback: nb.content.node.innerText.includes('VBox(children=')};
""",
)


def _opened_as_stored(page: Page, lab: Lab, notebook: str) -> None:
    """``notebook`` opened in the page's JupyterLab: its cells and outputs as stored, drawn, its widgets as widgets."""
    import json

    stored = json.loads((lab.root / notebook).read_text())
    cells = len(stored["cells"])
    outputs = sum(len(c.get("outputs", [])) for c in stored["cells"] if c["cell_type"] == "code")
    widgets = bool(stored.get("metadata", {}).get("widgets"))
    page.page.evaluate(_OPEN, notebook)
    seen = page.page.wait_for_function(_OPENED, arg=notebook, timeout=60_000).json_value()
    assert seen["cells"] == cells and 0 < seen["outputs"] <= outputs, f"{notebook}: {seen}"
    if widgets:  # its stored widgets drawn: some (a loaded machine draws them late), then their count still
        deadline, still = time.monotonic() + 60, 0
        while (still < 4 or seen["widgets"] == 0) and time.monotonic() < deadline:
            page.page.wait_for_timeout(250)
            now = page.page.evaluate(_OPENED, notebook)
            still, seen = (still + 1 if now["widgets"] == seen["widgets"] else 0), now
        assert seen["widgets"] > 0, f"{notebook}: its stored widgets are not drawn"
    if notebook == "04_failures_and_rollback.ipynb":  # the failure panel, before the kernel runs anything
        button = page.page.get_by_role("button", name="Run migration")
        panel = page.page.locator(".jp-OutputArea-output:visible").filter(has=button)
        assert panel.locator("select").count() == 3
    assert not seen["fallback"], f"{notebook}: a stored widget is drawn as its text"


def test_every_notebook_opens_with_its_stored_outputs_drawn_and_the_page_logs_no_error(browser, lab):
    """What a learner sees before pressing anything, in this JupyterLab: each notebook loads (cells and outputs as
    stored), its outputs are drawn, a stored widget is drawn as a widget (not its text fallback: the failure panel of
    04 with its three choices), no "get notified about official Jupyter news?" pop-up covers the first notebook, and
    the page logs no error. Running every cell is nbval's proof (strict, in a kernel); the browser runs what only a
    browser shows: Run All of notebook 04 with its live panel, the panel's clicks, the progress bar (tests below)."""
    page = Page(browser, lab, launcher.FIRST_NOTEBOOK)
    try:
        for notebook in NOTEBOOKS:
            with pictured(page.page, lab, notebook.replace("/", "__").removesuffix(".ipynb")):
                _opened_as_stored(page, lab, notebook)
            # each stays open, as a learner's tabs do (a tab closed while its kernel starts makes JupyterLab's
            # debugger log "Could not restore the debugger state", its own request cancelled); the kernels are
            # shut down below, once the page is closed
        # JupyterLab asks a few seconds after it starts: the notebooks above took longer than that
        assert page.page.get_by_text("official Jupyter news").count() == 0
        assert page.console_errors == [], "the page logged errors"
    finally:
        page.page.close()
        _shut_down_kernels(lab)


def _shut_down_kernels(lab: Lab) -> None:
    """Every kernel of the server, shut down through its REST API (what the notebooks opened above started)."""
    import json

    with urllib.request.urlopen(f"{lab.url}/api/kernels?token={lab.token}", timeout=10) as answer:
        kernels = json.loads(answer.read())

    def shut_down(kernel: dict[str, Any]) -> None:
        request = urllib.request.Request(f"{lab.url}/api/kernels/{kernel['id']}?token={lab.token}", method="DELETE")
        urllib.request.urlopen(request, timeout=30).close()

    with ThreadPoolExecutor(8) as pool:  # each waits for its kernel to exit: together, not one after another
        list(pool.map(shut_down, kernels))


_PROGRESS_NOTEBOOK = {
    "cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": [
        "import labkit as lk\n", "from labkit import lab\n",
        "users = lab.make_users(400, seed=0)\n",
        "plan = lk.build_rename_column_migration(users, 'name', 'full_name', batch_size=20, pause=0.005)\n",
        "print(lk.MigrationRunner(users, observers=[lab.progress_bar()]).execute_plan(plan).status)\n"]}],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
    "nbformat": 4, "nbformat_minor": 5,
}  # fmt: skip


def test_the_live_progress_bar_is_drawn_and_ends_on_the_outcome(browser, lab):
    """lab.progress_bar() in a notebook (lessons 02, 07): an ipywidgets bar the runner updates as it goes; in the
    page it fills up and its line ends on the outcome, with no error logged."""
    import json

    (lab.root / "progress_bar.ipynb").write_text(json.dumps(_PROGRESS_NOTEBOOK))
    page = Page(browser, lab, "progress_bar.ipynb")
    try:
        cells = page.run_all()
        assert _errors(cells) == []
        assert any("completed" in "".join(o.get("text", "")) for o in cells[0]["outputs"]), cells[0]["outputs"]
        bar = page.page.locator(".jupyter-widgets .widget-label").last
        bar.wait_for(timeout=30_000)
        page.page.wait_for_function("el => el.innerText.startsWith('completed')", arg=bar.element_handle(),
                                    timeout=30_000)  # fmt: skip
        progress = page.page.locator(".jupyter-widgets .progress-bar").last  # ipywidgets 8's FloatProgress view
        assert "width: 100%" in (progress.get_attribute("style") or ""), progress.get_attribute("style")
        assert "progress-bar-success" in (progress.get_attribute("class") or "")  # bar_style of a completed run
        assert page.console_errors == []
    finally:
        page.close()


def test_a_newcomer_is_not_asked_about_jupyter_news(lab):
    """The lab's own settings (jupyterlab-settings/overrides.json) answer JupyterLab's news question: the server
    gives the page fetchNews "false" (and the page opened above shows no pop-up)."""
    import json

    url = f"{lab.url}/lab/api/settings/@jupyterlab/apputils-extension:notification?token={lab.token}"
    with urllib.request.urlopen(url, timeout=10) as answer:  # overrides.json changes the defaults the page gets
        defaults = {k: v.get("default") for k, v in json.loads(answer.read())["schema"]["properties"].items()}
    assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False, defaults


# ---------------------------------------------------------------- notebook 04: the failure panel, clicked

CLICKS = [  # (fail at, batch, fail undo)
    ("backfill", 2, "(undo succeeds)"),
    ("backfill", 4, "(undo succeeds)"),
    ("switch_reads", 0, "(undo succeeds)"),
    ("stop_dual_write", 0, "(undo succeeds)"),
    ("drop_column", 0, "(undo succeeds)"),
    ("(no failure)", 0, "(undo succeeds)"),
    ("start_dual_write", 0, "(undo succeeds)"),
    ("backfill", 1, "add_column"),
    ("switch_reads", 0, "backfill"),
    ("add_column", 0, "(undo succeeds)"),
]


_IN_KERNEL = _js(
    "async ([path, code])",
    """
  const future = kernel.requestExecute({code, silent: false, store_history: false});
  let out = '';
  future.onIOPub = (msg) => {
    if (msg.header.msg_type === 'stream') out += msg.content.text;
    if (msg.header.msg_type === 'error') out += msg.content.ename + ': ' + msg.content.evalue;
  };
  await future.done;
  return out;
""",
)

# the figure of the panel's last run, drawn again from its result, whole, in the same kernel (same fonts and rc)
_REDRAW = (
    "import base64\nfrom labkit import plots\n_r = panel.last_report\n"
    "print(base64.b64encode(plots.png(plots.timeline_figure(_r.result.history, "
    "title=f'{panel.last_plan.name}: {_r.result.status}'))).decode(), end='')"
)


def _changed(read: Any, before: Any, until: Any = None, seconds: float = 30) -> Any:
    """What ``read()`` gives once it differs from ``before`` (or, with ``until``, once ``until(value)`` holds), polled
    every 0.1 s up to ``seconds``; the last value read otherwise (the caller's assert says what was wanted)."""
    deadline = time.monotonic() + seconds
    now = read()
    while (now == before if until is None else not until(now)) and time.monotonic() < deadline:
        time.sleep(0.1)
        now = read()
    return now


def test_the_failure_panel_draws_the_complete_figure_on_every_click(browser, lab):
    # a fresh copy: the Run All test above may have opened (and saved) notebook 04 in this server already
    shutil.copy(ROOT / "notebooks" / "04_failures_and_rollback.ipynb", lab.root / "04_panel_clicks.ipynb")
    page = Page(browser, lab, "04_panel_clicks.ipynb")
    try:
        # the stored panel drawn first (the test below checks that opening logs nothing); what this test checks
        # starts with Run All: a stored view still being drawn when the kernel's widget manager takes over can log
        # JupyterLab's own "widget model not found" for a model of the file's saved state (seen in two CI runs)
        page.page.get_by_role("button", name="Run migration").wait_for(timeout=30_000)
        page.console_errors.clear()
        assert _errors(page.run_all()) == []
        p = page.page
        panel = p.locator(".jupyter-widgets.widget-vbox", has=p.get_by_role("button", name="Run migration")).first
        selects = panel.locator("select")
        batch = panel.locator("input[type=number]")
        image = panel.locator(".widget-output img")
        for k, (step, number, undo) in enumerate(CLICKS, 1):
            selects.nth(1).select_option(step)
            if number:
                batch.fill(str(number))
                batch.press("Enter")
            selects.nth(2).select_option(undo)
            with pictured(p, lab, f"04_panel_click_{k:02d}"):
                before = image.last.get_attribute("src") if image.count() else None
                panel.get_by_role("button", name="Run migration").click()
                src = _changed(lambda: image.last.get_attribute("src") if image.count() else None, before)
                # the complete figure, drawn again in the kernel: its execute request queues behind the click's
                # handler, so it runs once the panel's run is over and its last figure sent
                expected = "data:image/png;base64," + p.evaluate(_IN_KERNEL, [page.path, _REDRAW])
                # the page draws what the kernel sent in order: the complete figure last (a partial one before it
                # would be replaced; a second one beside it is counted below)
                src = _changed(lambda: image.last.get_attribute("src") if image.count() else None, src,
                               until=lambda now, want=expected: now == want)  # fmt: skip
                assert src == expected, f"click {k} ({step}:{number}, undo {undo}): the figure is not the complete one"
                assert image.count() == 1, f"click {k}: {image.count()} figures under the panel"
                # the panel's progress bar ends on the outcome's line (ProgressState.final_line), drawn in the page
                undo_fails = undo != "(undo succeeds)"
                outcome = "completed" if step == "(no failure)" else "ROLLBACK FAILED" if undo_fails else "rolled back"
                bar_line = panel.locator(".widget-hbox .widget-label").last.inner_text()
                assert bar_line.startswith(outcome), f"click {k}: the progress bar says {bar_line!r}"
        assert page.console_errors == []
    finally:
        page.close()
