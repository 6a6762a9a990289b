"""A learner's first minutes, in a real browser: JupyterLab in learner mode (as `make lab`
starts it) opens a lesson, Run All Cells shows the outputs, nbgrader's Validate button is
there and its instructor tools are not. Screenshots are kept in test-artifacts/ for people
to look at."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from grader.lesson_helpers import remove_earlier_runs
from tests.chromium import ChromiumPage, require_chromium
from tests.unit.test_jupyter_modes import INSTRUCTOR_PLUGINS

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
pytestmark = [pytest.mark.docker, pytest.mark.slow]
# The lessons the tests open; what their runs leave is removed by label afterwards.
BROWSED = ("01-containers", "07-images-for-ml")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def jupyterlab(tmp_path: Path, docker_client) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """JupyterLab on 127.0.0.1, serving a copy of lessons/; yields (base URL, token)."""
    shutil.copytree(ROOT / "lessons", tmp_path / "lessons")
    port, token = _free_port(), secrets.token_hex(16)
    log = (tmp_path / "jupyter.log").open("w")
    bin_dir = Path(sys.executable).parent
    server = subprocess.Popen(
        [
            str(bin_dir / "jupyter"),
            "lab",
            "--no-browser",
            "--allow-root",
            "--ip",
            "127.0.0.1",
            f"--port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={tmp_path / 'lessons'}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            # A workspace of its own: JupyterLab reopens the notebooks a saved workspace
            # had open (an earlier test's, or a person's), and two notebooks on the page
            # make its locators ambiguous.
            f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            # The lesson's work folder in the test's own folder, not in the home folder.
            "DOCKER_ML_COURSE_WORK": str(tmp_path / "work"),
            # Learner mode, as `make lab` (make/common.mk's LEARNER_MODE) sets it.
            "JUPYTER_CONFIG_PATH": str(ROOT / "jupyter-config" / "learner"),
        },
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{base}/api/status", params={"token": token}, timeout=1).is_success:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        else:
            pytest.fail(
                f"JupyterLab did not start:\n{(tmp_path / 'jupyter.log').read_text()[-2000:]}"
            )
        yield base, token
    finally:
        server.terminate()
        server.wait(timeout=30)
        # Run All Cells stops at the first unanswered exercise, before the clean-up cell:
        # what a lesson's next run would remove (every run but "", so all of them).
        for lesson in BROWSED:
            remove_earlier_runs(docker_client, lesson, "", tmp_path / "work")


def _run_all_cells(page: Any, base: str, token: str, notebook: str) -> Any:
    """Open the notebook, wait for its kernel, Run All Cells; the page's output areas."""
    from playwright.sync_api import expect

    page.goto(f"{base}/lab/tree/{notebook}?token={token}")
    expect(page.locator(".jp-Notebook")).to_be_visible(timeout=60_000)
    expect(page.locator(".jp-NotebookPanel-toolbar").get_by_text("Validate")).to_be_visible(
        timeout=30_000
    )
    # Run All Cells before the kernel is ready runs nothing (seen on a loaded machine):
    # wait until the status bar says the kernel is idle.
    expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(timeout=60_000)
    page.get_by_text("Run", exact=True).first.click()
    page.get_by_text("Run All Cells", exact=True).click()
    return page.locator(".jp-OutputArea-output")


def _dismiss_news(page: Any) -> None:
    news = page.get_by_role("button", name="No", exact=True)
    if news.count():
        news.first.click()


def test_lesson_runs_in_jupyterlab_with_nbgrader(jupyterlab: tuple[str, str]) -> None:
    """In JupyterLab, does Run All Cells fill a lesson with real Docker output, and is
    nbgrader's Validate button there?"""
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    base, token = jupyterlab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright, ChromiumPage(playwright) as page:
        output = _run_all_cells(page, base, token, "01-containers/containers.ipynb")
        expect(output.filter(has_text="this run's id is")).to_be_visible(timeout=120_000)
        expect(output.filter(has_text="Exited (137)")).to_be_visible(timeout=120_000)
        # The first exercise is a %%bash cell: its stub says it is not answered, and fails.
        expect(output.filter(has_text="Not answered yet").first).to_be_visible(timeout=60_000)
        _dismiss_news(page)
        output.filter(has_text="Exited (137)").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "jupyterlab-lesson-01.png"), full_page=False)


def test_lesson_7_runs_in_learner_mode_without_the_instructor_tools(
    jupyterlab: tuple[str, str],
) -> None:
    """Does lesson 7 run its demos in the browser (builds, a plot, the model in a volume)
    up to its first exercise, with nbgrader's instructor tools off and out of sight?"""
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    base, token = jupyterlab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright, ChromiumPage(playwright) as page:
        output = _run_all_cells(page, base, token, "07-images-for-ml/images-for-ml.ipynb")
        expect(output.filter(has_text="this run's id is")).to_be_visible(timeout=120_000)
        expect(output.filter(has_text="volume, second start").first).to_be_visible(timeout=300_000)
        expect(output.filter(has_text="NotImplementedError").first).to_be_visible(timeout=60_000)
        assert page.locator(".jp-OutputArea-output img").count() >= 1, "no plot was drawn"
        disabled = page.evaluate(
            "JSON.parse(document.getElementById('jupyter-config-data').textContent)"
            ".disabledExtensions"
        )
        assert set(INSTRUCTOR_PLUGINS) <= set(disabled), disabled
        _dismiss_news(page)
        menu = page.get_by_text("Nbgrader", exact=True)
        if menu.count():
            menu.first.click()  # what it would list, had learner mode let the tools in
        for tool in ("Formgrader", "Create Assignment", "Course List", "Assignment List"):
            assert page.get_by_text(tool, exact=True).count() == 0, f"{tool} is on the page"
        page.keyboard.press("Escape")
        output.filter(has_text="volume, second start").first.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "jupyterlab-lesson-07.png"), full_page=False)
