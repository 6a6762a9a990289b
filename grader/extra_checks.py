"""Instructors' own checks: plain pytest tests, run in-process with fixtures the grader provides.

An exercise spec names a test file (``extra_checks = "model_api_checks.py"``). Each test
carries its id, title and points in a marker::

    @pytest.mark.grader_check(id="openapi_title", title="The API documents itself", points=2,
                              hint="Do not change the FastAPI title in app/main.py.")
    def test_openapi_title(http):
        assert http.get("/openapi.json").json()["info"]["title"] == "Iris species classifier"

Fixtures: ``image`` (the built image's tag), ``app_url`` (base URL of the running app:
the container the built-in checks probed, or the volume scenario's second one, so it has
served their requests and its log holds their predictions), ``http`` (an httpx client on that URL, with the API key header), ``container``
(a :class:`~grader.engine.RunningContainer`, for ``.exec([...])`` and ``.logs()``),
``build_log`` (:class:`~grader.build_stream.BuildLog`, with per-step cache data),
``dockerfile`` (:class:`~grader.dockerfile.Dockerfile`) and ``spec``. Results appear in
every report format like the built-in checks.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from grader.build_stream import BuildLog
from grader.checks.base import Verdict
from grader.dockerfile import Dockerfile
from grader.engine import RunningContainer
from grader.errors import FaultKind, SpecError
from grader.probes import app_client
from grader.spec import ExerciseSpec

__all__ = ["ExtraCheck", "ExtraContext", "run_extra_checks"]


@dataclass
class ExtraContext:
    """What the fixtures hand to an instructor's tests."""

    spec: ExerciseSpec
    image: str | None
    container: RunningContainer | None
    build_log: BuildLog | None
    dockerfile: Dockerfile | None
    api_key: str | None


@dataclass
class ExtraCheck:
    id: str
    title: str
    points: float
    required: bool
    verdict: Verdict


@dataclass
class _Collector:
    context: ExtraContext
    markers: dict[str, dict[str, Any]] = field(default_factory=dict)
    outcomes: dict[str, Verdict] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    # --- hooks ----------------------------------------------------------------------

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line(
            "markers", "grader_check(id, title, points, required=False, hint=''): a graded check"
        )

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            marker = item.get_closest_marker("grader_check")
            if marker is None or "id" not in marker.kwargs or "points" not in marker.kwargs:
                self.problems.append(
                    f"{item.nodeid} needs @pytest.mark.grader_check(id=..., title=..., points=...)"
                )
                continue
            self.markers[item.nodeid] = dict(marker.kwargs)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        meta = self.markers.get(report.nodeid)
        if meta is None:
            return
        if report.when == "call" and report.passed:
            self.outcomes[report.nodeid] = Verdict.passed(meta.get("title", "Passed."))
        elif report.failed:
            message = _failure_message(report)
            if report.when == "call":
                self.outcomes[report.nodeid] = Verdict.failed(message, meta.get("hint", ""))
            else:
                self.outcomes[report.nodeid] = Verdict.error(
                    f"The check could not run: {message}",
                    "Not your mistake: the exercise's own check is broken; tell your teacher.",
                    fault=FaultKind.SPEC,
                )
        elif report.skipped and report.nodeid not in self.outcomes:
            # pytest puts "Skipped: " before the reason, which says "Skipped: …" itself.
            reason = _failure_message(report).removeprefix("Skipped: ")
            self.outcomes[report.nodeid] = Verdict.skipped(reason)

    # --- fixtures -------------------------------------------------------------------

    @pytest.fixture
    def spec(self) -> ExerciseSpec:
        return self.context.spec

    @pytest.fixture
    def image(self) -> str:
        if self.context.image is None:
            pytest.skip("Skipped: the image did not build.")
        return self.context.image

    @pytest.fixture
    def build_log(self) -> BuildLog:
        if self.context.build_log is None:
            pytest.skip("Skipped: there was no build.")
        return self.context.build_log

    @pytest.fixture
    def dockerfile(self) -> Dockerfile:
        if self.context.dockerfile is None:
            pytest.skip("Skipped: the Dockerfile could not be read.")
        return self.context.dockerfile

    @pytest.fixture
    def container(self) -> RunningContainer:
        if self.context.container is None:
            pytest.skip("Skipped: the app is not running.")
        return self.context.container

    @pytest.fixture
    def app_url(self, container: RunningContainer) -> str:
        return container.base_url

    @pytest.fixture
    def http(self, app_url: str) -> Iterator[httpx.Client]:
        spec = self.context.spec
        headers = {}
        if spec.api_key and self.context.api_key:
            headers[spec.api_key.header] = self.context.api_key
        with app_client(
            base_url=app_url, headers=headers, timeout=spec.limits.request_timeout_s
        ) as client:
            yield client


def _failure_message(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message).splitlines()[0].removeprefix("AssertionError: ")[:300]
    if isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])[:300]
    return str(report.longrepr).strip().splitlines()[-1][:300] if report.longrepr else ""


def run_extra_checks(test_file: Path, context: ExtraContext) -> list[ExtraCheck]:
    """Run the instructor's tests; one :class:`ExtraCheck` per marked test."""
    if not test_file.is_file():
        raise SpecError(f"The exercise's extra checks file {test_file} does not exist.")
    collector = _Collector(context)
    output = io.StringIO()
    with redirect_stdout(output), redirect_stderr(output):
        code = pytest.main(
            [
                str(test_file),
                "-q",
                "-p",
                "no:cacheprovider",
                "-p",
                "no:randomly",
                # Any file name will do, and nothing is put on sys.path.
                "--import-mode=importlib",
                # Only pytest and the grader's fixtures, whatever else is installed: the
                # same checks wherever the grader runs, and no scan of every installed
                # package's entry points (half a second of each grade).
                "--disable-plugin-autoload",
                # Its end-of-session hunt for unraisable exceptions runs the garbage
                # collector twice (~80 ms of each grade) for warnings nobody reads here.
                "-p",
                "no:unraisableexception",
                f"--rootdir={test_file.parent}",
                "-o",
                "addopts=",
                "--no-header",
            ],
            plugins=[collector],
        )
    if collector.problems or code in (
        pytest.ExitCode.USAGE_ERROR,
        pytest.ExitCode.INTERNAL_ERROR,
        pytest.ExitCode.INTERRUPTED,
    ):
        detail = "; ".join(collector.problems) or output.getvalue().strip()[-500:]
        raise SpecError(f"The extra checks in {test_file} cannot run: {detail}")
    checks = []
    for nodeid, meta in collector.markers.items():
        verdict = collector.outcomes.get(nodeid) or Verdict.error(
            "The check did not report a result.",
            "Not your mistake: the exercise's own check is broken; tell your teacher.",
            fault=FaultKind.SPEC,
        )
        checks.append(
            ExtraCheck(
                id=str(meta["id"]),
                title=str(meta.get("title", meta["id"])),
                points=float(meta["points"]),
                required=bool(meta.get("required", False)),
                verdict=verdict,
            )
        )
    return checks
