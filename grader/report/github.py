"""GitHub Actions: workflow-command annotations on the learner's lines, and job outputs.

``::error file=exercises/model-api/Dockerfile,line=5,title=…::message`` puts the message on
that line of the pull request's diff and in the run's summary.
"""

from __future__ import annotations

import os
from pathlib import Path

from grader.results import CheckStatus, GradeReport


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


# GitHub shows at most 10 annotations of each level per step and drops the rest.
MAX_PER_LEVEL = 10


def render_annotations(report: GradeReport, submission: Path, root: Path | None = None) -> str:
    """One workflow command per failed check (and per further place it points at), at most
    ``MAX_PER_LEVEL`` of each level; a fault of the engine or the grader is said once, on
    no line of the learner's (it is not theirs)."""
    root = root or Path.cwd()
    by_level: dict[str, list[str]] = {"error": [], "warning": []}
    fault_said = False
    for check in report.checks:
        if check.status is CheckStatus.ERROR:
            if not fault_said:
                fault_said = True
                text = report.fault_header or (
                    check.message + (f" Hint: {check.hint}" if check.hint else "")
                )
                title = _escape_property("The grader could not finish")
                by_level["warning"].append(f"::warning title={title}::{_escape_data(text)}")
            continue
        if check.status is not CheckStatus.FAILED:
            continue
        level = "error" if check.required else "warning"
        places = [(check.file, check.line, check.message)]
        places += [(f.file, f.line, f.message) for f in check.findings if f.line != check.line]
        for file, line, message in places:
            path = os.path.relpath(submission / file, root)
            props = [f"file={_escape_property(path)}"]
            if line:
                props.append(f"line={line}")
            props.append(f"title={_escape_property(check.title)}")
            text = message + (f" Hint: {check.hint}" if check.hint else "")
            by_level[level].append(f"::{level} {','.join(props)}::{_escape_data(text)}")
    lines = []
    for level, commands in by_level.items():
        lines += commands[:MAX_PER_LEVEL]
        if len(commands) > MAX_PER_LEVEL:
            more = len(commands) - MAX_PER_LEVEL
            lines.append(f"::notice ::{more} more {level}s are in the job summary.")
    return "\n".join(lines) + ("\n" if lines else "")


def render_outputs(report: GradeReport) -> str:
    """``name=value`` lines for $GITHUB_OUTPUT."""
    passed = "true" if report.exit_code == 0 else "false"
    return (
        f"score={report.score:g}\nmax_score={report.max_score:g}\npassed={passed}\n"
        f"builder={report.builder}\n"
    )
