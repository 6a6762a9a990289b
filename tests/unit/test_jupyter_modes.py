"""JupyterLab's two modes, started exactly as the Makefile starts them (read with
``make -n``) on 127.0.0.1: ``make lab`` hides nbgrader's instructor tools from learners,
``make formgrader`` serves them from the course root. No browser: the server's own
routes and the page configuration JupyterLab hands the browser tell what is on."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.unit.make_dry_run import MakeCommand, make_dry_run

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
INSTRUCTOR_PLUGINS = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
    "@jupyter/nbgrader:assignment-list",
)
# Each nbgrader server extension's own route: 404 when the extension is not loaded.
INSTRUCTOR_ROUTES = {"formgrader": "/formgrader", "course_list": "/formgraders"}

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Server:
    base: str
    token: str

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.base}{path}", params={"token": self.token}, timeout=30)

    def page_config(self) -> dict:
        html = self.get("/lab").text
        match = re.search(r'<script id="jupyter-config-data"[^>]*>(.*?)</script>', html, re.S)
        assert match, html[:500]
        return json.loads(match.group(1))


@contextmanager
def serve(command: MakeCommand, cwd: Path, log: Path) -> Iterator[Server]:
    """Run the Makefile's command in ``cwd`` on a free port of 127.0.0.1, no browser."""
    port, token = _free_port(), secrets.token_hex(16)
    server = subprocess.Popen(
        [
            str(BIN / "jupyter"),
            *command.args,
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        cwd=cwd,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env={**os.environ, **command.env, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},
    )
    running = Server(f"http://127.0.0.1:{port}", token)
    try:
        for _ in range(240):
            try:
                if running.get("/api/status").is_success:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None:
                break
            time.sleep(0.25)
        else:
            pytest.fail(f"JupyterLab did not start:\n{log.read_text()[-2000:]}")
        if server.poll() is not None:
            pytest.fail(f"JupyterLab exited:\n{log.read_text()[-2000:]}")
        yield running
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_make_lab_is_learner_mode(tmp_path: Path) -> None:
    """Does `make lab` open the lessons with nbgrader's instructor tools off and locked,
    and its Validate button on?"""
    command = make_dry_run(ROOT, "lab")
    assert command.env == {"JUPYTER_CONFIG_PATH": str(ROOT / "jupyter-config" / "learner")}
    assert "--notebook-dir=lessons" in command.args
    (tmp_path / "lessons").mkdir()
    with serve(command, tmp_path, tmp_path / "jupyter.log") as server:
        for extension, route in INSTRUCTOR_ROUTES.items():
            assert server.get(route).status_code == 404, f"{extension} is loaded"
        assert server.get("/assignments").status_code == 404, "assignment_list is loaded"
        # Validate's route answers POST only: 405 means it is there.
        assert server.get("/assignments/validate").status_code == 405
        config = server.page_config()
    assert set(INSTRUCTOR_PLUGINS) <= set(config["disabledExtensions"])
    assert set(INSTRUCTOR_PLUGINS) <= set(config.get("lockedExtensions", []))
    assert "@jupyter/nbgrader:validate-assignment" not in config["disabledExtensions"]


def test_make_formgrader_is_instructor_mode(tmp_path: Path) -> None:
    """Does `make formgrader` serve the course root with the Formgrader and the Create
    Assignment tools on?"""
    command = make_dry_run(ROOT, "formgrader")
    assert command.env == {"JUPYTER_CONFIG_PATH": str(ROOT / "jupyter-config" / "instructor")}
    assert "--notebook-dir=." in command.args
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / "01-containers", course / "solutions" / "01-containers")
    with serve(command, course, tmp_path / "jupyter.log") as server:
        assert server.get("/formgrader").status_code in {200, 302}
        assert server.get("/formgraders").status_code == 200
        # The formgrader reads the course from the server's root: it sees the lesson.
        assignments = server.get("/formgrader/api/assignments")
        assert assignments.status_code == 200, assignments.text[:500]
        assert "01-containers" in {item["name"] for item in assignments.json()}
        config = server.page_config()
    assert not set(INSTRUCTOR_PLUGINS) & set(config["disabledExtensions"])


def test_learner_mode_is_what_nbgrader_documents(tmp_path: Path) -> None:
    """Does `jupyter labextension list`, with the learner config, list the instructor
    plugins as disabled (nbgrader's documented `jupyter labextension disable`)?"""
    command = make_dry_run(ROOT, "lab")
    listed = subprocess.run(
        [str(BIN / "jupyter"), "labextension", "list"],
        env={**os.environ, **command.env, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        check=True,
    )
    disabled = (
        listed.stdout.split("Disabled extensions:")[-1]
        + listed.stderr.split("Disabled extensions:")[-1]
    )
    for plugin in INSTRUCTOR_PLUGINS:
        assert plugin in disabled
    assert "validate-assignment" not in disabled
