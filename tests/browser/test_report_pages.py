"""The grader's HTML pages in a real browser: a learner's report (`grader check --format
html`, `--reports DIR`) and a class's overview (`grader batch`), opened from disk in
Debian's Chromium. No engine needed: the pages come from constructed reports (the ones
the renderers' goldens use), written by the same code paths as the commands. Screenshots
are kept in test-artifacts/ for people to look at.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader import commands
from grader.batch import read_reports, write_overview
from grader.cli import main
from grader.results import CheckStatus, GradeReport
from grader.spec import load_spec
from tests.chromium import ChromiumPage, require_chromium
from tests.unit.lms_reports import failing_report, fault_report, passing_report

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = pytest.mark.slow


class _Watched:
    """A page plus what it complained about and every URL it asked for."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("request", lambda request: self.requests.append(request.url))

    def open(self, path: Path) -> Any:
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")
        return self.page

    def assert_clean(self) -> None:
        assert self.errors == []
        assert self.requests, "the page was never loaded"
        assert all(url.startswith("file://") for url in self.requests), self.requests


@pytest.fixture
def browser() -> Iterator[_Watched]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright, ChromiumPage(playwright) as page:
        yield _Watched(page)


def _reports_folder(report: GradeReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`grader check --reports DIR` with the grade faked: DIR/grade.html, as learners get it."""
    monkeypatch.setattr(commands, "grade", lambda *_args, **_kwargs: report)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    out = tmp_path / "reports"
    main(["check", str(tmp_path), "--exercise", "model-api", "--reports", str(out)])
    return out / "grade.html"


def test_failing_report_shows_checks_and_build_timeline(
    browser: _Watched, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Does the page render without an error or a fetch, with every check's title visible,
    one timeline bar per build step (titled with its line and instruction), the install
    step's bar marked and the longest?"""
    report = failing_report()
    page = browser.open(_reports_folder(report, tmp_path, monkeypatch))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-failing.png"), full_page=True)
    browser.assert_clean()

    assert page.title() == "Dockerize the iris model API: 78 / 100 points (needs work)"
    checks = page.locator("#checks tbody tr")
    assert checks.count() == len(report.checks)
    for check in report.checks:
        row = page.locator(f"#check-{check.id}")
        assert row.is_visible()
        assert check.title in row.inner_text()
    failed = [c for c in report.checks if c.status is CheckStatus.FAILED]
    assert page.locator("#checks td.status", has_text="✘ Failed").count() == len(failed)

    bars = page.locator("#build svg g.step")
    assert bars.count() == len(report.build_steps) == 5
    titles = [bars.nth(i).locator("title").text_content() for i in range(bars.count())]
    for title, step in zip(titles, report.build_steps, strict=True):
        assert title is not None
        assert title.startswith(f"Step {step.label} · line {step.line}: {step.instruction} (")
    assert "from the cache" in titles[0]
    assert "ran, the dependency install, 52.8 s" in titles[3]
    install = page.locator("#build svg g.step-install rect")
    assert install.count() == 1
    widths = [bars.nth(i).locator("rect").bounding_box()["width"] for i in range(bars.count())]
    assert max(widths) == widths[3]
    # Drawn to scale: 52.8 s of the 55.6 s build.
    assert widths[3] / (widths[3] + widths[4] + widths[2]) > 0.9


def test_passing_and_fault_reports_render(
    browser: _Watched, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reference-like grade draws its 7 steps; a fault says the build left no data."""
    page = browser.open(_reports_folder(passing_report(), tmp_path, monkeypatch))
    page.screenshot(path=str(ARTIFACTS / "report-passing.png"), full_page=True)
    assert page.locator("#build svg g.step").count() == 7
    assert page.locator(".verdict").inner_text() == "✔ Passed"
    fault = tmp_path / "fault"
    fault.mkdir()
    page = browser.open(_reports_folder(fault_report(), fault, monkeypatch))
    assert page.locator("#build svg").count() == 0
    assert page.get_by_text("No build data: the grade met a fault").is_visible()
    assert page.get_by_role("alert").is_visible()
    browser.assert_clean()


def test_class_overview_draws_each_checks_pass_rate(browser: _Watched, tmp_path: Path) -> None:
    """From the JSON a batch leaves: is there one bar per check in the spec's order, each
    split in proportion (the cache proof: 1 of the 2 graded passed, bob's met the fault),
    and a student table?"""
    spec = load_spec(ROOT / "exercises" / "model-api.toml")
    reports = {"ann": failing_report(), "bob": fault_report(), "cat": passing_report()}
    for name, report in reports.items():
        data = {**report.to_dict(), "student_id": name}
        (tmp_path / f"{name}.json").write_text(json.dumps(data), encoding="utf-8")
    overview = write_overview(tmp_path, read_reports(tmp_path, dict.fromkeys(reports)), spec)
    page = browser.open(overview)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "class-overview.png"), full_page=True)
    browser.assert_clean()

    rows = page.locator("#checks svg g.check")
    spec_ids = [c.id for c in spec.checks]
    ids = [rows.nth(i).get_attribute("id") for i in range(rows.count())]
    assert ids[: len(spec_ids)] == [f"rate-{i}" for i in spec_ids]
    builds = page.locator("#rate-builds")
    assert "2 of 2 passed (100 %)" in (builds.locator("title").text_content() or "")
    cache = page.locator("#rate-cache_app_edit")
    track, passed, failed = (cache.locator("rect").nth(i).bounding_box() for i in range(3))
    assert passed["width"] == pytest.approx(track["width"] / 2, abs=1)
    assert failed["width"] == pytest.approx(track["width"] / 2, abs=1)
    assert "50 % (1/2) · 1 fault" in (cache.text_content() or "")
    assert page.locator("#students tbody tr").count() == 3
    assert page.get_by_text("! could not be graded").is_visible()
