"""The HTML report and the class overview: goldens, escaping, self-containedness, numbers.

Both pages are opened in Chromium by tests/browser/test_report_pages.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from lms_reports import CASES, ENGINE_CHECKS, failing_report, fault_report, passing_report

from grader.batch import read_reports, write_overview
from grader.errors import EngineUnavailable
from grader.report import FORMATS, class_overview, html
from grader.results import BuildStepResult, CheckStatus, GradeReport
from grader.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
GOLDENS = Path(__file__).parent / "goldens" / "html"
SPEC = load_spec(ROOT / "exercises" / "model-api.toml")
SPEC_ORDER = [c.id for c in SPEC.checks]


def _check_golden(name: str, rendered: str, request: pytest.FixtureRequest) -> None:
    golden = GOLDENS / name
    if request.config.getoption("--update-goldens"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(rendered, encoding="utf-8")
    assert rendered == golden.read_text(encoding="utf-8")


class _Page(HTMLParser):
    """Every tag, the attributes that can fetch something, and the inline CSS."""

    FETCHING = frozenset(
        {"src", "href", "srcset", "action", "formaction", "poster", "data", "xlink:href"}
    )

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.fetching: list[tuple[str, str, str]] = []
        self.styles: list[str] = []
        self.inline_styles: list[str] = []
        self._in_style = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in self.FETCHING:
                self.fetching.append((tag, name, value or ""))
            if name == "style":
                self.inline_styles.append(value or "")

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def _assert_self_contained(text: str) -> None:
    parsed = _Page(text)
    assert {"script", "link", "img", "iframe", "object", "embed", "base"}.isdisjoint(parsed.tags)
    assert not [f for f in parsed.fetching if re.match(r"\s*(https?:)?//", f[2], re.I)], (
        parsed.fetching
    )
    css = " ".join(parsed.styles + parsed.inline_styles)
    assert "@import" not in css
    assert all(u.startswith("#") for u in re.findall(r"url\(\s*['\"]?([^)'\"]*)", css))
    # No attribute handler runs script either.
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", text, re.I)


@pytest.mark.parametrize("case", sorted(CASES))
def test_html_matches_golden(case: str, request: pytest.FixtureRequest) -> None:
    """Does the page of the reference-like, the failing and the fault report render
    exactly as reviewed?"""
    _check_golden(f"{case}.html", html.render(CASES[case]()), request)


def test_html_is_a_format_of_check_and_reports() -> None:
    """Do `--format html` and `--reports DIR` (as grade.html) offer it?"""
    assert FORMATS["html"].render is html.render
    assert FORMATS["html"].suffix == "html"


@pytest.mark.parametrize("case", sorted(CASES))
def test_html_fetches_nothing(case: str) -> None:
    """Is each page whole on its own: no script, stylesheet, font or image to fetch?"""
    _assert_self_contained(html.render(CASES[case]()))


def test_urls_in_learner_text_stay_plain_text() -> None:
    """A Dockerfile line with a URL (a HEALTHCHECK's) is shown, never fetched or linked."""
    report = replace(
        passing_report(),
        build_steps=(
            BuildStepResult(
                9,
                "HEALTHCHECK CMD python -c \"urllib.request.urlopen('http://127.0.0.1:8000/health')\"",
                line=28,
                started=0.0,
            ),
        ),
    )
    text = html.render(report)
    assert "http://127.0.0.1:8000/health" in text
    _assert_self_contained(text)


def test_learner_text_is_escaped_everywhere() -> None:
    """Can a message, hint, output, title, path or Dockerfile line inject markup?"""
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    report = failing_report()
    checks = tuple(
        replace(c, message=f"{c.message} {evil}", hint=evil, details=evil)
        if c.status is CheckStatus.FAILED
        else c
        for c in report.checks
    )
    steps = tuple(replace(s, instruction=f"RUN echo '{evil}'") for s in report.build_steps)
    report = replace(
        report, checks=checks, build_steps=steps, submission=evil, title=f"Title {evil}"
    )
    text = html.render(report)
    assert "<script" not in text.lower()
    assert "<img" not in text.lower()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
    _assert_self_contained(text)


def test_statuses_are_said_in_words_not_only_colour() -> None:
    text = html.render(failing_report())
    assert "✘ Failed" in text
    assert "✔ Passed" in text
    assert "✘ Needs work" in text
    assert "! Fault" in html.render(fault_report())


def test_timeline_has_one_bar_per_step_and_marks_the_install() -> None:
    """One bar per build step, cached ones hatched, the install step (from the report,
    the one the cache proof watched) marked, each with its Dockerfile line."""
    report = failing_report()
    text = html.render(report)
    assert text.count('<rect class="bar bar-') == len(report.build_steps) == 5
    assert text.count('<rect class="bar bar-cached"') == 2
    assert text.count('class="bar-ran bar-install"') == 1  # the legend's
    assert text.count('class="bar bar-ran bar-install"') == 1
    assert text.count('class="step step-ran step-install"') == 1
    assert "★ Step 4 · line 6" in text
    assert "The dependency install, step 4 (line 6), ran in 52.8 s." in text
    # Its 52.8 s bar spans most of the 440 px of the timeline (55.6 s in all).
    install = re.search(
        r'<rect class="bar bar-ran bar-install" x="([\d.]+)" y="[\d.]+" '
        r'width="([\d.]+)"',
        text,
    )
    assert install is not None
    assert float(install.group(2)) == pytest.approx(440 * 52.8 / 55.6, abs=0.1)


def test_a_failed_check_shows_its_dockerfile_line() -> None:
    """Does the failing COPY's row name the line and, from the build, its instruction?"""
    text = html.render(failing_report())
    row = re.search(r'<tr id="check-requirements_before_app">.*?</tr>', text, re.S)
    assert row is not None
    assert '<span class="where">Dockerfile line 5</span><br><code>COPY . .</code>' in row.group(0)
    assert "<strong>Hint:</strong> Copy only requirements.txt, install, then `COPY . .`." in (
        row.group(0)
    )


def test_steps_without_start_times_follow_one_another() -> None:
    """A report written before timelines were kept (no `started`) still draws its bars,
    each after the last."""
    data = json.loads(FORMATS["json"].render(failing_report()))
    for step in data["build_steps"]:
        del step["started"], step["install"]
    report = GradeReport.from_dict(data)
    assert all(s.started is None and not s.install for s in report.build_steps)
    text = html.render(report)
    xs = [float(x) for x in re.findall(r'<rect class="bar bar-\w+" x="([\d.]+)"', text)]
    assert xs == sorted(xs)
    assert "No step installs the dependencies" in text


@pytest.mark.parametrize(
    ("report", "says"),
    [
        (fault_report(), "the grade met a fault (above) before the build reported a step"),
        (
            replace(
                failing_report(),
                build_steps=(),
                checks=tuple(
                    replace(c, status=CheckStatus.FAILED, points=0) if c.id == "builds" else c
                    for c in failing_report().checks
                ),
            ),
            "the build stopped before its first step (see “The image builds” above)",
        ),
        (GradeReport.from_error(EngineUnavailable("no engine")), "met a fault"),
        (replace(passing_report(), build_steps=()), "the builder reported no steps"),
    ],
)
def test_no_build_data_is_said(report: GradeReport, says: str) -> None:
    text = html.render(report)
    assert f"No build data: {says}" in text or says in text
    assert 'class="bar ' not in text


# --- The class overview ---------------------------------------------------------------------


def _invalid_dockerfile() -> GradeReport:
    """A Dockerfile that does not parse: the engine's checks are skipped."""
    checks = tuple(
        replace(c, status=CheckStatus.SKIPPED, points=0, message="Skipped: fix the Dockerfile.")
        if c.id in ENGINE_CHECKS
        else replace(c, status=CheckStatus.FAILED, points=0, message="Line 3: unknown instruction")
        if c.id == "dockerfile_valid"
        else c
        for c in passing_report().checks
    )
    return replace(passing_report(), submission="submissions/dan", checks=checks, build_steps=())


CLASS = {
    "ann": failing_report(),
    "bob": fault_report(),
    "cat": passing_report(),
    "dan": _invalid_dockerfile(),
    "eve": GradeReport.from_error(EngineUnavailable("no engine", hint="start Docker")),
}


def test_pass_rates_are_passed_over_graded_with_faults_apart() -> None:
    rates = {r.id: r for r in class_overview.pass_rates(CLASS, SPEC_ORDER)}
    # builds: ann and cat passed, dan's was skipped, bob's met the fault, eve had no grade.
    builds = rates["builds"]
    assert (builds.passed, builds.failed, builds.skipped, builds.faults) == (2, 0, 1, 2)
    assert builds.graded == 3
    assert builds.rate == pytest.approx(2 / 3)
    cache = rates["cache_app_edit"]
    assert (cache.passed, cache.failed, cache.skipped, cache.faults) == (1, 1, 1, 2)
    # A static check: bob's fault came after it, so only eve's grade is missing.
    pip = rates["pip_no_cache_dir"]
    assert (pip.passed, pip.failed, pip.skipped, pip.faults) == (2, 2, 0, 1)
    assert pip.rate == 0.5
    assert "grader" not in rates  # eve's "the grader ran" is no check of the exercise


def test_checks_are_in_the_specs_order_then_the_exercises_own() -> None:
    ids = [r.id for r in class_overview.pass_rates(CLASS, SPEC_ORDER)]
    assert ids[: len(SPEC_ORDER)] == SPEC_ORDER
    assert ids[len(SPEC_ORDER) :] == ["health_reports_model", "process_not_root"]


def test_overview_says_class_size_mean_and_median() -> None:
    text = class_overview.render(CLASS, title=SPEC.title, check_order=SPEC_ORDER)
    scores = sorted(r.score for r in CLASS.values() if not r.fault)
    assert scores == [39, 78, 100]  # dan, ann, cat; bob and eve met faults
    assert "<dt>Students</dt><dd>5</dd>" in text
    assert "<dt>Graded</dt><dd>3</dd>" in text
    assert "<dt>Could not be graded</dt><dd>2</dd>" in text
    assert "<dt>Passed every required check</dt><dd>1</dd>" in text
    assert "<dt>Mean score</dt><dd>72.3 / 100</dd>" in text
    assert "<dt>Median score</dt><dd>78 / 100</dd>" in text
    assert "67 % (2/3) · 2 faults" in text  # builds
    assert "50 % (2/4) · 1 fault<" in text  # pip_no_cache_dir
    # One histogram bar per tenth of the points: dan in 30–40 %, ann in 70–80 %, cat at 100 %.
    assert "30–40 % of the points: 1 student<" in text
    assert "90–100 % of the points: 1 student<" in text
    _assert_self_contained(text)


def test_overview_escapes_student_ids_and_titles() -> None:
    text = class_overview.render(
        {"<b>mallory</b>": failing_report()}, title="<script>x</script>", check_order=SPEC_ORDER
    )
    assert "<script" not in text
    assert "&lt;b&gt;mallory&lt;/b&gt;" in text


def test_overview_matches_golden(request: pytest.FixtureRequest) -> None:
    rendered = class_overview.render(CLASS, title=SPEC.title, check_order=SPEC_ORDER)
    _check_golden("overview.html", rendered, request)


def test_batch_writes_the_overview_beside_grades_csv(tmp_path: Path) -> None:
    """From the JSON a batch leaves (read back), is overview.html the same page?"""
    students = {name: tmp_path / "submissions" / name for name in CLASS}
    for name, report in CLASS.items():
        (tmp_path / f"{name}.json").write_text(json.dumps({**report.to_dict(), "student_id": name}))
    path = write_overview(tmp_path, read_reports(tmp_path, students), SPEC)
    assert path == tmp_path / "overview.html"
    assert path.read_text(encoding="utf-8") == class_overview.render(
        CLASS, title=SPEC.title, check_order=SPEC_ORDER
    )
