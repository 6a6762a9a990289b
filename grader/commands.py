"""The ``grader check`` command: grade, render, write, exit."""

from __future__ import annotations

import argparse
import sys

from grader.api import grade
from grader.errors import EngineUnavailable, GraderError
from grader.progress import progress_for
from grader.report import render, terminal
from grader.results import GradeReport

__all__ = ["check"]


def check(args: argparse.Namespace) -> int:
    progress = progress_for(not args.no_progress)
    try:
        report = grade(args.directory, args.exercise, course=args.course, progress=progress)
    except EngineUnavailable as exc:
        report = GradeReport.from_error(exc, submission=str(args.directory))
    except GraderError:
        raise
    except Exception as exc:  # a bug in the grader: still a report, never a traceback
        report = GradeReport.from_error(exc, submission=str(args.directory))
    if args.format == "text" and args.output is None:
        text = terminal.render(report, color=sys.stdout.isatty())
    else:
        text = render(report, args.format)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        print(
            f"Score {report.score:g}/{report.max_score:g}; report written to {args.output}.",
            file=sys.stderr,
        )
    else:
        sys.stdout.write(text)
    return report.exit_code
