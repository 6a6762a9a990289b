"""A class at a glance, one self-contained HTML page: ``grader batch`` writes it as
``OUT/overview.html`` beside ``grades.csv``.

It shows the class's size and scores (mean, median, a histogram) and, for every check in
the exercise's order, its pass rate: passed / graded, where *graded* counts the students
whose check got a verdict (passed, failed, or skipped because an earlier step of theirs
failed). Faults (the engine or the grader failed, not the learner) are counted apart and
left out of the rate, as is a student whose grade never reached the check.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from grader.report.html import esc, number, page, svg
from grader.results import CheckStatus, GradeReport

__all__ = ["CheckPassRate", "pass_rates", "render"]

# The one check of a report that met a fault before anything was graded
# (GradeReport.from_fault): not one of the exercise's checks.
_FAULT_CHECK = "grader"


@dataclass(frozen=True)
class CheckPassRate:
    """How the class did on one check."""

    id: str
    title: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    """Not run because an earlier step of the learner's failed (0 points, counted graded)."""
    faults: int = 0
    """Students whose check met a fault, or whose grade stopped before it: not graded."""

    @property
    def graded(self) -> int:
        return self.passed + self.failed + self.skipped

    @property
    def rate(self) -> float | None:
        """passed / graded, None when no student was graded on it."""
        return self.passed / self.graded if self.graded else None


def pass_rates(
    reports: Mapping[str, GradeReport], check_order: Sequence[str] = ()
) -> list[CheckPassRate]:
    """Every check's rate: those of ``check_order`` (the spec's) first, in its order, then
    any others the reports hold (the exercise's own checks), as they first appear."""
    ids = list(dict.fromkeys(check_order))
    titles: dict[str, str] = {}
    for report in reports.values():
        for check in report.checks:
            if check.id == _FAULT_CHECK and check.id not in check_order:
                continue
            titles.setdefault(check.id, check.title)
            if check.id not in ids:
                ids.append(check.id)
    rates = []
    for check_id in ids:
        counts = dict.fromkeys(CheckStatus, 0)
        missing = 0
        for report in reports.values():
            check = next((c for c in report.checks if c.id == check_id), None)
            if check is None:
                missing += 1
            else:
                counts[check.status] += 1
        rates.append(
            CheckPassRate(
                check_id,
                titles.get(check_id, check_id),
                passed=counts[CheckStatus.PASSED],
                failed=counts[CheckStatus.FAILED],
                skipped=counts[CheckStatus.SKIPPED],
                faults=counts[CheckStatus.ERROR] + missing,
            )
        )
    return rates


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100):d} %"


def _summary(reports: Mapping[str, GradeReport], title: str) -> str:
    graded = [r for r in reports.values() if not r.fault]
    scores = [r.score for r in graded]
    max_score = max((r.max_score for r in graded), default=0.0)
    passed = sum(1 for r in graded if r.exit_code == 0)
    faults = len(reports) - len(graded)
    stats = [
        ("Students", str(len(reports))),
        ("Graded", str(len(graded))),
        ("Could not be graded", str(faults)),
        ("Passed every required check", str(passed)),
        ("Mean score", f"{number(round(statistics.fmean(scores), 1))} / {number(max_score)}")
        if scores
        else ("Mean score", "—"),
        ("Median score", f"{number(statistics.median(scores))} / {number(max_score)}")
        if scores
        else ("Median score", "—"),
    ]
    items = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in stats)
    note = (
        f'<p class="muted">Scores are of the {len(graded)} graded students; a grade that met a '
        "fault (of the engine or the grader) is left out until it is graded again.</p>"
        if faults
        else ""
    )
    return (
        f'<header class="summary"><h1>{esc(title)}: class overview</h1>\n'
        f'<dl class="stats">{items}</dl>\n{note}</header>\n'
    )


def _histogram(reports: Mapping[str, GradeReport]) -> str:
    graded = [r for r in reports.values() if not r.fault and r.max_score > 0]
    head = '<section id="scores" aria-labelledby="scores-title"><h2 id="scores-title">Scores</h2>\n'
    if not graded:
        return f'{head}<p class="muted">No student has been graded yet.</p></section>\n'
    bins = [0] * 10
    for report in graded:
        bins[min(9, int(report.score / report.max_score * 10))] += 1
    tallest = max(bins)
    width, height, bar_w, top, bottom = 640, 200, 56, 20, 40
    parts = []
    for index, count in enumerate(bins):
        bar_h = (height - top - bottom) * count / tallest
        x = 8 + index * (bar_w + 8)
        y = height - bottom - bar_h
        low, high = index * 10, index * 10 + 10
        span = f"{low}–{high} %" if index < 9 else "90–100 %"
        parts.append(
            f"<g><title>{span} of the points: {count} student{'' if count == 1 else 's'}</title>"
            f'<rect class="bar-score" x="{x}" y="{y:.1f}" width="{bar_w}" height="{bar_h:.1f}"/>'
            f'<text x="{x + bar_w / 2:g}" y="{y - 4:.1f}" text-anchor="middle">{count}</text>'
            f'<text class="tick" x="{x + bar_w / 2:g}" y="{height - bottom + 16}" '
            f'text-anchor="middle">{low}–{high}</text></g>'
        )
    parts.append(
        f'<line class="axis" x1="0" y1="{height - bottom}" x2="{width}" y2="{height - bottom}"/>'
        f'<text class="tick" x="{width / 2:g}" y="{height - 6}" text-anchor="middle">'
        "share of the points, in %</text>"
    )
    return f"{head}{svg(width, height, 'Score histogram', ''.join(parts))}</section>\n"


_LABEL_W, _BAR_W, _ROW_H = 380, 360, 30


def _pass_rate_chart(rates: Sequence[CheckPassRate]) -> str:
    head = (
        '<section id="checks" aria-labelledby="checks-title">'
        '<h2 id="checks-title">Pass rate of every check</h2>\n'
        '<p class="muted">Passed / graded, in the exercise\'s order. Graded: passed, failed, '
        "or skipped because an earlier step of the learner's failed. Faults (the engine or "
        "the grader failed) are not graded and are counted apart.</p>\n"
    )
    if not rates:
        return f'{head}<p class="muted">No checks were graded.</p></section>\n'
    parts = []
    for row, rate in enumerate(rates):
        y = 24 + row * _ROW_H
        x = _LABEL_W
        parts.append(f'<g class="check" id="rate-{esc(rate.id)}">')
        summary = (
            f"{rate.title}: {rate.passed} of {rate.graded} passed ({_percent(rate.rate)})"
            f", {rate.failed} failed, {rate.skipped} skipped, {rate.faults} faults"
        )
        parts.append(f"<title>{esc(summary)}</title>")
        label = rate.title if len(rate.title) <= 50 else rate.title[:49] + "…"
        parts.append(f'<text x="0" y="{y + 14}">{esc(label)}</text>')
        parts.append(f'<rect class="track" x="{x}" y="{y + 2}" width="{_BAR_W}" height="18"/>')
        for kind, count in (
            ("passed", rate.passed),
            ("failed", rate.failed),
            ("skipped", rate.skipped),
        ):
            if not count:
                continue
            width = _BAR_W * count / rate.graded
            parts.append(
                f'<rect class="bar-{kind}" x="{x:.1f}" y="{y + 2}" width="{width:.1f}" '
                'height="18"/>'
            )
            x += width
        text = f"{_percent(rate.rate)} ({rate.passed}/{rate.graded})"
        if rate.faults:
            text += f" · {rate.faults} fault{'s' if rate.faults != 1 else ''}"
        parts.append(f'<text x="{_LABEL_W + _BAR_W + 8}" y="{y + 15}">{esc(text)}</text></g>')
    legend_y = 24 + len(rates) * _ROW_H + 6
    parts.append(
        f'<g class="legend"><rect class="bar-passed" x="0" y="{legend_y}" width="18" height="12"/>'
        f'<text x="24" y="{legend_y + 10}">passed</text>'
        f'<rect class="bar-failed" x="100" y="{legend_y}" width="18" height="12"/>'
        f'<text x="124" y="{legend_y + 10}">failed</text>'
        f'<rect class="bar-skipped" x="200" y="{legend_y}" width="18" height="12"/>'
        f'<text x="224" y="{legend_y + 10}">skipped (an earlier step failed)</text></g>'
        f'<text class="tick" x="{_LABEL_W}" y="14">0 %</text>'
        f'<text class="tick" x="{_LABEL_W + _BAR_W}" y="14" text-anchor="end">100 %</text>'
    )
    chart = svg(
        _LABEL_W + _BAR_W + 200,
        legend_y + 24,
        "Pass rate of every check",
        "".join(parts),
        description=f"{len(rates)} checks, each a bar split into passed, failed and skipped.",
    )
    rows = "".join(
        f"<tr><td>{esc(r.title)} <code>{esc(r.id)}</code></td>"
        f'<td class="num">{r.passed}</td><td class="num">{r.failed}</td>'
        f'<td class="num">{r.skipped}</td><td class="num">{r.faults}</td>'
        f'<td class="num">{_percent(r.rate)}</td></tr>\n'
        for r in rates
    )
    table = (
        "<details><summary>The pass rates as a table</summary><table><thead><tr><th>Check</th>"
        '<th class="num">Passed</th><th class="num">Failed</th><th class="num">Skipped</th>'
        '<th class="num">Faults</th><th class="num">Pass rate</th></tr></thead>'
        f"\n<tbody>\n{rows}</tbody></table></details>\n"
    )
    return f"{head}{chart}{table}</section>\n"


def _students(reports: Mapping[str, GradeReport]) -> str:
    rows = []
    for student, report in sorted(reports.items()):
        if report.fault:
            outcome, kind = "! could not be graded", "error"
        elif report.exit_code == 0:
            outcome, kind = "✔ passed", "passed"
        else:
            outcome, kind = "✘ needs work", "failed"
        to_fix = [c.title for c in report.checks if c.status is CheckStatus.FAILED]
        rows.append(
            f"<tr><td>{esc(student)}</td>"
            f'<td class="num">{number(report.score)} / {number(report.max_score)}</td>'
            f'<td class="status {kind}">{outcome}</td>'
            f"<td>{esc(', '.join(to_fix)) if to_fix else '—'}</td></tr>\n"
        )
    return (
        '<section id="students" aria-labelledby="students-title">'
        '<h2 id="students-title">Students</h2>\n<table><thead><tr><th>Student</th>'
        '<th class="num">Score</th><th>Outcome</th><th>Failed checks</th></tr></thead>\n'
        f"<tbody>\n{''.join(rows)}</tbody></table>\n</section>\n"
    )


def render(
    reports: Mapping[str, GradeReport], *, title: str, check_order: Sequence[str] = ()
) -> str:
    """The overview of ``reports`` (student id -> report); ``check_order`` is the spec's."""
    body = (
        _summary(reports, title)
        + _histogram(reports)
        + _pass_rate_chart(pass_rates(reports, check_order))
        + _students(reports)
    )
    return page(f"{title}: class overview", body)
