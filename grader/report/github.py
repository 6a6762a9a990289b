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


def render_annotations(report: GradeReport, submission: Path, root: Path | None = None) -> str:
    """One workflow command per failed check (and per further place it points at)."""
    root = root or Path.cwd()
    lines = []
    for check in report.checks:
        if check.status not in {CheckStatus.FAILED, CheckStatus.ERROR}:
            continue
        level = "error" if check.required and check.status is CheckStatus.FAILED else "warning"
        places = [(check.file, check.line, check.message)]
        places += [(f.file, f.line, f.message) for f in check.findings if f.line != check.line]
        for file, line, message in places:
            path = os.path.relpath(submission / file, root)
            props = [f"file={_escape_property(path)}"]
            if line:
                props.append(f"line={line}")
            props.append(f"title={_escape_property(check.title)}")
            text = message + (f" Hint: {check.hint}" if check.hint else "")
            lines.append(f"::{level} {','.join(props)}::{_escape_data(text)}")
    return "\n".join(lines) + ("\n" if lines else "")


def render_outputs(report: GradeReport) -> str:
    """``name=value`` lines for $GITHUB_OUTPUT."""
    passed = "true" if report.exit_code == 0 else "false"
    return (
        f"score={report.score:g}\nmax_score={report.max_score:g}\npassed={passed}\n"
        f"builder={report.builder}\n"
    )
