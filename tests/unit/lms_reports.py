"""Reports like those of the reference solution, a failing submission and an engine fault.

Built from data (no engine): the model-api exercise's checks with its points, messages as
the stages write them. The LMS renderers are tested against these in test_lms_reports.py.
"""

from __future__ import annotations

from dataclasses import replace

from grader.checks import CHECKS
from grader.results import BuildStepResult, CheckResult, CheckStatus, Finding, GradeReport

# (id, points, required), in the order of exercises/model-api.toml, then the exercise's
# own checks (exercises/model_api_checks.py).
MODEL_API_CHECKS: tuple[tuple[str, float, bool], ...] = (
    ("dockerfile_valid", 0, True),
    ("base_image_pinned", 1, False),
    ("deps_from_requirements", 6, False),
    ("requirements_before_app", 6, False),
    ("pip_no_cache_dir", 3, False),
    ("apt_best_practices", 2, False),
    ("exec_form_cmd", 3, False),
    ("binds_all_interfaces", 3, False),
    ("expose_matches_port", 2, False),
    ("no_secrets_in_dockerfile", 4, False),
    ("non_root_user", 3, False),
    ("healthcheck", 2, False),
    ("dockerignore", 4, False),
    ("hadolint_clean", 0, False),
    ("builds", 10, True),
    ("serves_predict", 12, True),
    ("rejects_invalid_input", 4, False),
    ("api_key_enforced", 5, False),
    ("data_survives_recreate", 6, False),
    ("cache_app_edit", 8, True),
    ("cache_requirements_edit", 5, False),
    ("secret_not_in_image", 5, False),
    ("image_size", 2, False),
    ("starter_unchanged", 0, False),
    ("health_reports_model", 2, False),
    ("process_not_root", 2, False),
)
EXTRA_TITLES = {
    "health_reports_model": "GET /health names the model version",
    "process_not_root": "The running app's process is not root",
}
ENGINE_CHECKS = {
    "builds",
    "serves_predict",
    "rejects_invalid_input",
    "api_key_enforced",
    "data_survives_recreate",
    "cache_app_edit",
    "cache_requirements_edit",
    "secret_not_in_image",
    "image_size",
    "health_reports_model",
    "process_not_root",
}
PASSED_MESSAGES = {
    "builds": "Built in 48.2 s (11 steps) with BuildKit.",
    "serves_predict": "POST /predict answered all 3 sample flowers correctly.",
    "cache_app_edit": "After an edit to app/main.py, the install on line 12 came from the cache.",
    "image_size": "The image is 412 MB (budget 1000 MB).",
}
ENGINE = "Docker Engine 20.10.24 (linux/amd64, API 1.41)"
SUBMISSION = "exercises/model-api"


# The reference solution's first build with BuildKit (solutions/model-api/Dockerfile's
# lines): nothing cached but the base image, the install the longest step by far.
REFERENCE_BUILD = (
    BuildStepResult(1, "FROM docker.io/library/python:3.11-slim", line=2, seconds=0.4, started=0),
    BuildStepResult(2, "WORKDIR /app", line=9, seconds=0.1, started=0.4),
    BuildStepResult(3, "COPY requirements.txt .", line=12, seconds=0.1, started=0.5),
    BuildStepResult(
        4,
        "RUN pip install --no-cache-dir -r requirements.txt",
        line=13,
        seconds=44.6,
        started=0.6,
        install=True,
    ),
    BuildStepResult(
        5,
        "RUN useradd --create-home --uid 10001 appuser && mkdir -p /data && chown appuser /data",
        line=16,
        seconds=1.2,
        started=45.2,
    ),
    BuildStepResult(6, "COPY app/ ./app/", line=21, seconds=0.2, started=46.4),
    BuildStepResult(7, "COPY model/ ./model/", line=22, seconds=0.3, started=46.6),
)
# A rebuild of a file that copies everything before the install: the base image and the
# WORKDIR come from the cache, the COPY of the edited project misses, so the install runs.
COPY_BEFORE_INSTALL_BUILD = (
    BuildStepResult(1, "FROM docker.io/library/python:3.11-slim", line=1, cached=True, started=0.0),
    BuildStepResult(2, "WORKDIR /app", line=3, cached=True, started=0.0),
    BuildStepResult(3, "COPY . .", line=5, seconds=0.6, started=0.1),
    BuildStepResult(
        4, "RUN pip install -r requirements.txt", line=6, seconds=52.8, started=0.7, install=True
    ),
    BuildStepResult(5, 'RUN python -c "import sklearn"', line=7, seconds=2.1, started=53.5),
)


def _title(check_id: str) -> str:
    return CHECKS[check_id].title if check_id in CHECKS else EXTRA_TITLES[check_id]


def passing_report() -> GradeReport:
    """The reference solution: every check passes."""
    checks = tuple(
        CheckResult(
            check_id,
            _title(check_id),
            CheckStatus.PASSED,
            points,
            points,
            PASSED_MESSAGES.get(check_id, "Passed."),
            required=required,
        )
        for check_id, points, required in MODEL_API_CHECKS
    )
    return GradeReport(
        exercise="model-api",
        title="Dockerize the iris model API",
        submission=SUBMISSION,
        checks=checks,
        timings={"static": 0.61, "build": 48.2, "run": 21.4, "cache": 30.9, "total": 113.7},
        build_steps=REFERENCE_BUILD,
        engine=ENGINE,
        builder="buildkit",
    )


def _fail(check: CheckResult, message: str, hint: str, line: int | None = None, **more: object):
    return replace(
        check,
        status=CheckStatus.FAILED,
        points=0,
        message=message,
        hint=hint,
        line=line,
        **more,  # type: ignore[arg-type]
    )


def failing_report() -> GradeReport:
    """A submission that copies the app before the install, keeps pip's cache and runs as
    root: static and cache checks fail with lines; the rest passes."""
    failures = {
        "requirements_before_app": lambda c: _fail(
            c,
            "Line 5 copies the whole project before the install on line 6, so any edit "
            "reinstalls every dependency.",
            "Copy only requirements.txt, install, then `COPY . .`.",
            5,
        ),
        "pip_no_cache_dir": lambda c: _fail(
            c,
            "Line 6: pip keeps its download cache in the image.",
            "Add `--no-cache-dir` to `pip install`.",
            6,
        ),
        "non_root_user": lambda c: _fail(
            c,
            "No USER instruction: the app runs as root.",
            "Create a user and switch to it with `USER appuser` before CMD.",
        ),
        "hadolint_clean": lambda c: _fail(
            c,
            "hadolint found 2 further warnings.",
            "Follow the linked hadolint rules.",
            6,
            findings=(
                Finding("DL3042 Avoid use of cache directory with pip", 6, code="DL3042"),
                Finding("DL3059 Multiple consecutive RUN instructions", 7, code="DL3059"),
            ),
        ),
        "cache_app_edit": lambda c: _fail(
            c,
            "After an edit to app/main.py, the dependency install on line 6 ran again.",
            "Copy only requirements.txt before the install; copy the app code after it.",
            5,
            details="#7 [3/5] RUN pip install -r requirements.txt\n#7 CACHED: no",
        ),
        "process_not_root": lambda c: _fail(
            c,
            "the app runs as root (uid 0)",
            "Create a user (`RUN useradd --create-home appuser`) and switch to it with "
            "`USER appuser` before CMD.",
        ),
    }
    report = passing_report()
    checks = tuple(failures.get(c.id, lambda c: c)(c) for c in report.checks)
    return replace(
        report, submission="submissions/ann", checks=checks, build_steps=COPY_BEFORE_INSTALL_BUILD
    )


def fault_report() -> GradeReport:
    """The engine went away after the static checks: what ran is kept, every engine check
    is in error, the report carries the fault (as grader.api's ``_engine_fault`` does)."""
    reason = "Cannot connect to the Docker engine at unix:///var/run/docker.sock."
    hint = "Not your mistake: check that the engine runs (`make engine`), then grade again."
    failing = {c.id: c for c in failing_report().checks}
    checks = tuple(
        replace(
            c,
            status=CheckStatus.ERROR,
            points=0,
            message=f"The Docker engine failed: {reason}",
            hint=hint,
        )
        if c.id in ENGINE_CHECKS
        else failing[c.id]
        for c in passing_report().checks
    )
    return replace(
        passing_report(),
        submission="submissions/bob",
        checks=checks,
        timings={"static": 0.58, "total": 3.2},
        build_steps=(),
        builder="",
        fault=reason,
    )


CASES = {"pass": passing_report, "fail": failing_report, "fault": fault_report}
