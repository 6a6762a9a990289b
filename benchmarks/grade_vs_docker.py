"""Time `grader check` against the bare docker CLI doing the same work, cold and warm.

The bare equivalent of a grade: build, run, wait for /health, POST /predict, rebuild
after an app edit, rebuild after a requirements edit. "Cold" means the dependency
layer is not in the cache: each tool gets its own copy of the reference solution
whose requirements.txt carries a unique comment, so neither can reuse the other's
(or an earlier run's) pip install. "Warm" repeats the same work once that layer exists.

    .venv/bin/python benchmarks/grade_vs_docker.py

Prints the seconds of each and the ratios grader/docker, measured side by side here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from grader.engine import LABEL_RUN, RunId

ROOT = Path(__file__).resolve().parent.parent
# A live run id: a grader starting meanwhile must not sweep these as a dead run's.
LABEL = f"{LABEL_RUN}={RunId.new()}"


def project_copy(parent: Path, name: str, token: str) -> Path:
    """Starter + reference solution, with a requirements.txt unique to ``token``."""
    project = parent / name
    shutil.copytree(ROOT / "exercises" / "model-api", project)
    shutil.copytree(ROOT / "solutions" / "model-api", project, dirs_exist_ok=True)
    with (project / "requirements.txt").open("a") as handle:
        handle.write(f"# benchmark {token}\n")
    return project


def docker(*args: str, cwd: Path | None = None, buildkit: bool = False) -> str:
    command = [BUILDKIT_CLI, *args] if buildkit else ["docker", *args]
    env = {**os.environ, "DOCKER_BUILDKIT": "1" if buildkit else "0"}
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise SystemExit(f"docker {' '.join(args)} failed:\n{result.stderr.strip()[-1500:]}")
    return result.stdout.strip()


def buildkit_cli() -> str:
    """A docker CLI that builds with BuildKit without buildx: Debian's 20.10 client has it
    built in; a newer client needs the buildx plugin."""
    for candidate in ("/usr/bin/docker", shutil.which("docker") or "docker"):
        probe = subprocess.run(
            [candidate, "build", "--help"],
            capture_output=True,
            text=True,
            check=False,
            # The 20.10 CLI shows its BuildKit flags only with BuildKit switched on.
            env={**os.environ, "DOCKER_BUILDKIT": "1"},
        )
        if "--progress" in probe.stdout:
            return candidate
    raise SystemExit("No docker CLI here builds with BuildKit (install docker-buildx).")


BUILDKIT_CLI = "docker"


def bare_docker(project: Path, image: str, *, buildkit: bool = False) -> float:
    started = time.perf_counter()
    docker("build", "-q", "--label", LABEL, "-t", image, ".", cwd=project, buildkit=buildkit)
    name = f"{image}-run"
    docker(
        "run",
        "-d",
        "--name",
        name,
        "--label",
        LABEL,
        "-e",
        "API_KEY=k",
        "-p",
        "127.0.0.1::8000",
        image,
    )
    try:
        port = docker("port", name, "8000/tcp").split(":")[-1]
        url = f"http://127.0.0.1:{port}"
        for _ in range(240):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        flower = {
            "sepal_length_cm": 5.1,
            "sepal_width_cm": 3.5,
            "petal_length_cm": 1.4,
            "petal_width_cm": 0.2,
        }
        httpx.post(f"{url}/predict", json=flower, headers={"X-API-Key": "k"}).raise_for_status()
    finally:
        docker("rm", "-f", "-v", name)
    edits = [("app/main.py", "# app edit\n"), ("requirements.txt", "# requirements edit\n")]
    for relative, text in edits:
        edited = project.parent / f"{project.name}-{relative.replace('/', '-')}"
        shutil.copytree(project, edited, dirs_exist_ok=True)
        with (edited / relative).open("a") as handle:
            handle.write(text)
        docker(
            "build",
            "-q",
            "--label",
            LABEL,
            "-t",
            f"{image}-edit",
            ".",
            cwd=edited,
            buildkit=buildkit,
        )
        docker("rmi", f"{image}-edit")
    return time.perf_counter() - started


def grader_check(project: Path, builder: str = "auto") -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "check",
            str(project),
            "--exercise",
            "model-api",
            "--format",
            "json",
            "--no-progress",
            "--builder",
            builder,
        ],
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"grader check failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="benchmark-") as tmp:
        parent = Path(tmp)
        token = uuid.uuid4().hex[:8]
        image = f"benchmark-model-api-{token}"
        grader_project = project_copy(parent, "for-grader", f"grader-{token}")
        docker_project = project_copy(parent, "for-docker", f"docker-{token}")
        rows = []
        try:
            for run in ("cold", "warm"):
                docker_s = bare_docker(docker_project, image)
                grader_s = grader_check(grader_project, "classic")
                rows.append((run, grader_s, docker_s))
        finally:
            # Its layers hold a requirements.txt unique to this run: of no use to anyone.
            subprocess.run(["docker", "rmi", image], capture_output=True)
    print("Both with the classic builder (see benchmarks/builders.py for BuildKit).")
    print(f"{'run':<6}{'grader check':>14}{'bare docker':>14}{'ratio':>8}")
    for run, grader_s, docker_s in rows:
        print(f"{run:<6}{grader_s:>13.1f}s{docker_s:>13.1f}s{grader_s / docker_s:>8.2f}")
    print(
        "grader check does more than the bare commands (static analysis, four containers, "
        "API-key and volume probes, a secret scan) but stops the requirements-edit rebuild as "
        "soon as the install step starts."
    )


if __name__ == "__main__":
    main()
