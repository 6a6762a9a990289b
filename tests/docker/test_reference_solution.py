"""The reference solution: built and run the way the exercise README says, then graded."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from grader.api import grade
from grader.build_stream import BuildLog
from grader.engine import LABEL_RUN, EngineSession, RunId
from grader.engine.builders import BuilderKind
from grader.results import CheckStatus
from grader.secret_scan import scan_for_canary
from grader.spec import load_spec
from grader.workspace import prepare_workspace
from tests.lanes import LANE_BUILDER

ROOT = Path(__file__).resolve().parents[2]
SPEC = load_spec(ROOT / "exercises" / "model-api.toml")
FLOWER = SPEC.probes[0].json_body


EXERCISES = sorted(p.stem for p in (ROOT / "exercises").glob("*.toml"))


@pytest.mark.lanes
@pytest.mark.parametrize("exercise", EXERCISES)
def test_reference_solution_scores_full_marks(lane: str, exercise: str) -> None:
    """Does `grader check solutions/EXERCISE` pass every check, on this engine lane?"""
    assert (ROOT / "solutions" / exercise / "Dockerfile").is_file()
    report = grade(ROOT / "solutions" / exercise, exercise)
    not_passed = {c.id: c.message for c in report.checks if c.status is not CheckStatus.PASSED}
    assert report.builder == LANE_BUILDER[lane]
    assert set(report.timings) >= {"static", "build", "run", "cache", "total"}
    assert not_passed == {}
    assert report.score == report.max_score == 100
    assert report.exit_code == 0


@pytest.mark.parametrize("builder", list(BuilderKind))
def test_reference_image_runs_as_non_root_without_env_file(
    docker_client, builder: BuilderKind
) -> None:
    """Is the image FROM python:3.11-slim, non-root, and free of the .env planted beside it?"""
    workspace = prepare_workspace(SPEC, ROOT / "solutions" / "model-api")
    try:
        with EngineSession.open() as session:
            tag = f"{session.name('reference')}:test"
            log = BuildLog(builder=builder.value)
            build = session.build(
                workspace.path, tag=tag, memory_bytes=2 * 1024**3, builder=builder
            )
            for chunk in build:
                log.feed(chunk)
            assert log.succeeded, log.error
            # Step 1, not the first announced: on a busy engine BuildKit can announce
            # WORKDIR before the FROM whose metadata it is still resolving.
            first = min(log.steps, key=lambda step: step.number)
            assert first.keyword == "FROM"
            # BuildKit names the image in full: docker.io/library/python:3.11-slim.
            assert first.instruction.endswith("python:3.11-slim")
            config = session.image_attrs(tag)["Config"]
            assert config["User"] == "appuser"
            assert "8000/tcp" in config["ExposedPorts"]
            assert "/data" in config["Volumes"]
            assert config["Healthcheck"]["Test"][0] == "CMD"
            # Not remove=True: that keeps the anonymous volume made for VOLUME /data.
            probe = session.client.containers.run(
                tag, ["id", "-u"], labels=session.labels, detach=True, network_mode="none"
            )
            probe.wait(timeout=60)
            assert probe.logs().decode().strip() == "10001"
            assert scan_for_canary(session, tag, workspace.canary).status is CheckStatus.PASSED
    finally:
        workspace.remove()


@pytest.fixture
def built_by_hand(tmp_path: Path, docker_client) -> Iterator[tuple[str, Path]]:
    """The starter with the solution laid over it, built with the CLI as the README says."""
    project = tmp_path / "model-api"
    shutil.copytree(ROOT / "exercises" / "model-api", project)
    shutil.copytree(ROOT / "solutions" / "model-api", project, dirs_exist_ok=True)
    (project / ".env").write_text("API_KEY=readme-key-123\n")
    run = RunId.new()
    image = f"model-api-readme-{run.token}"
    label = f"{LABEL_RUN}={run}"
    subprocess.run(
        ["docker", "build", "-q", "--label", label, "-t", image, "."],
        cwd=project,
        check=True,
        capture_output=True,
    )
    try:
        yield image, project
    finally:
        subprocess.run(["docker", "rm", "-f", f"{image}-1", f"{image}-2"], capture_output=True)
        subprocess.run(["docker", "volume", "rm", "-f", f"{image}-data"], capture_output=True)
        subprocess.run(["docker", "rmi", "--no-prune", image], capture_output=True)


def _run(image: str, name: str, project: Path) -> str:
    subprocess.run(
        [
            "docker",
            "run",
            "-d",
            "--name",
            name,
            "-p",
            "127.0.0.1::8000",
            "--env-file",
            ".env",
            "-v",
            f"{image}-data:/data",
            image,  # its containers inherit the image's run label
        ],
        cwd=project,
        check=True,
        capture_output=True,
    )
    port = (
        subprocess.run(
            ["docker", "port", name, "8000/tcp"], check=True, capture_output=True, text=True
        )
        .stdout.split(":")[-1]
        .strip()
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return url
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    pytest.fail(f"{name} never became ready")


def test_readme_commands_work(built_by_hand: tuple[str, Path]) -> None:
    """Do the README's docker build / docker run --env-file -v commands behave as it says?"""
    image, project = built_by_hand
    url = _run(image, f"{image}-1", project)
    assert httpx.post(f"{url}/predict", json=FLOWER).status_code == 401
    answer = httpx.post(f"{url}/predict", json=FLOWER, headers={"X-API-Key": "readme-key-123"})
    assert answer.status_code == 200
    assert answer.json()["species"] == "setosa"
    assert httpx.get(f"{url}/predictions/count").json() == {"count": 1}
    subprocess.run(["docker", "rm", "-f", f"{image}-1"], check=True, capture_output=True)
    url = _run(image, f"{image}-2", project)
    assert httpx.get(f"{url}/predictions/count").json() == {"count": 1}
    history = subprocess.run(
        ["docker", "history", "--no-trunc", image], capture_output=True, text=True, check=True
    ).stdout
    inspect = json.loads(
        subprocess.run(
            ["docker", "inspect", image], capture_output=True, text=True, check=True
        ).stdout
    )
    assert "readme-key-123" not in history + json.dumps(inspect)


def test_batch_scoring_readme_commands_work(tmp_path: Path, docker_client) -> None:
    """Do the batch-scoring README's build, locked-down run and read-back commands work?"""
    project = tmp_path / "batch-scoring"
    shutil.copytree(ROOT / "exercises" / "batch-scoring", project)
    shutil.copytree(ROOT / "solutions" / "batch-scoring", project, dirs_exist_ok=True)
    run = RunId.new()
    image, volume = f"batch-scoring-readme-{run.token}", f"batch-scoring-readme-{run.token}-out"
    label = f"{LABEL_RUN}={run}"

    def docker(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["docker", *args], cwd=project, capture_output=True, text=True)

    try:
        assert docker("build", "-q", "--label", label, "-t", image, ".").returncode == 0
        assert docker("volume", "create", "--label", label, volume).returncode == 0
        scored = docker(
            "run", "--rm", "--network", "none", "--read-only", "--tmpfs", "/tmp",
            "-v", f"{project / 'sample-input'}:/input:ro", "-v", f"{volume}:/output", image,
        )  # fmt: skip
        assert scored.returncode == 0, scored.stderr
        assert "scored 3 flowers" in scored.stdout
        shown = docker(
            "run", "--rm", "-v", f"{volume}:/output:ro", image, "cat", "/output/predictions.csv"
        )
        assert shown.stdout.splitlines()[1].startswith("flowers.csv,2,setosa,0.9811")
    finally:
        docker("volume", "rm", "-f", volume)
        docker("rmi", "--no-prune", image)
