"""A student's first minutes, in a real browser: JupyterLab on the release in headless Chromium.

Debian's chromium, driven by PyPI's Playwright through ``executable_path`` (Playwright's own browser
download is never used). The blank a-notebook runs top to bottom, then a wrong and a right a1
answer are typed into the answer cell, the self-check is run after each, and the feedback as the
page renders it must be what ``check`` says about that answer.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from autograde.course import ASSIGNMENT, ROOT

CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
NOTEBOOK = "a_vanishing_gradient.ipynb"
PROLOGUE = "from course_lib.tasks.a import x, w, h, sigma, dsigma, n, i\nimport sympy as sp\n"
# One line each: typed key by key, so no editor auto-indentation can change them (the notebook's
# first cell has imported what PROLOGUE imports).
WRONG_A1 = ("def dh_dw(n, i): return sp.Mul(*[dsigma(w[k] * h(k - 1)) for k in range(i, n + 1)])"
            " * sp.Mul(*[w[k] for k in range(i + 1, n + 1)])")
RIGHT_A1 = ("def dh_dw(n, i): return h(i - 1) * sp.Mul(*[dsigma(w[k] * h(k - 1)) for k in range(i, n + 1)])"
            " * sp.Mul(*[w[k] for k in range(i + 1, n + 1)])")


def _missing() -> str | None:
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is not installed (make test installs Debian's chromium when run as root)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (it is in the dev extras)"
    return None


@pytest.fixture(scope="module")
def browser_ready():
    why = _missing()
    if why and os.environ.get("CI") == "true":
        pytest.fail(f"the browser test must run in CI, but {why}")
    if why:
        pytest.skip(f"the browser test did not run: {why}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(browser_ready, tmp_path_factory):
    """JupyterLab on a copy of the release, windowing off so that every cell is in the page."""
    home = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "exercises" / ASSIGNMENT, home / ASSIGNMENT)
    settings = home / "settings" / "@jupyterlab"
    (settings / "notebook-extension").mkdir(parents=True)
    (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    (settings / "apputils-extension").mkdir()
    (settings / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    port, token = _free_port(), "browser-test"
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"), "JUPYTER_RUNTIME_DIR": str(home / "run"),
           "JUPYTER_CONFIG_DIR": str(home / "config"), "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={home / ASSIGNMENT}", "--LabApp.expose_app_in_browser=True",
         *(["--allow-root"] if os.geteuid() == 0 else [])],
        cwd=home, env=env, stdout=subprocess.DEVNULL, stderr=open(home / "server.log", "w"), start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (home / "server.log").read_text()[-3000:]
                time.sleep(0.5)
        yield url, token, home
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


def _expected_feedback(answer_line: str) -> list[str]:
    """What check("a1", …) says about the answer, computed here, line by line."""
    code = PROLOGUE + answer_line + "\nfrom course_lib import check\nprint(check('a1', dh_dw).text())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    return [line.strip() for line in done.stdout.splitlines() if line.strip()]


def test_student_types_a_wrong_then_a_right_a1_answer_and_reads_the_self_check(lab):
    from playwright.sync_api import sync_playwright

    url, token, home = lab
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(home / "profile"), executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.goto(f"{url}/lab/tree/{NOTEBOOK}?token={token}")
            page.wait_for_function("window.jupyterapp && window.jupyterapp.shell.currentWidget"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext.session")
            page.wait_for_function("window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status"
                                   " === 'idle'")
            answer = page.locator(".jp-CodeCell").filter(has_text="def dh_dw(n, i):")
            self_check = page.locator(".jp-CodeCell").filter(has_text='check("a1", dh_dw)').first
            output = self_check.locator(".jp-OutputArea-output")

            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")  # the blank notebook
            page.wait_for_function("document.body.innerText.includes('Self-check a1: not answered yet')")
            shown, before = {}, output.first.inner_text()
            for name, line in (("wrong", WRONG_A1), ("right", RIGHT_A1)):
                answer.locator(".cm-content").click()
                page.keyboard.press("Control+A")
                page.keyboard.type(line)
                page.keyboard.press("Shift+Enter")          # run the answer, move to the self-check
                page.keyboard.press("Shift+Enter")          # run the self-check
                deadline = time.monotonic() + 60
                while (text := output.first.inner_text()) == before or not text.strip():
                    assert time.monotonic() < deadline, f"the self-check did not answer: {text!r}"
                    time.sleep(0.2)
                shown[name], before = [s.strip() for s in text.splitlines() if s.strip()], text
        finally:
            context.close()
    for name, line in (("wrong", WRONG_A1), ("right", RIGHT_A1)):
        assert shown[name] == _expected_feedback(line), name
    assert "problem" in shown["wrong"][0] and len(shown["wrong"]) > 1
    assert shown["right"][0] == "Self-check a1: all checks passed"
