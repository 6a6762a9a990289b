"""A warm grade, and a class's batch, against the bare docker CLI's floor, side by side.

The floor is the least work that gives the grade's engine verdicts with plain ``docker``
commands: build, run on a named volume, wait for /health, POST /predict, remove the
container, run a second one on the same volume until /health answers and read the
prediction count (the volume scenario), rebuild an app-edited copy, and rebuild a
requirements-edited copy stopped as soon as its install step starts (that is all the
cache proof needs to know). The reference solution's .dockerignore keeps .env out of the
build context, so its grade needs no ``docker save`` either. Both use the builder the grader
picks on this engine, and the reference solution, whose layers are warm after a first
round of each (not timed).

Then ``grader batch`` grades STUDENTS copies of the reference solution (each with its own
app edit, so each build has work to do; all share the dependency layer) with WORKERS
workers, against STUDENTS × floor ÷ WORKERS, and against the bare CLI doing the same
STUDENTS floors WORKERS at a time (threads, each with its own copy and image): two floors
at once on two cores do not take one floor's time, since a floor keeps more than one
core busy part of the time (the app's start, dockerd, the CLI processes).

    .venv/bin/python benchmarks/grade_vs_floor.py [--rounds 3] [--students 30] [--workers 2]

After each floor (not timed), the BuildKit cache records it made are removed, as the
grader removes its own: the bare CLI leaves about ten a round (uploaded contexts, the
edited copies' layers), and a cache that grows with every round of the benchmark makes
the grader's own clean-up slower than on a learner's engine (pruning one record took
~16 ms of dockerd's CPU with a dozen records and ~70 ms with 1500).

Absolute seconds are noisy on a shared machine; the ratios, measured in one run, count.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker
import httpx
from grade_vs_docker import LABEL, buildkit_cli  # run as a script: benchmarks/ is on the path

ROOT = Path(__file__).resolve().parent.parent
FLOWER = {
    "sepal_length_cm": 5.1,
    "sepal_width_cm": 3.5,
    "petal_length_cm": 1.4,
    "petal_width_cm": 0.2,
}
# What each builder prints when a step starts running (not taken from the cache).
INSTALL_STARTED = {
    "buildkit": lambda line: "RUN pip install" in line and "CACHED" not in line,
    "classic": lambda line: line.startswith(" ---> Running in "),
}


def reference_copy(parent: Path, name: str, app_comment: str = "") -> Path:
    project = parent / name
    shutil.copytree(ROOT / "exercises" / "model-api", project)
    shutil.copytree(ROOT / "solutions" / "model-api", project, dirs_exist_ok=True)
    if app_comment:
        with (project / "app" / "main.py").open("a") as handle:
            handle.write(f"# {app_comment}\n")
    return project


class Cli:
    def __init__(self, builder: str) -> None:
        self.builder = builder
        self.program = buildkit_cli() if builder == "buildkit" else "docker"
        self.env = {**os.environ, "DOCKER_BUILDKIT": "1" if builder == "buildkit" else "0"}

    def __call__(self, *args: str, cwd: Path | None = None) -> str:
        result = subprocess.run(
            [self.program, *args], cwd=cwd, capture_output=True, text=True, env=self.env
        )
        if result.returncode != 0:
            raise SystemExit(f"docker {' '.join(args)} failed:\n{result.stderr[-1500:]}")
        return result.stdout.strip()

    def build_until_install_starts(self, project: Path) -> None:
        """Build and stop the CLI once the install step runs (its connection closes, the
        engine cancels the build), as the grader's cache proof does."""
        flags = ["--progress=plain"] if self.builder == "buildkit" else []
        process = subprocess.Popen(
            [self.program, "build", *flags, "--label", LABEL, "."],
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self.env,
        )
        assert process.stdout is not None
        started = INSTALL_STARTED[self.builder]
        install_seen = False
        for line in process.stdout:
            install_seen = install_seen or "pip install" in line
            if install_seen and started(line):
                break
        process.terminate()
        process.wait()


def _serve(cli: Cli, image: str, name: str, volume: str) -> str:
    """Start the app on the named volume and wait for /health; its URL."""
    cli(
        "run",
        "-d",
        "--name",
        name,
        "--label",
        LABEL,
        "-e",
        "API_KEY=k",
        "-v",
        f"{volume}:/data",
        "-p",
        "127.0.0.1::8000",
        image,
    )
    url = "http://127.0.0.1:" + cli("port", name, "8000/tcp").split(":")[-1]
    for _ in range(400):
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{image} never answered /health")


def floor(cli: Cli, project: Path, image: str) -> float:
    began = time.perf_counter()
    cli("build", "-q", "--label", LABEL, "-t", image, ".", cwd=project)
    volume = cli("volume", "create", "--label", LABEL)
    try:
        url = _serve(cli, image, f"{image}-run", volume)
        httpx.post(f"{url}/predict", json=FLOWER, headers={"X-API-Key": "k"}).raise_for_status()
        cli("rm", "-f", f"{image}-run")
        # The volume scenario: a new container on the same volume still sees the log.
        url = _serve(cli, image, f"{image}-again", volume)
        httpx.get(f"{url}/predictions/count", headers={"X-API-Key": "k"})
        cli("rm", "-f", f"{image}-again")
    finally:
        subprocess.run(
            ["docker", "rm", "-f", f"{image}-run", f"{image}-again"], capture_output=True
        )
        subprocess.run(["docker", "volume", "rm", volume], capture_output=True)
    token = uuid.uuid4().hex
    app_edit = project.parent / f"{project.name}-app-edit"
    shutil.copytree(project, app_edit, dirs_exist_ok=True)
    with (app_edit / "app" / "main.py").open("a") as handle:
        handle.write(f"# app edit {token}\n")
    cli("build", "-q", "--label", LABEL, "-t", f"{image}-edit", ".", cwd=app_edit)
    cli("rmi", f"{image}-edit")
    requirements_edit = project.parent / f"{project.name}-requirements-edit"
    shutil.copytree(project, requirements_edit, dirs_exist_ok=True)
    with (requirements_edit / "requirements.txt").open("a") as handle:
        handle.write(f"# requirements edit {token}\n")
    cli.build_until_install_starts(requirements_edit)
    return time.perf_counter() - began


def build_cache_ids(client: docker.DockerClient) -> set[str]:
    return {str(r["ID"]) for r in client.api.df().get("BuildCache") or []}


def remove_new_build_cache(client: docker.DockerClient, before: set[str]) -> None:
    """Remove the build cache records made since ``before`` (one id per call)."""
    for record_id in build_cache_ids(client) - before:
        with contextlib.suppress(docker.errors.APIError):  # in use, or gone with its parent
            client.api.prune_builds(filters={"id": [record_id]})


def untimed_floor(cli: Cli, project: Path, image: str, client: docker.DockerClient) -> float:
    """The floor's seconds; then (not timed) what its builds left in the cache goes."""
    before = build_cache_ids(client)
    seconds = floor(cli, project, image)
    remove_new_build_cache(client, before)
    return seconds


def floors_side_by_side(
    cli: Cli, projects: list[Path], workers: int, client: docker.DockerClient
) -> float:
    """Seconds for the bare CLI to do every project's floor, ``workers`` at a time."""
    images = [f"benchmark-floor-{uuid.uuid4().hex[:8]}" for _ in projects]
    before = build_cache_ids(client)
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda job: floor(cli, *job), zip(projects, images, strict=True)))
    seconds = time.perf_counter() - began
    subprocess.run(["docker", "rmi", *images], capture_output=True)
    remove_new_build_cache(client, before)
    return seconds


def grader_check(project: Path) -> tuple[float, dict]:
    began = time.perf_counter()
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
        ],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - began
    if result.returncode != 0:
        raise SystemExit(f"grader check failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return seconds, json.loads(result.stdout)


def grader_batch(submissions: Path, workers: int) -> float:
    began = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "batch",
            str(submissions),
            "--exercise",
            "model-api",
            "--workers",
            str(workers),
            "--no-progress",
            "--force",
        ],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - began
    if result.returncode != 0:
        raise SystemExit(f"grader batch failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return seconds


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds of each (median)")
    parser.add_argument("--students", type=int, default=30, help="batch size (0: no batch)")
    parser.add_argument("--workers", type=int, default=2, help="grader batch workers")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="benchmark-floor-") as tmp:
        parent = Path(tmp)
        image = f"benchmark-floor-{uuid.uuid4().hex[:8]}"
        for_grader = reference_copy(parent, "for-grader")
        for_docker = reference_copy(parent, "for-docker")
        client = docker.from_env()
        try:
            _, report = grader_check(for_grader)  # warms the layers; says the builder
            cli = Cli(report.get("builder") or "buildkit")
            untimed_floor(cli, for_docker, image, client)
            grades, floors = [], []
            for _round in range(args.rounds):
                floors.append(untimed_floor(cli, for_docker, image, client))
                grades.append(grader_check(for_grader)[0])
            floor_s, grade_s = statistics.median(floors), statistics.median(grades)
            print(
                f"Engine: {report.get('engine')}; builder: {cli.builder}; warm, median of {args.rounds}"
            )
            print(f"{'':<34}{'seconds':>9}{'ratio':>8}")
            print(f"{'bare docker CLI floor':<34}{floor_s:>9.1f}{1:>8.2f}")
            print(f"{'grader check':<34}{grade_s:>9.1f}{grade_s / floor_s:>8.2f}")
            if args.students:
                submissions = parent / "class"
                for number in range(args.students):
                    reference_copy(submissions, f"student-{number:02d}", f"student {number}")
                cli_copies = parent / "class-for-docker"
                projects = [
                    reference_copy(cli_copies, f"student-{n:02d}", f"student {n} (CLI)")
                    for n in range(args.students)
                ]
                side_by_side_s = floors_side_by_side(cli, projects, args.workers, client)
                batch_s = grader_batch(submissions, args.workers)
                bound = args.students * floor_s / args.workers
                label = f"grader batch, {args.students} × {args.workers} workers"
                print(
                    f"{f'{args.students} × floor ÷ {args.workers} workers':<34}{bound:>9.1f}{1:>8.2f}"
                )
                cli_label = f"bare CLI, {args.students} floors {args.workers} at a time"
                print(f"{cli_label:<34}{side_by_side_s:>9.1f}{side_by_side_s / bound:>8.2f}")
                print(f"{label:<34}{batch_s:>9.1f}{batch_s / bound:>8.2f}")
                print(
                    f"{'grader batch ÷ bare CLI side by side':<34}{'':>9}"
                    f"{batch_s / side_by_side_s:>8.2f}"
                )
        finally:
            subprocess.run(["docker", "rmi", image], capture_output=True)
            subprocess.run(
                ["docker", "image", "prune", "-f", "--filter", f"label={LABEL}"],
                capture_output=True,
            )


if __name__ == "__main__":
    main(sys.argv[1:])
