"""The report for a person at a terminal: a rich table with a total; colour only on a TTY."""

from __future__ import annotations

import io

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from grader.results import CheckStatus, GradeReport

STYLES = {
    CheckStatus.PASSED: ("✔", "green"),
    CheckStatus.FAILED: ("✘", "red"),
    CheckStatus.ERROR: ("!", "yellow"),
    CheckStatus.SKIPPED: ("–", "dim"),
}


def render(
    report: GradeReport, *, color: bool = False, width: int = 110, only_problems: bool = False
) -> str:
    """The report as a table; ``only_problems`` leaves out the checks that passed."""
    buffer = io.StringIO()
    console = Console(
        file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False
    )
    title = f"{report.title} ({report.exercise})" if report.exercise else "Grading"
    table = Table(title=title, show_lines=False, expand=True)
    table.add_column("", width=1)
    table.add_column("Check", ratio=3)
    table.add_column("Points", justify="right", width=7)
    table.add_column("Result", ratio=5)
    for check in report.checks:
        if only_problems and check.status is CheckStatus.PASSED:
            continue
        icon, style = STYLES[check.status]
        result = Text(check.message)
        if check.hint:
            where = f" [{check.file}:{check.line}]" if check.line else ""
            result.append(f"\n→ {check.hint}{where}", style="bold")
        table.add_row(
            Text(icon, style=style),
            Text(check.title + (" *" if check.required else ""), style=style),
            f"{check.points:g}/{check.max_points:g}",
            result,
        )
    table.add_section()
    table.add_row("", Text("Total", style="bold"), f"{report.score:g}/{report.max_score:g}", "")
    parts: list[object] = [table]
    details = [c for c in report.checks if c.details and c.status is not CheckStatus.PASSED]
    for check in details:
        parts.append(Text(f"\nOutput for “{check.title}”:", style="bold"))
        parts.append(Text(check.details, style="dim"))
    if report.fault:
        parts.append(Text(f"\n{report.fault_header}", style="yellow"))
    outcome = (
        "All required checks passed."
        if report.exit_code == 0
        else "Some checks could not run (see !)."
        if report.has_errors
        else "Some required checks (*) failed: see the arrows for what to change."
    )
    timing = report.timings.get("total")
    footer = outcome + (f" Graded in {timing:.0f} s" if timing else "")
    footer += f" on {report.graded_on}." if report.graded_on else "."
    parts.append(Text("\n" + footer, style="bold"))
    console.print(Group(*parts))  # type: ignore[arg-type]
    return buffer.getvalue()
