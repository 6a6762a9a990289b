"""The batch-scoring exercise's job (score.py) as library code, and the job checks'
verdicts from scripted runs (no engine)."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from grader.checks import job as job_checks
from grader.checks.base import EngineContext
from grader.dockerfile import Dockerfile, read_dockerfile
from grader.engine.jobs import JobOutput, JobRestrictions, JobRun
from grader.results import CheckStatus
from grader.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
EXERCISE = ROOT / "exercises" / "batch-scoring"
SPEC = load_spec(ROOT / "exercises" / "batch-scoring.toml")
assert SPEC.job is not None
JOB = SPEC.job


@pytest.fixture(scope="module")
def score() -> ModuleType:
    spec = importlib.util.spec_from_file_location("score", EXERCISE / "score.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run_main(
    score: ModuleType, monkeypatch: pytest.MonkeyPatch, inputs: Path, outputs: Path
) -> int:
    monkeypatch.setenv("INPUT_DIR", str(inputs))
    monkeypatch.setenv("OUTPUT_DIR", str(outputs))
    return int(score.main())


def _write_inputs(folder: Path, files: list[Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for item in files:
        (folder / item.file).write_text(item.text)
    return folder


def test_the_spec_expects_what_the_committed_model_predicts(
    score: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Does score.py on the spec's inputs write exactly the spec's expected rows?"""
    inputs, outputs = _write_inputs(tmp_path / "in", JOB.inputs), tmp_path / "out"
    outputs.mkdir()
    assert _run_main(score, monkeypatch, inputs, outputs) == 0
    written = (outputs / JOB.output_file).read_bytes()
    assert job_checks._differences(JOB.expect_rows, job_checks._rows(written)) == []
    assert [p.name for p in outputs.iterdir()] == [JOB.output_file]  # no .partial left


def test_a_wrong_prediction_is_named_by_row_and_column() -> None:
    """Is an output that differs from the spec told row by row, with tolerance on numbers?"""
    header = "source_file,line,species,p_setosa,p_versicolor,p_virginica,model_version\n"
    close = header + "night-1.csv,2,setosa,0.98105,0.0189,0.0,iris-logreg-1.0.0\n"
    wrong = header + "night-1.csv,2,virginica,0.5,0.0189,0.0,iris-logreg-1.0.0\n"
    first = JOB.expect_rows[:1]
    assert job_checks._differences(first, job_checks._rows(close.encode())) == []
    assert job_checks._differences(first, job_checks._rows(wrong.encode())) == [
        "row 1: `species` is 'virginica', expected 'setosa'",
        "row 1: `p_setosa` is '0.5', expected 0.9811",
    ]


@pytest.mark.parametrize("case", JOB.malformed, ids=lambda c: c.name)
def test_a_malformed_input_fails_with_its_line_and_writes_nothing(
    case: Any,
    score: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Does a malformed CSV exit 2, name the file and line, and leave no output?"""
    inputs, outputs = _write_inputs(tmp_path / "in", [*JOB.inputs, *case.inputs]), tmp_path / "out"
    outputs.mkdir()
    assert _run_main(score, monkeypatch, inputs, outputs) == score.EXIT_BAD_INPUT
    said = capsys.readouterr().err
    assert f"{case.inputs[0].file} line 3" in said
    assert "nothing was written" in said
    assert list(outputs.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("sepal_length_cm,sepal_width_cm,petal_length_cm\n5.1,3.5,1.4\n", "lacks petal_width_cm"),
        (
            "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm\n-1,3.5,1.4,0.2\n",
            "must be a length >= 0",
        ),
        (
            "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm\nnan,3.5,1.4,0.2\n",
            "must be a length >= 0",
        ),
    ],
    ids=["missing-column", "negative", "nan"],
)
def test_other_bad_files_are_refused_in_words(
    text: str,
    words: str,
    score: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Are a missing column, a negative length and NaN each refused with what is wrong?"""
    inputs, outputs = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    outputs.mkdir()
    (inputs / "bad.csv").write_text(text)
    assert _run_main(score, monkeypatch, inputs, outputs) == score.EXIT_BAD_INPUT
    assert words in capsys.readouterr().err


def test_no_input_no_model_and_an_unwritable_output_each_have_their_exit_code(
    score: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Do an empty input folder, a missing model and an output that is not a folder exit
    1, 4 and 3?"""
    empty, outputs = tmp_path / "empty", tmp_path / "out"
    empty.mkdir()
    outputs.mkdir()
    assert _run_main(score, monkeypatch, empty, outputs) == score.EXIT_NO_INPUT
    inputs = _write_inputs(tmp_path / "in", JOB.inputs)
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    assert _run_main(score, monkeypatch, inputs, not_a_folder) == score.EXIT_CANNOT_WRITE
    monkeypatch.setattr(score, "MODEL", tmp_path / "no-model.joblib")
    monkeypatch.setattr(score.score, "__defaults__", (tmp_path / "no-model.joblib",))
    assert _run_main(score, monkeypatch, inputs, outputs) == score.EXIT_NO_MODEL


# --- the job checks, from scripted runs -------------------------------------------------

SOLUTION = read_dockerfile(
    ROOT / "solutions" / "batch-scoring" / "Dockerfile",
    base_image=SPEC.base_image,
    dependency_file=SPEC.dependency_file,
)
assert isinstance(SOLUTION, Dockerfile)
GOOD_OUTPUT = (
    "source_file,line,species,p_setosa,p_versicolor,p_virginica,model_version\n"
    + "".join(
        f"{r['source_file']},{r['line']},{r['species']},{r['p_setosa']},{r['p_versicolor']},"
        f"{r['p_virginica']},iris-logreg-1.0.0\n"
        for r in JOB.expect_rows
    )
).encode()


def _run(
    restrictions: JobRestrictions, exit_code: int | None, logs: str = "", uid: int = 10001
) -> JobRun:
    outputs = {JOB.output_file: JobOutput(GOOD_OUTPUT, uid)} if exit_code == 0 else {}
    return JobRun(restrictions, exit_code, logs, False, 1.0, outputs)


@dataclass
class _Session:
    """What the job checks ask of an engine session, and nothing more."""

    user: str = "scorer"
    removed: list[str] = field(default_factory=list)

    def image_attrs(self, reference: str) -> dict[str, Any]:
        return {"Config": {"User": self.user}}

    def remove_volume(self, name: str) -> None:
        self.removed.append(name)


def _context(session: _Session) -> EngineContext:
    context = EngineContext(SPEC, None, SOLUTION, session, None, None)  # type: ignore[arg-type]
    context.image = "graded:latest"
    return context


class _ScriptedJob:
    """``run_job`` answering by the run's restrictions: ``outcomes[(network, read_only)]``
    is (exit code, logs); malformed inputs always exit 2 with a message."""

    def __init__(self, outcomes: dict[tuple[bool, bool], tuple[int | None, str]]) -> None:
        self.outcomes = outcomes
        self.runs: list[tuple[str, JobRestrictions]] = []

    def __call__(self, _session: Any, _image: str, **options: Any) -> JobRun:
        restrictions, purpose = options["restrictions"], options["purpose"]
        self.runs.append((purpose, restrictions))
        if purpose.startswith("job-malformed"):
            return _run(restrictions, 2, "score.py: cannot score night-3.csv line 3")
        code, logs = self.outcomes[(restrictions.network, restrictions.read_only_root)]
        return _run(restrictions, code, logs)


def _verdicts(
    monkeypatch: pytest.MonkeyPatch, outcomes: dict[tuple[bool, bool], tuple[int | None, str]]
) -> tuple[dict[str, Any], _ScriptedJob, _Session]:
    scripted, session = _ScriptedJob(outcomes), _Session()
    monkeypatch.setattr(job_checks, "run_job", scripted)
    monkeypatch.setattr(job_checks, "fill_volume", lambda _s, purpose, _files: f"vol-{purpose}")
    context = _context(session)
    checks = (
        job_checks.job_completes,
        job_checks.job_output_correct,
        job_checks.job_runs_offline,
        job_checks.job_read_only_root,
        job_checks.job_rejects_malformed_input,
        job_checks.job_output_not_root,
    )
    return {c.id: c.run(context) for c in checks}, scripted, session


def test_a_job_that_passes_locked_down_runs_once_plus_the_malformed_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Does a job that succeeds under every restriction pass every check in two runs?"""
    verdicts, scripted, session = _verdicts(monkeypatch, {(False, True): (0, "scored 5")})
    assert {i: v.status for i, v in verdicts.items()} == dict.fromkeys(verdicts, CheckStatus.PASSED)
    assert [purpose for purpose, _ in scripted.runs] == ["job", "job-malformed-0"]
    assert sorted(session.removed) == ["vol-job-input", "vol-job-malformed-0"]


def test_a_job_that_needs_the_network_fails_only_the_offline_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Is a job that works with a network (and a read-only root) blamed on offline alone?"""
    no_network = (1, "ERROR: No matching distribution found for six")
    verdicts, scripted, _ = _verdicts(
        monkeypatch,
        {(False, True): no_network, (True, False): (0, ""), (False, False): no_network,
         (True, True): (0, "")},
    )  # fmt: skip
    failed = {i for i, v in verdicts.items() if v.status is CheckStatus.FAILED}
    assert failed == {"job_runs_offline"}
    assert "No matching distribution" in verdicts["job_runs_offline"].message
    assert verdicts["job_runs_offline"].line == SOLUTION.last("CMD").line  # type: ignore[union-attr]
    assert verdicts["job_completes"].status is CheckStatus.PASSED
    assert "without restrictions" in verdicts["job_completes"].message
    assert len(scripted.runs) == 5  # restricted, free, offline, read-only, malformed


def test_a_job_that_writes_into_the_image_fails_only_the_read_only_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With offline fine, is the read-only root blamed without running it once more?"""
    read_only = (2, "sh: 1: cannot create /job/log: Read-only file system")
    verdicts, scripted, _ = _verdicts(
        monkeypatch, {(False, True): read_only, (True, False): (0, ""), (False, False): (0, "")}
    )
    failed = {i for i, v in verdicts.items() if v.status is CheckStatus.FAILED}
    assert failed == {"job_read_only_root"}
    assert "Read-only file system" in verdicts["job_read_only_root"].message
    assert "/output and /tmp" in verdicts["job_read_only_root"].message
    assert len(scripted.runs) == 4  # restricted, free, offline, malformed


def test_a_job_that_fails_anyway_fails_once_and_skips_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Does a job that cannot write its output fail job_completes, naming the user and the
    fix, and skip the checks that need a finished job?"""
    denied = (3, "score.py: cannot write to /output: Permission denied")
    verdicts, scripted, _ = _verdicts(monkeypatch, {(False, True): denied, (True, False): denied})
    assert verdicts["job_completes"].status is CheckStatus.FAILED
    assert "`scorer` cannot write to /output" in verdicts["job_completes"].message
    assert "chown scorer /output" in verdicts["job_completes"].hint
    assert {i for i, v in verdicts.items() if v.status is CheckStatus.SKIPPED} == {
        "job_output_correct",
        "job_runs_offline",
        "job_read_only_root",
        "job_rejects_malformed_input",
        "job_output_not_root",
    }
    assert len(scripted.runs) == 2


def test_a_job_that_hangs_is_told_its_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Is a job stopped at its time limit told so, with what ends a batch job?"""
    verdicts, _, _ = _verdicts(monkeypatch, {(False, True): (None, ""), (True, False): (None, "")})
    assert verdicts["job_completes"].status is CheckStatus.FAILED
    assert f"within {JOB.timeout_s:.0f} s" in verdicts["job_completes"].message
    assert "must end on its own" in verdicts["job_completes"].hint


def test_a_job_spec_without_its_job_section_is_refused(tmp_path: Path) -> None:
    """Does a spec that lists job checks without [job] fail to load, naming the field?"""
    text = (ROOT / "exercises" / "batch-scoring.toml").read_text().split("\n[job]\n")[0]
    path = tmp_path / "batch-scoring.toml"
    path.write_text(text)
    (tmp_path / "batch-scoring").mkdir()
    from grader.errors import SpecError

    with pytest.raises(SpecError, match=r"job_completes.*\[job\]"):
        load_spec(path)


def test_the_module_is_importable_as_a_script() -> None:
    """Does `python score.py` with no input say what is wrong and exit 1 (no traceback)?"""
    import subprocess

    result = subprocess.run(
        [sys.executable, str(EXERCISE / "score.py")],
        env={"INPUT_DIR": "/nonexistent-input", "OUTPUT_DIR": "/nonexistent-output"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "no *.csv file in /nonexistent-input" in result.stderr
    assert "Traceback" not in result.stderr
