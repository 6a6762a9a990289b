"""The report as one self-contained HTML page: the score, every check, the build's timeline.

Everything is inline (CSS, SVG charts): no script, no font, no URL to fetch, so the page
opens the same from a CI artifact, an e-mail or a file on disk. Every text that comes
from the learner or the build (messages, Dockerfile lines, output) is escaped. Status is
said in words and icons, never by colour alone.

:func:`page` and the chart helpers are shared with the class overview
(:mod:`grader.report.class_overview`).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from grader.results import BuildStepResult, CheckResult, CheckStatus, GradeReport

__all__ = ["STATUS_WORDS", "esc", "number", "page", "render", "seconds", "svg"]

STATUS_WORDS = {
    CheckStatus.PASSED: ("✔", "Passed"),
    CheckStatus.FAILED: ("✘", "Failed"),
    CheckStatus.ERROR: ("!", "Fault"),
    CheckStatus.SKIPPED: ("–", "Skipped"),
}

# Colours pass WCAG AA (4.5:1) as text on white and on their own tint.
_CSS = """
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0;
  --passed: #1a7f37; --failed: #cf222e; --error: #9a6700; --skipped: #59636e;
  --ran: #0969da; --cached: #818b98; --install: #bc4c00; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: #f6f8fa; }
main { max-width: 1040px; margin: 0 auto; padding: 24px; }
section, header.summary { background: #fff; border: 1px solid var(--line); border-radius: 8px;
  padding: 16px 20px; margin: 0 0 16px; }
h1 { font-size: 1.5rem; margin: 0 0 4px; }
h2 { font-size: 1.15rem; margin: 0 0 12px; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  font-size: 0.9em; }
code { background: #eff2f5; padding: 1px 4px; border-radius: 4px; }
pre { background: #f6f8fa; border: 1px solid var(--line); padding: 8px; overflow-x: auto;
  white-space: pre-wrap; word-break: break-word; }
.muted { color: var(--muted); }
.score { font-size: 1.25rem; margin: 8px 0; }
.score strong { font-size: 2rem; }
.verdict { display: inline-block; margin-left: 12px; padding: 2px 10px; border-radius: 12px;
  font-weight: 600; font-size: 1rem; border: 1px solid currentColor; }
.counts { list-style: none; padding: 0; margin: 8px 0; display: flex; gap: 16px;
  flex-wrap: wrap; }
.fault { border-left: 4px solid var(--error); background: #fff8c5; padding: 8px 12px;
  margin: 8px 0 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 8px; border-top: 1px solid var(--line); }
th { font-size: 0.85rem; color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; }
.status { white-space: nowrap; font-weight: 600; }
.status-passed, .passed { color: var(--passed); }
.status-failed, .failed { color: var(--failed); }
.status-error, .error { color: var(--error); }
.status-skipped, .skipped { color: var(--skipped); }
.required { font-size: 0.8rem; color: var(--muted); border: 1px solid var(--line);
  border-radius: 10px; padding: 0 6px; margin-left: 4px; white-space: nowrap; }
.hint { margin: 6px 0 0; }
.where { white-space: nowrap; }
ul.findings { margin: 6px 0 0; padding-left: 20px; }
details summary { cursor: pointer; color: var(--muted); }
svg { max-width: 100%; height: auto; display: block; }
svg text { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  fill: var(--fg); }
svg .axis { stroke: var(--line); }
svg .tick { fill: var(--muted); }
svg .bar-ran { fill: var(--ran); }
svg .bar-cached { fill: url(#cached-hatch); stroke: var(--cached); }
svg .bar-install { stroke: var(--install); stroke-width: 3; }
svg .install-label { fill: var(--install); font-weight: 700; }
svg .bar-passed { fill: var(--passed); }
svg .bar-failed { fill: var(--failed); }
svg .bar-skipped { fill: url(#skipped-hatch); stroke: var(--skipped); }
svg .bar-score { fill: var(--ran); }
svg .track { fill: #eff2f5; }
dl.stats { display: flex; flex-wrap: wrap; gap: 12px 32px; margin: 12px 0 0; }
dl.stats dt { color: var(--muted); font-size: 0.85rem; }
dl.stats dd { margin: 0; font-size: 1.4rem; font-weight: 600; }
footer { color: var(--muted); font-size: 0.85rem; text-align: center; padding: 8px; }
@media print { body { background: #fff; } section, header.summary { break-inside: avoid; } }
"""

# The hatch patterns the charts refer to (cached steps, skipped checks).
_PATTERNS = (
    '<defs><pattern id="cached-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="6" height="6" fill="#eff2f5"/>'
    '<rect width="2" height="6" fill="#818b98"/></pattern>'
    '<pattern id="skipped-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f6f8fa"/>'
    '<rect width="2" height="6" fill="#59636e"/></pattern></defs>'
)


def esc(text: object) -> str:
    """Text as HTML (quotes too, so that it is safe in attributes)."""
    return escape(str(text), quote=True)


def page(title: str, body: str) -> str:
    """A whole HTML document: ``body`` is already HTML."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        f"{body}"
        "</main>\n<footer>Written by the course's grader. This page is self-contained: no "
        "scripts, nothing fetched from elsewhere.</footer>\n</body>\n</html>\n"
    )


def svg(width: int, height: int, label: str, content: str, *, description: str = "") -> str:
    """An inline SVG chart with an accessible name (``role="img"``)."""
    desc = f"<desc>{esc(description)}</desc>" if description else ""
    return (
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{esc(label)}"><title>{esc(label)}</title>{desc}{_PATTERNS}{content}</svg>\n'
    )


def number(value: float) -> str:
    """``10``, ``7.5``: points as the other reports print them."""
    return f"{value:g}"


def seconds(value: float) -> str:
    if value == 0:
        return "0 s"
    if value < 0.1:
        return "<0.1 s"
    return f"{value:.1f} s"


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _verdict(report: GradeReport) -> tuple[str, str, str]:
    """(icon, words, class) of the whole grade."""
    if report.exit_code == 0:
        return "✔", "Passed", "passed"
    if report.has_errors:
        return "!", "Could not be graded", "error"
    return "✘", "Needs work", "failed"


def _score_bar(score: float, max_score: float) -> str:
    width, fill = 600, 0 if max_score <= 0 else round(600 * min(1.0, score / max_score))
    content = (
        f'<rect class="track" x="0" y="0" width="{width}" height="14" rx="7"/>'
        f'<rect class="bar-score" x="0" y="0" width="{fill}" height="14" rx="7"/>'
    )
    return svg(width, 14, f"{number(score)} of {number(max_score)} points", content)


def _summary(report: GradeReport) -> str:
    icon, words, kind = _verdict(report)
    heading = esc(report.title or "Grading")
    meta = []
    if report.exercise:
        meta.append(f"Exercise <code>{esc(report.exercise)}</code>")
    if report.submission:
        meta.append(f"submission <code>{esc(report.submission)}</code>")
    counts = {status: 0 for status in CheckStatus}
    for check in report.checks:
        counts[check.status] += 1
    items = "".join(
        f'<li class="{status.value}">{STATUS_WORDS[status][0]} {counts[status]} '
        f"{STATUS_WORDS[status][1].lower()}</li>"
        for status in CheckStatus
        if counts[status]
    )
    graded_on = []
    if report.graded_on:
        graded_on.append(f"Graded on {esc(report.graded_on)}")
    total = report.timings.get("total")
    if total:
        graded_on.append(f"in {seconds(total)}")
    parts = [
        '<header class="summary">',
        f"<h1>{heading}</h1>",
        f'<p class="muted">{" · ".join(meta)}</p>' if meta else "",
        f'<p class="score"><strong>{number(report.score)}</strong> / '
        f"{number(report.max_score)} points"
        f'<span class="verdict {kind}">{icon} {words}</span></p>',
        _score_bar(report.score, report.max_score),
        f'<ul class="counts" aria-label="Checks by status">{items}</ul>',
        f'<p class="muted">{" ".join(graded_on)}.</p>' if graded_on else "",
    ]
    if report.fault:
        reason = report.fault_header.removeprefix(f"{report.fault_title}: ")
        parts.append(
            f'<p class="fault" role="alert"><strong>! {esc(report.fault_title)}:</strong> '
            f"{esc(reason)}</p>"
        )
    parts.append("</header>\n")
    return "\n".join(part for part in parts if part)


def _where(check: CheckResult, steps: Sequence[BuildStepResult]) -> str:
    """``Dockerfile line 5`` and, when the build ran it, that line's instruction."""
    if not check.line:
        return '<span class="muted">—</span>'
    text = f'<span class="where">{esc(check.file)} line {check.line}</span>'
    if check.file == "Dockerfile":
        step = next((s for s in steps if s.line == check.line), None)
        if step is not None:
            text += f"<br><code>{esc(shorten(step.instruction, 60))}</code>"
    return text


def _check_row(check: CheckResult, steps: Sequence[BuildStepResult]) -> str:
    icon, word = STATUS_WORDS[check.status]
    required = '<span class="required">required</span>' if check.required else ""
    result = [f"<div>{esc(check.message)}</div>"]
    if check.hint:
        result.append(f'<p class="hint"><strong>Hint:</strong> {esc(check.hint)}</p>')
    if check.findings:
        findings = "".join(
            f"<li>{esc(f.file)}"
            + (f" line {f.line}" if f.line else "")
            + (f" <code>{esc(f.code)}</code>" if f.code else "")
            + f": {esc(f.message)}</li>"
            for f in check.findings
        )
        result.append(f'<ul class="findings">{findings}</ul>')
    if check.details:
        result.append(
            f"<details><summary>Output</summary><pre>{esc(check.details)}</pre></details>"
        )
    return (
        f'<tr id="check-{esc(check.id)}">'
        f'<td class="status status-{check.status.value}">{icon} {word}</td>'
        f"<td>{esc(check.title)}{required}</td>"
        f'<td class="num">{number(check.points)} / {number(check.max_points)}</td>'
        f"<td>{''.join(result)}</td>"
        f"<td>{_where(check, steps)}</td></tr>\n"
    )


def _checks(report: GradeReport) -> str:
    rows = "".join(_check_row(c, report.build_steps) for c in report.checks)
    return (
        '<section id="checks" aria-labelledby="checks-title">'
        '<h2 id="checks-title">Checks</h2>\n<table>\n<thead><tr><th>Status</th><th>Check</th>'
        '<th class="num">Points</th><th>Result</th><th>Where</th></tr></thead>\n'
        f"<tbody>\n{rows}</tbody>\n</table>\n</section>\n"
    )


def _tick_step(total: float) -> float:
    for step in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600):
        if total / step <= 6:
            return step
    return 1200.0


def _starts(steps: Sequence[BuildStepResult]) -> list[float]:
    """Each step's start on the timeline; one after the other when a start is not known."""
    if all(s.started is not None for s in steps):
        return [s.started or 0.0 for s in steps]
    starts, at = [], 0.0
    for step in steps:
        starts.append(at)
        at += step.seconds
    return starts


_BAR_X, _BAR_W, _ROW_H, _TOP = 370, 440, 36, 28


def _step_name(step: BuildStepResult) -> str:
    line = f" · line {step.line}" if step.line else ""
    return f"Step {step.label}{line}"


def _timeline_svg(report: GradeReport) -> str:
    steps = report.build_steps
    starts = _starts(steps)
    total = max((start + s.seconds for start, s in zip(starts, steps, strict=True)), default=0.0)
    scale = _BAR_W / total if total > 0 else 0.0
    height = _TOP + _ROW_H * len(steps) + 34
    parts = []
    tick = _tick_step(total) if total > 0 else 1.0
    value = 0.0
    while value <= total + 1e-9:
        x = _BAR_X + value * scale
        parts.append(
            f'<line class="axis" x1="{x:.1f}" y1="{_TOP - 6}" x2="{x:.1f}" '
            f'y2="{_TOP + _ROW_H * len(steps)}"/>'
            f'<text class="tick" x="{x:.1f}" y="{_TOP - 10}" text-anchor="middle">'
            f"{value:g} s</text>"
        )
        if total <= 0:
            break
        value += tick
    for row, (start, step) in enumerate(zip(starts, steps, strict=True)):
        y = _TOP + row * _ROW_H
        x = _BAR_X + start * scale
        width = max(3.0, step.seconds * scale)
        kind = "cached" if step.cached else "ran"
        classes = f"bar bar-{kind}" + (" bar-install" if step.install else "")
        outcome = "from the cache" if step.cached else "ran"
        install = ", the dependency install" if step.install else ""
        tooltip = (
            f"{_step_name(step)}: {step.instruction} ({outcome}{install}, {seconds(step.seconds)})"
        )
        label = f"{'★ ' if step.install else ''}{_step_name(step)}"
        label_class = ' class="install-label"' if step.install else ""
        after = f"{seconds(step.seconds)} · {'cached' if step.cached else 'ran'}"
        parts.append(
            f'<g class="step step-{kind}{" step-install" if step.install else ""}">'
            f"<title>{esc(tooltip)}</title>"
            f'<text x="0" y="{y + 14}"{label_class}>'
            f"{esc(label)}</text>"
            f'<text x="0" y="{y + 29}" class="tick">{esc(shorten(step.instruction, 48))}</text>'
            f'<rect class="{classes}" x="{x:.1f}" y="{y + 8}" width="{width:.1f}" '
            f'height="18" rx="2"/>'
            f'<text x="{x + width + 6:.1f}" y="{y + 21}">{esc(after)}'
            + ('<tspan class="install-label"> · install</tspan>' if step.install else "")
            + "</text></g>"
        )
    legend_y = _TOP + _ROW_H * len(steps) + 14
    parts.append(
        f'<g class="legend"><rect class="bar-ran" x="0" y="{legend_y}" width="18" height="12"/>'
        f'<text x="24" y="{legend_y + 10}">ran</text>'
        f'<rect class="bar-cached" x="70" y="{legend_y}" width="18" height="12"/>'
        f'<text x="94" y="{legend_y + 10}">from the cache</text>'
        f'<rect class="bar-ran bar-install" x="230" y="{legend_y}" width="18" height="12"/>'
        f'<text x="254" y="{legend_y + 10}" class="install-label">★ dependency install</text></g>'
    )
    cached = sum(1 for s in steps if s.cached)
    return svg(
        _BAR_X + _BAR_W + 190,
        height,
        "Build timeline",
        "".join(parts),
        description=f"{len(steps)} build steps, {cached} from the cache, over {seconds(total)}.",
    )


def _no_build_reason(report: GradeReport) -> str:
    builds = next((c for c in report.checks if c.id == "builds"), None)
    if report.fault and (builds is None or builds.status is not CheckStatus.FAILED):
        return "No build data: the grade met a fault (above) before the build reported a step."
    if builds is not None and builds.status is CheckStatus.FAILED:
        return (
            "No build data: the build stopped before its first step (see “"
            f"{esc(builds.title)}” above)."
        )
    if builds is not None and builds.status is CheckStatus.SKIPPED:
        return "No build data: the image was not built (an earlier check must pass first)."
    if builds is not None and builds.status is CheckStatus.PASSED:
        return "No build data: the image was built, but the builder reported no steps."
    return "No build data: no build ran for this grade."


def _install_sentence(steps: Sequence[BuildStepResult]) -> str:
    install = next((s for s in steps if s.install), None)
    if install is None:
        return " No step installs the dependencies from the dependency file."
    where = f" (line {install.line})" if install.line else ""
    fate = "came from the cache" if install.cached else f"ran in {seconds(install.seconds)}"
    return f" The dependency install, step {esc(install.label)}{where}, {fate}."


def _build(report: GradeReport) -> str:
    steps = report.build_steps
    head = '<section id="build" aria-labelledby="build-title"><h2 id="build-title">Build timeline</h2>\n'
    if not steps:
        return f'{head}<p class="muted empty">{_no_build_reason(report)}</p>\n</section>\n'
    cached = sum(1 for s in steps if s.cached)
    builder = report.graded_on.split(" with ", 1)[1] if " with " in report.graded_on else ""
    with_builder = f" with {esc(builder)}" if builder else ""
    intro = (
        f"<p>{len(steps)} steps{with_builder}, {cached} from the cache: each bar is one step, "
        "as long as it took; hatched bars came from the cache, solid ones ran."
        f"{_install_sentence(steps)}</p>\n"
    )
    rows = "".join(
        f"<tr><td>{esc(s.label)}</td><td>{s.line or ''}</td>"
        f"<td><code>{esc(s.instruction)}</code></td>"
        f"<td>{'from the cache' if s.cached else 'ran'}{' (install)' if s.install else ''}</td>"
        f'<td class="num">{seconds(s.seconds)}</td></tr>\n'
        for s in steps
    )
    table = (
        "<details><summary>The steps as a table</summary><table><thead><tr><th>Step</th>"
        '<th>Line</th><th>Instruction</th><th>Cache</th><th class="num">Time</th></tr></thead>'
        f"\n<tbody>\n{rows}</tbody></table></details>\n"
    )
    return f"{head}{intro}{_timeline_svg(report)}{table}</section>\n"


def _timings(report: GradeReport) -> str:
    if not report.timings:
        return ""
    rows = "".join(
        f'<tr><td>{esc(stage)}</td><td class="num">{seconds(value)}</td></tr>'
        for stage, value in report.timings.items()
    )
    return (
        '<section id="timings" aria-labelledby="timings-title"><h2 id="timings-title">'
        'Time per stage</h2>\n<table><thead><tr><th>Stage</th><th class="num">Time</th></tr>'
        f"</thead><tbody>{rows}</tbody></table>\n</section>\n"
    )


def render(report: GradeReport) -> str:
    words = _verdict(report)[1]
    title = (
        f"{report.title or 'Grading'}: {number(report.score)} / {number(report.max_score)} "
        f"points ({words.lower()})"
    )
    body = _summary(report) + _checks(report) + _build(report) + _timings(report)
    return page(title, body)
