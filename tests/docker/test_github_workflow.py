"""The learners' GitHub Actions workflow: valid, and its grading steps, run here with the
same commands and GitHub's environment files, give the summary and annotations a learner
should see for a passing and a failing submission."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
import yaml

from tests.workflows import schema_errors

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_PATH = ROOT / ".github" / "workflows" / "grade.yml"
WORKFLOW_TEXT = WORKFLOW_PATH.read_text()
WORKFLOW = yaml.safe_load(WORKFLOW_TEXT)
STEPS = {step.get("id"): step for step in WORKFLOW["jobs"]["grade"]["steps"]}


def test_workflow_is_valid_pinned_and_least_privileged() -> None:
    """Does the workflow validate against GitHub's schema, pin its actions, and only read?"""
    assert schema_errors(WORKFLOW_PATH) == ""
    assert WORKFLOW["permissions"] == {"contents": "read"}
    steps = WORKFLOW["jobs"]["grade"]["steps"]
    uses = [s["uses"] for s in steps if "uses" in s]
    assert uses
    # Every action by its full commit, the release it is named after beside it.
    pinned = re.findall(r"uses: ([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # v\d+\.\d+\.\d+\n", WORKFLOW_TEXT)
    assert [f"{name}@{sha}" for name, sha in pinned] == uses
    checkouts = [s for s in steps if s.get("uses", "").startswith("actions/checkout@")]
    assert len(checkouts) == 2
    assert all(s["with"]["persist-credentials"] is False for s in checkouts)
    course = next(s for s in checkouts if s["with"].get("path") == ".course")
    assert course["with"]["token"] == "${{ secrets.COURSE_TOKEN || github.token }}"


def test_the_course_repository_is_required_and_never_the_learners() -> None:
    """Does the job refuse to grade without COURSE_REPOSITORY, saying how to set it, and
    never fall back to the learner's own repository?"""
    job = WORKFLOW["jobs"]["grade"]
    assert job["env"]["COURSE_REPOSITORY"] == "${{ vars.COURSE_REPOSITORY }}"
    assert job["steps"][0]["id"] == "course"  # before anything is checked out or installed
    script = STEPS["course"]["run"]
    unset = subprocess.run(
        ["bash", "-e", "-c", script], env={"COURSE_REPOSITORY": ""}, capture_output=True, text=True
    )
    assert unset.returncode == 1
    assert "::error title=COURSE_REPOSITORY is not set::" in unset.stdout
    assert "COURSE_TOKEN" in unset.stdout
    given = subprocess.run(
        ["bash", "-e", "-c", script],
        env={"COURSE_REPOSITORY": "teacher/course", "COURSE_REF": "main"},
        capture_output=True,
        text=True,
    )
    assert given.returncode == 0
    assert "teacher/course@main" in given.stdout


def test_a_commit_is_graded_once() -> None:
    """Is a pull request from a branch of the same repository left to its push's run, and
    does the job install only what grading needs, with pip's cache?"""
    condition = WORKFLOW["jobs"]["grade"]["if"]
    assert "github.event.pull_request.head.repo.full_name != github.repository" in condition
    assert "github.event_name != 'pull_request'" in condition
    install = next(
        s for s in WORKFLOW["jobs"]["grade"]["steps"] if "make engine" in s.get("run", "")
    )
    assert install["run"].strip() == "make engine EXTRAS=app,lessons"
    python = next(
        s for s in WORKFLOW["jobs"]["grade"]["steps"] if "setup-python" in s.get("uses", "")
    )
    assert python["with"]["cache"] == "pip"


def learner_repository(tmp_path: Path, *submissions: Path) -> Path:
    """A learner's repository as Actions checks it out, with the course beside it: every
    exercise's starter, with the given submissions (folders named EXERCISE--…, or
    solutions/EXERCISE) laid over theirs."""
    workspace = tmp_path / "workspace"
    for starter in (p for p in (ROOT / "exercises").iterdir() if p.is_dir()):
        shutil.copytree(starter, workspace / "exercises" / starter.name)
    for submission in submissions:
        exercise = submission.name.split("--")[0]
        shutil.copytree(
            submission,
            workspace / "exercises" / exercise,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("expected.toml"),
        )
    (workspace / ".course").symlink_to(ROOT)  # what the course checkout step provides
    return workspace


def run_step(step_id: str, workspace: Path) -> tuple[subprocess.CompletedProcess[str], str, str]:
    summary, outputs = workspace / "summary.md", workspace / "outputs.txt"
    env = {
        **os.environ,
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_ACTOR": "octo-learner",
        "CI": "true",
    }
    result = subprocess.run(
        ["bash", "-e", "-c", STEPS[step_id]["run"]],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
    )
    return (
        result,
        summary.read_text() if summary.exists() else "",
        outputs.read_text() if outputs.exists() else "",
    )


@pytest.mark.slow
def test_passing_submission_gets_a_green_summary_and_lesson_feedback(tmp_path: Path) -> None:
    """Does the reference solution pass the step, with a full-marks summary and reports?"""
    workspace = learner_repository(
        tmp_path, ROOT / "solutions" / "model-api", ROOT / "solutions" / "batch-scoring"
    )
    result, summary, outputs = run_step("exercise", workspace)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "## Dockerize the iris model API: 100 / 100 points (passed)" in summary
    assert "## Containerize the nightly iris scoring job: 100 / 100 points (passed)" in summary
    assert "passed=false" not in outputs
    assert "passed=true" in outputs
    assert "::error" not in result.stdout
    for exercise in ("model-api", "batch-scoring"):
        for name in ("grade.json", "grade.xml", "grade.md", "grade.txt"):
            assert (workspace / "reports" / exercise / name).is_file()

    shutil.copytree(ROOT / "lessons" / "01-containers", workspace / "lessons" / "01-containers")
    result, summary, _ = run_step("lessons", workspace)
    assert result.returncode == 0, result.stderr[-2000:]
    notebook = nbformat.read(next((ROOT / "solutions" / "01-containers").glob("*.ipynb")), 4)
    points = sum(c.metadata.get("nbgrader", {}).get("points", 0) for c in notebook.cells)
    assert points > 0
    assert f"| 01-containers | 0/{points:g} |" in summary
    feedback = workspace / "reports" / "lessons" / "feedback" / "01-containers" / "containers.html"
    assert feedback.is_file()


@pytest.mark.slow
def test_failing_submission_fails_the_job_with_annotations_on_its_lines(tmp_path: Path) -> None:
    """Does a required check's failure fail the step and annotate the learner's line?"""
    submission = ROOT / "tests" / "submissions" / "model-api--fail--copy-before-install"
    workspace = learner_repository(tmp_path, submission)
    result, summary, outputs = run_step("exercise", workspace)
    assert result.returncode == 1, result.stderr[-2000:]
    # batch-scoring is not started (no Dockerfile): said, not graded.
    assert "::notice title=batch-scoring not graded::" in result.stdout
    assert not (workspace / "reports" / "batch-scoring").exists()
    assert "passed=false" in outputs
    assert "### What to change" in summary
    assert "(needs work)" in summary
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert (
        "::error file=exercises/model-api/Dockerfile,line=3,"
        "title=Editing the app code reuses the cached dependency layer::"
    ) in "\n".join(annotations)
    assert any(
        a.startswith("::warning file=exercises/model-api/Dockerfile,line=3,") for a in annotations
    )
