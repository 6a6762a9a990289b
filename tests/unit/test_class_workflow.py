"""The instructors' grade-class workflow: valid, pinned, read-only; its input checks run
with bash; and its own commands, taken from the YAML with the ``${{ }}`` expressions put in
as a runner would, grade a class in shards and merge it here, with no engine.

Without an engine the reference solution's grade is a fault (as on a runner whose engine
failed) and a Dockerfile that does not parse is graded in full: the class below has both,
so the run shows the merge of graded students and of students to grade again. Each shard
runs in a workspace of its own, as on its own runner; between the jobs, the artifacts are
laid out as upload-artifact and download-artifact (a pattern, merge-multiple false) do:
one folder per artifact, named after it, holding what the upload's path held.
"""

from __future__ import annotations

import csv
import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.workflows import schema_errors

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_PATH = ROOT / ".github" / "workflows" / "grade-class.yml"
WORKFLOW_TEXT = WORKFLOW_PATH.read_text()
WORKFLOW = yaml.safe_load(WORKFLOW_TEXT)
JOBS = WORKFLOW["jobs"]
LEARNERS_WORKFLOW = (ROOT / ".github" / "workflows" / "grade.yml").read_text()
NOWHERE = "unix:///tmp/docker-ml-course-no-engine-here.sock"
PIN = re.compile(r"uses: ([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)\n")


def step(job: str, step_id: str) -> dict[str, Any]:
    return next(s for s in JOBS[job]["steps"] if s.get("id") == step_id)


def all_steps() -> list[dict[str, Any]]:
    return [s for job in JOBS.values() for s in job["steps"]]


def test_workflow_is_valid_pinned_and_least_privileged() -> None:
    """Does the workflow validate against GitHub's schema, pin each action by commit with
    its release beside it (the same pins as the learners' workflow), keep no credentials in
    its checkouts, and only read?"""
    assert schema_errors(WORKFLOW_PATH) == ""
    assert WORKFLOW["permissions"] == {"contents": "read"}
    assert all("permissions" not in job for job in JOBS.values())
    uses = [s["uses"] for s in all_steps() if "uses" in s]
    pinned = PIN.findall(WORKFLOW_TEXT)
    assert [f"{name}@{sha}" for name, sha, _ in pinned] == uses
    learners = {name: (sha, v) for name, sha, v in PIN.findall(LEARNERS_WORKFLOW)}
    for name, sha, version in pinned:
        if name in learners:
            assert (sha, version) == learners[name], name
    assert ("actions/download-artifact", "fa0a91b85d4f404e444e00e005971372dc801d16", "v4.1.8") in (
        pinned
    )
    checkouts = [s for s in all_steps() if s.get("uses", "").startswith("actions/checkout@")]
    assert len(checkouts) == 5  # the course in each job, the submissions in plan and shards
    assert all(s["with"]["persist-credentials"] is False for s in checkouts)
    for job in ("plan", "shard"):
        submissions = step(job, "submissions")["with"]
        assert submissions["path"] == ".submissions"
        assert submissions["token"] == "${{ secrets.SUBMISSIONS_TOKEN || github.token }}"


def test_it_runs_by_hand_with_documented_inputs() -> None:
    """Is it only run by hand, is each input explained, and do the inputs reach the scripts
    as environment variables, never pasted into them (where an input could be a command)?"""
    assert list(WORKFLOW[True]) == ["workflow_dispatch"]  # YAML 1.1 reads `on:` as True
    inputs = WORKFLOW[True]["workflow_dispatch"]["inputs"]
    assert list(inputs) == [
        "exercise",
        "shards",
        "submissions-repository",
        "submissions-ref",
        "submissions-path",
    ]
    assert all(i["description"] for i in inputs.values())
    assert inputs["shards"]["default"] == 4
    assert inputs["exercise"]["default"] == "model-api"
    assert inputs["submissions-path"]["default"] == "submitted"
    plan = JOBS["plan"]["env"]
    assert plan["SUBMISSIONS_REPOSITORY"] == (
        "${{ inputs.submissions-repository || vars.SUBMISSIONS_REPOSITORY }}"
    )
    for s in all_steps():
        assert "inputs." not in s.get("run", ""), s.get("name")


def test_shards_run_apart_and_the_merge_runs_after_a_failed_one() -> None:
    """Does each shard run on its own GitHub-hosted runner, with no shard cancelling the
    others, install only the grader (with the engine check), upload its folder even after
    a fault, and does the merge run then too, needing no engine?"""
    shard = JOBS["shard"]
    assert shard["needs"] == "plan"
    assert shard["runs-on"] == "ubuntu-latest"
    assert shard["strategy"]["fail-fast"] is False
    assert shard["strategy"]["matrix"] == {"shard": "${{ fromJSON(needs.plan.outputs.matrix) }}"}
    assert step("shard", "submissions")["with"]["ref"] == "${{ needs.plan.outputs.commit }}"
    assert step("shard", "install")["run"].strip() == "make engine EXTRAS="
    assert step("merge", "install")["run"].strip() == "make install EXTRAS="
    pythons = [s for s in all_steps() if "setup-python" in s.get("uses", "")]
    assert len(pythons) == 2
    assert all(s["with"]["cache"] == "pip" for s in pythons)
    for job in ("shard", "merge"):
        upload = step(job, "upload")
        assert upload["if"] == "${{ !cancelled() }}"
        assert upload["with"]["overwrite"] is True  # "Re-run failed jobs" uploads again
    merge = JOBS["merge"]
    assert merge["needs"] == ["plan", "shard"]
    assert merge["if"] == "${{ !cancelled() && needs.plan.result == 'success' }}"
    assert step("merge", "summary")["if"] == "${{ !cancelled() }}"
    download = step("merge", "download")["with"]
    assert download["merge-multiple"] is False


def test_the_jobs_install_the_grader_alone() -> None:
    """Do the install steps, as `make -n` reads them, install the course with no extras
    (none of the app's, the lessons' or the test suite's packages), from the lock, and
    does the shards' then check the engine?"""
    for job, last in (("shard", "grader engine up"), ("merge", "touch .venv/.installed")):
        make, *args = shlex.split(step(job, "install")["run"])
        assert make == "make"
        printed = subprocess.run(
            ["make", "-n", "-B", "--no-print-directory", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        installs = [line for line in printed if "--constraint requirements.lock" in line]
        assert installs == [
            '.venv/bin/python -m pip install --quiet --constraint requirements.lock -e "."'
        ]
        assert printed[-1].endswith(last), printed


# --- The input checks, run with bash ---------------------------------------------------


def run_script(
    script: str, cwd: Path, scratch: Path, **env: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """Run a step's script as the runner does (bash -e), with GitHub's output file (in
    ``scratch``); the outputs it wrote, by name."""
    outputs = scratch / "github-output.txt"
    outputs.unlink(missing_ok=True)
    result = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=cwd,
        env={"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(outputs), **env},
        capture_output=True,
        text=True,
    )
    written = outputs.read_text() if outputs.exists() else ""
    return result, dict(line.split("=", 1) for line in written.splitlines())


GOOD_INPUTS = {
    "EXERCISE": "model-api",
    "SHARDS": "4",
    "SUBMISSIONS_REPOSITORY": "teacher/docker-ml-class-2025",
    "SUBMISSIONS_PATH": "submitted",
}


@pytest.mark.parametrize(
    ("shards", "count"), [("4", 4), ("1", 1), ("08", 8), ("12", 12), ("256", 256)]
)
def test_the_plan_makes_one_matrix_entry_per_shard(tmp_path: Path, shards: str, count: int) -> None:
    result, outputs = run_script(
        step("plan", "inputs")["run"], ROOT, tmp_path, **{**GOOD_INPUTS, "SHARDS": shards}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "::error" not in result.stdout
    assert json.loads(outputs["matrix"]) == list(range(1, count + 1))
    assert outputs["shards"] == str(count)
    assert f"Grading model-api in {count} shards from teacher/docker-ml-class-2025" in (
        result.stdout
    )


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("SHARDS", "", "::error title=shards is not a whole number::The input shards is ''"),
        ("SHARDS", "four", "::error title=shards is not a whole number::The input shards is"),
        ("SHARDS", "2.5", "::error title=shards is not a whole number::"),
        ("SHARDS", "-2", "::error title=shards is not a whole number::"),
        ("SHARDS", "0", "::error title=shards is out of range::The input shards is 0: give"),
        ("SHARDS", "000", "::error title=shards is out of range::"),
        ("SHARDS", "257", "::error title=shards is out of range::"),
        ("SHARDS", "99999999999999999999", "::error title=shards is out of range::"),
        ("EXERCISE", "nope", "::error title=No exercise named 'nope'::"),
        ("EXERCISE", "../grader", "::error title=No exercise named '../grader'::"),
        ("EXERCISE", "", "::error title=No exercise named ''::"),
        ("SUBMISSIONS_REPOSITORY", "", "::error title=No submissions repository::"),
        ("SUBMISSIONS_REPOSITORY", "just-a-name", "is not a repository's owner/name"),
        ("SUBMISSIONS_REPOSITORY", "a/b/c", "is not a repository's owner/name"),
        ("SUBMISSIONS_PATH", "../elsewhere", "::error title=submissions-path is outside"),
        ("SUBMISSIONS_PATH", "submitted/../..", "::error title=submissions-path is outside"),
        ("SUBMISSIONS_PATH", "/etc", "::error title=submissions-path is outside"),
        ("SUBMISSIONS_PATH", "", "::error title=submissions-path is outside"),
    ],
)
def test_bad_inputs_stop_the_plan_saying_what_to_give(
    tmp_path: Path, name: str, value: str, said: str
) -> None:
    result, outputs = run_script(
        step("plan", "inputs")["run"], ROOT, tmp_path, **{**GOOD_INPUTS, name: value}
    )
    assert result.returncode == 1
    assert said in result.stdout
    assert "matrix" not in outputs  # no shard runs


def test_a_missing_exercise_names_those_the_course_has(tmp_path: Path) -> None:
    result, _ = run_script(
        step("plan", "inputs")["run"], ROOT, tmp_path, **{**GOOD_INPUTS, "EXERCISE": "nope"}
    )
    assert "it has: batch-scoring model-api." in result.stdout


def test_a_missing_repository_says_how_to_set_it(tmp_path: Path) -> None:
    result, _ = run_script(
        step("plan", "inputs")["run"],
        ROOT,
        tmp_path,
        **{**GOOD_INPUTS, "SUBMISSIONS_REPOSITORY": ""},
    )
    for said in ("submissions-repository", "SUBMISSIONS_REPOSITORY", "SUBMISSIONS_TOKEN"):
        assert said in result.stdout


def submissions_repository(where: Path, students: dict[str, Path]) -> Path:
    """A submissions repository as the plan's checkout leaves it, at .submissions: each
    student's work in submitted/STUDENT/model-api/ (the starter, their files over it)."""
    repository = where / ".submissions"
    for student, work in students.items():
        folder = repository / "submitted" / student / "model-api"
        shutil.copytree(ROOT / "exercises" / "model-api", folder)
        shutil.copytree(
            work, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns("expected.toml")
        )
    git = ["git", "-C", str(repository), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "The class's submissions"], check=True)
    return repository


def pinning(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    inputs = {**GOOD_INPUTS, "SHARD_COUNT": "2", **env}
    return run_script(step("plan", "class")["run"], tmp_path, tmp_path, **inputs)


def test_the_plan_pins_the_class_to_one_commit(tmp_path: Path) -> None:
    """Do the shards get the submissions' commit to check out, and the log the class size?"""
    solution = ROOT / "solutions" / "model-api"
    repository = submissions_repository(tmp_path, dict.fromkeys(("ann", "bob", "cat"), solution))
    commit = subprocess.run(
        ["git", "-C", str(repository), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    result, outputs = pinning(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert outputs == {"commit": commit}
    assert f"3 students in teacher/docker-ml-class-2025@{commit} (submitted)" in result.stdout
    assert "::warning" not in result.stdout
    more, _ = pinning(tmp_path, SHARD_COUNT="5")
    assert more.returncode == 0
    assert "::warning title=More shards than students::5 shards for 3 students" in more.stdout


def test_the_plan_stops_without_a_class_to_grade(tmp_path: Path) -> None:
    submissions_repository(tmp_path, {"ann": ROOT / "solutions" / "model-api"})
    missing, outputs = pinning(tmp_path, SUBMISSIONS_PATH="handed-in")
    assert missing.returncode == 1
    assert "::error title=No folder handed-in in teacher/docker-ml-class-2025::" in missing.stdout
    assert "commit" not in outputs
    (tmp_path / ".submissions" / "empty" / ".hidden").mkdir(parents=True)
    empty, _ = pinning(tmp_path, SUBMISSIONS_PATH="empty")
    assert empty.returncode == 1
    assert "::error title=No students in empty::" in empty.stdout


# --- The workflow's own commands, run on a class ---------------------------------------


def expand(text: str, values: dict[str, str]) -> str:
    """``${{ expression }}`` replaced as the runner would, from ``values``; an expression
    the test does not know fails it, so every one in the commands is accounted for."""

    def value(match: re.Match[str]) -> str:
        expression = match.group(1).strip()
        assert expression in values, f"no value for ${{{{ {expression} }}}}"
        return values[expression]

    return re.sub(r"\$\{\{(.*?)\}\}", value, text)


# Three shards: Zoe and cat, ann and eve (who need an engine), and bob.
SHARDS = 3
CLASS = {
    "ann": ROOT / "solutions" / "model-api",
    "bob": ROOT / "tests" / "submissions" / "model-api--fail--no-from",
    "cat": ROOT / "tests" / "submissions" / "model-api--fail--syntax-error",
    "eve": ROOT / "solutions" / "model-api",
    "Zoe": ROOT / "tests" / "submissions" / "model-api--fail--binary-dockerfile",
}
NEEDS_AN_ENGINE = {"ann", "eve"}  # a fault here; graded on a runner, which has one


def runner(where: Path) -> Path:
    """A runner's workspace after the course's checkout and `make install`: the course
    (its exercises) at the top, the virtualenv in .venv."""
    where.mkdir(parents=True)
    (where / "exercises").symlink_to(ROOT / "exercises")
    venv = Path(sys.prefix)
    assert (venv / "bin" / "grader").is_file(), f"no grader in {venv}: run the tests in .venv"
    (where / ".venv").symlink_to(venv)
    return where


def job_environment(job: str, values: dict[str, str]) -> dict[str, str]:
    return {k: expand(str(v), values) for k, v in JOBS[job].get("env", {}).items()}


@dataclass
class Run:
    """What the run left: each runner's workspace and what its steps said."""

    shard_runs: dict[int, tuple[subprocess.CompletedProcess[str], str, str]]
    """Each shard's grading step: its result, its job summary and its outputs."""
    artifacts: dict[str, Path]
    """Each uploaded artifact's name -> the folder its path names on its runner."""
    unsharded: Path
    """One `grader batch` of the whole class, to compare with."""
    inputs: dict[str, str]


def run_step(
    job: str, step_id: str, workspace: Path, values: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], str, str]:
    summary, outputs = workspace / "step-summary.md", workspace / "github-output.txt"
    summary.unlink(missing_ok=True)
    outputs.unlink(missing_ok=True)
    script = expand(step(job, step_id)["run"], values)
    result = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=workspace,
        env={
            **os.environ,
            **job_environment(job, values),
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_OUTPUT": str(outputs),
            "DOCKER_HOST": NOWHERE,
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
    return (
        result,
        summary.read_text() if summary.exists() else "",
        outputs.read_text() if outputs.exists() else "",
    )


def out_folder(script: str) -> str:
    """The folder a command's ``--out`` names."""
    words = shlex.split(script.replace("\\\n", " "))
    return words[words.index("--out") + 1]


@pytest.fixture(scope="module")
def class_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The class graded by the shard job's steps, one runner per shard, side by side."""
    tmp = tmp_path_factory.mktemp("grade-class")
    submissions = submissions_repository(tmp, CLASS)
    inputs = {"inputs.exercise": "model-api", "inputs.submissions-path": "submitted"}
    upload = step("shard", "upload")["with"]

    def values(shard: int) -> dict[str, str]:
        return {**inputs, "matrix.shard": str(shard), "needs.plan.outputs.shards": str(SHARDS)}

    def grade(shard: int) -> tuple[subprocess.CompletedProcess[str], str, str]:
        workspace = runner(tmp / f"runner-{shard}")
        (workspace / ".submissions").symlink_to(submissions)
        return run_step("shard", "grade", workspace, values(shard))

    shards = range(1, SHARDS + 1)
    with ThreadPoolExecutor(max_workers=SHARDS) as pool:
        shard_runs = dict(zip(shards, pool.map(grade, shards), strict=True))
    artifacts = {
        expand(upload["name"], values(shard)): tmp / f"runner-{shard}"
        / expand(upload["path"], values(shard))
        for shard in shards
    }  # fmt: skip
    # The same class in one batch: the workflow's command without --shard.
    workspace = runner(tmp / "one-machine")
    (workspace / ".submissions").symlink_to(submissions)
    whole = subprocess.run(
        [
            ".venv/bin/grader",
            "batch",
            ".submissions/submitted",
            "--exercise",
            "model-api",
            "--course",
            ".",
            "--out",
            "unsharded",
            "--no-progress",
        ],
        cwd=workspace,
        env={**os.environ, "DOCKER_HOST": NOWHERE},
        capture_output=True,
        text=True,
        check=False,
    )
    assert "could not grade 2 (ann, eve)" in whole.stdout, whole.stdout + whole.stderr
    return Run(shard_runs, artifacts, workspace / "unsharded", inputs)


def download(run: Run, workspace: Path, leave_out: tuple[str, ...] = ()) -> Path:
    """download-artifact with the merge's pattern and merge-multiple false: each matching
    artifact in a folder of its own, named after it, under the download's path."""
    settings = step("merge", "download")["with"]
    assert settings["merge-multiple"] is False
    into = workspace / settings["path"]
    into.mkdir()
    for name, folder in run.artifacts.items():
        if fnmatch.fnmatchcase(name, settings["pattern"]) and name not in leave_out:
            shutil.copytree(folder, into / name)
    return into


@pytest.mark.slow
def test_the_shards_grade_the_class_between_them(class_run: Run) -> None:
    """Does each shard's step grade its share of the class into the folder its upload
    names, with the manifest the merge needs, exiting 2 when someone met a fault?"""
    graded: list[str] = []
    for shard, (result, _, _) in class_run.shard_runs.items():
        folder = class_run.artifacts[f"shard-{shard}"]
        command = expand(step("shard", "grade")["run"], {"matrix.shard": str(shard)})
        assert folder.name == out_folder(command) == f"shard-{shard}"
        manifest = json.loads((folder / "shard.json").read_text())
        assert (manifest["shard"], manifest["shards"]) == (shard, SHARDS)
        assert manifest["class_size"] == len(CLASS)
        graded += manifest["students"]
        faulted = NEEDS_AN_ENGINE & set(manifest["students"])
        assert result.returncode == (2 if faulted else 0), result.stderr
        assert (
            f"Shard {shard}/{SHARDS}: {len(manifest['students'])} of the class's {len(CLASS)}"
            in (result.stdout)
        )
        for student in manifest["students"]:
            assert (folder / f"{student}.json").is_file()
    assert sorted(graded) == sorted(CLASS)


@pytest.mark.slow
def test_a_shard_publishes_nothing_per_student(class_run: Run) -> None:
    """Is each student's report kept out of the shard job's summary and outputs (a class's
    worth would pass GitHub's 1 MiB a step), the class being summarised by the merge?"""
    for result, summary, outputs in class_run.shard_runs.values():
        assert summary == ""
        assert outputs == ""
        assert "::error" not in result.stdout


@pytest.mark.slow
def test_the_merge_step_makes_the_whole_classs_gradebook(class_run: Run, tmp_path: Path) -> None:
    """On the shards' artifacts laid out as download-artifact lays them out, do the merge
    step's command and the summary step give the whole class's grades (those of one batch
    of the class), a job summary of it, and the gradebook where its upload looks?"""
    workspace = runner(tmp_path / "merge-runner")
    download(class_run, workspace)
    values = class_run.inputs
    result, _, _ = run_step("merge", "merge", workspace, values)
    # Merged, and exit 2 because ann and eve could not be graded here: grade them again.
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"Merged {SHARDS} shards of model-api: 5 students, 2 of whom" in result.stdout
    gradebook = workspace / out_folder(expand(step("merge", "merge")["run"], values))
    upload = step("merge", "upload")["with"]
    assert Path(expand(upload["path"], values)) == gradebook.relative_to(workspace)
    assert expand(upload["name"], values) == "gradebook-model-api"
    with (gradebook / "grades.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["student_id"] for row in rows] == sorted(CLASS)
    for name in ("grades.csv", "canvas.csv", "moodle.csv", "overview.html"):
        assert (gradebook / name).read_bytes() == (class_run.unsharded / name).read_bytes(), name
    by_student = {row["student_id"]: row for row in rows}
    assert by_student["bob"]["dockerfile_valid"] == "0.0"
    _, summary, _ = run_step("merge", "summary", workspace, values)
    assert summary.startswith("## Dockerize the iris model API: 5 students graded in 3 shards")
    assert "2 could not be graded" in summary
    assert "| Zoe |" in summary


@pytest.mark.slow
def test_the_merge_says_which_shard_is_missing(class_run: Run, tmp_path: Path) -> None:
    """When a shard's job uploaded nothing, does the merge step fail naming that shard and
    how to grade it, writing no gradebook, and the summary step stay quiet?"""
    workspace = runner(tmp_path / "merge-runner")
    download(class_run, workspace, leave_out=("shard-2",))
    result, _, _ = run_step("merge", "merge", workspace, class_run.inputs)
    assert result.returncode == 2
    assert f"grader: Shard 2/{SHARDS} of model-api is missing" in result.stderr
    assert f"Hint: Grade it with `grader batch SUBMISSIONS --shard 2/{SHARDS}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (workspace / "gradebook").exists()
    _, summary, _ = run_step("merge", "summary", workspace, class_run.inputs)
    assert summary == ""


@pytest.mark.slow
def test_the_merge_says_when_no_shard_uploaded_anything(class_run: Run, tmp_path: Path) -> None:
    workspace = runner(tmp_path / "merge-runner")
    download(class_run, workspace, leave_out=tuple(class_run.artifacts))
    result, _, _ = run_step("merge", "merge", workspace, class_run.inputs)
    assert result.returncode == 1
    assert "::error title=No shard to merge::No shard job uploaded its folder" in result.stdout


def test_the_download_takes_the_shards_and_nothing_else() -> None:
    """Does the pattern match every shard's artifact and not the gradebook, which a re-run
    of the merge finds in the run beside them? Are the uploads outside hidden folders
    (upload-artifact leaves hidden files out)?"""
    pattern = step("merge", "download")["with"]["pattern"]
    upload = step("shard", "upload")["with"]
    for shard in (1, 2, 10, 256):
        values = {"matrix.shard": str(shard)}
        assert fnmatch.fnmatchcase(expand(upload["name"], values), pattern)
        assert not any(part.startswith(".") for part in Path(expand(upload["path"], values)).parts)
    gradebook = step("merge", "upload")["with"]
    assert not fnmatch.fnmatchcase(expand(gradebook["name"], {"inputs.exercise": "x"}), pattern)
    assert not Path(gradebook["path"]).parts[0].startswith(".")
