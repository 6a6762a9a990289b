"""The report as Markdown, sized for a GitHub Actions job summary."""

from __future__ import annotations

from grader.results import CheckStatus, GradeReport

ICONS = {
    CheckStatus.PASSED: "✅",
    CheckStatus.FAILED: "❌",
    CheckStatus.ERROR: "⚠️",
    CheckStatus.SKIPPED: "⏭️",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(report: GradeReport) -> str:
    verdict = (
        "passed"
        if report.exit_code == 0
        else ("could not be graded" if report.has_errors else "needs work")
    )
    lines = [
        f"## {report.title}: {report.score:g} / {report.max_score:g} points ({verdict})",
        "",
    ]
    if report.fault:
        reason = report.fault_header.removeprefix(f"{report.fault_title}: ")
        lines += [f"> ⚠️ **{report.fault_title}:** {_cell(reason)}", ""]
    lines += ["| | Check | Points | Result |", "|---|---|---:|---|"]
    for check in report.checks:
        required = " *(required)*" if check.required else ""
        lines.append(
            f"| {ICONS[check.status]} | {_cell(check.title)}{required} | "
            f"{check.points:g}/{check.max_points:g} | {_cell(check.message)} |"
        )
    to_fix = [c for c in report.checks if c.status in {CheckStatus.FAILED, CheckStatus.ERROR}]
    if to_fix:
        lines += ["", "### What to change", ""]
        for check in to_fix:
            where = f" (`{check.file}` line {check.line})" if check.line else ""
            lines.append(f"- **{check.title}**{where}: {check.message}")
            if check.hint:
                lines.append(f"  - 💡 {check.hint}")
            if check.details:
                lines += ["  <details><summary>Output</summary>", "", "  ```text"]
                lines += [f"  {line}" for line in check.details.splitlines()[-25:]]
                lines += ["  ```", "  </details>"]
    if report.timings:
        lines += ["", "### Timings", "", "| Stage | Seconds |", "|---|---:|"]
        lines += [f"| {stage} | {seconds:.1f} |" for stage, seconds in report.timings.items()]
    if report.build_steps:
        cached = sum(1 for s in report.build_steps if s.cached)
        lines += [
            "",
            f"<details><summary>Build steps ({cached} of {len(report.build_steps)} from cache)</summary>",
            "",
            "| Step | Line | Instruction | Cache | Seconds |",
            "|---:|---:|---|---|---:|",
        ]
        for step in report.build_steps:
            lines.append(
                f"| {step.label} | {step.line or ''} | `{_cell(step.instruction[:70])}` | "
                f"{'hit' if step.cached else 'miss'} | {step.seconds:.1f} |"
            )
        lines += ["", "</details>"]
    if report.graded_on:
        lines += ["", f"<sub>Graded on {report.graded_on}.</sub>"]
    return "\n".join(lines) + "\n"
