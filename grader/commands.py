"""The ``grader check`` command: grade, render, write, exit."""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import closing
from pathlib import Path

from rich.console import Console

from grader.api import grade
from grader.errors import GradingInterrupted
from grader.progress import progress_for
from grader.report import FORMATS, classroom, github, render, terminal
from grader.results import GradeReport

__all__ = ["batch", "batch_merge", "check", "lessons"]


def _write_reports(report: GradeReport, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for fmt in FORMATS.values():
        (folder / f"grade.{fmt.suffix}").write_text(fmt.render(report), encoding="utf-8")


def _publish_to_github(report: GradeReport, submission: Path) -> None:
    """In a GitHub Actions job: the job summary, annotations on the lines, and outputs
    (``result`` is GitHub Classroom's base64 result, for its autograding reporter)."""
    if summary := os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(render(report, "markdown") + "\n")
    if outputs := os.environ.get("GITHUB_OUTPUT"):
        with open(outputs, "a", encoding="utf-8") as handle:
            handle.write(github.render_outputs(report))
            handle.write(classroom.render_output(report))
    sys.stdout.write(github.render_annotations(report, submission))
    sys.stdout.write(classroom.render_notice(report))
    sys.stdout.flush()


def check(args: argparse.Namespace) -> int:
    """Grade, then write every format asked for, faults included; exit with the report's code."""
    with closing(progress_for(not (args.no_progress or args.quiet))) as progress:
        try:
            report = grade(
                args.directory,
                args.exercise,
                course=args.course,
                progress=progress,
                builder=args.builder,
            )
        except GradingInterrupted:
            raise
        except Exception as exc:  # the spec did not load: still a report, in every format
            report = GradeReport.from_error(exc, submission=str(args.directory))
    if report.fault:
        print(f"grader: {report.fault_header}", file=sys.stderr)
    if args.reports is not None:
        _write_reports(report, args.reports)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        _publish_to_github(report, args.directory)
    if args.format == "text" and args.output is None:
        # rich decides, from the terminal and NO_COLOR / FORCE_COLOR / COLUMNS, whether
        # to colour and how wide to draw.
        console = Console()
        text = terminal.render(
            report,
            color=console.color_system is not None and not console.no_color,
            width=console.width,
            only_problems=args.quiet,
        )
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


def batch(args: argparse.Namespace) -> int:
    from grader.batch import grade_class, merge_gradebooks
    from grader.spec import find_exercise

    spec = find_exercise(args.exercise, args.submissions, args.course)
    out = args.out or args.submissions.parent / f"{args.submissions.name}-feedback"
    result = grade_class(
        args.submissions,
        spec,
        out,
        workers=args.workers,
        force=args.force,
        show_progress=not args.no_progress,
        shard=args.shard,
        fork_server=True,  # the grader's own entry points import no code of their own
    )
    if result.shard is not None:
        share = len(result.graded) + len(result.resumed) + len(result.failed)
        print(
            f"Shard {result.shard}: {share} of the class's {result.class_size} students"
            + (
                f" (none: fewer students than {result.shard.count} shards; not an error, "
                "its empty folder merges like the others)"
                if not share
                else ""
            )
            + f"; {out / 'shard.json'} says which, for `grader batch-merge`."
        )
    print(
        f"Graded {len(result.graded)} students, kept {len(result.resumed)} from an earlier run"
        + (
            f", could not grade {len(result.failed)} ({', '.join(result.failed)})"
            if result.failed
            else ""
        )
        + f". Feedback in {out}/, grades in {result.csv_path}"
        + (
            f" (for Canvas and Moodle: {', '.join(p.name for p in result.lms_csv_paths)})."
            if result.lms_csv_paths
            else "."
        )
        + (f" Class overview: {result.overview_path}." if result.overview_path else "")
    )
    if args.merge_nbgrader is not None:
        merged = merge_gradebooks(result.csv_path, args.merge_nbgrader, out / "gradebook.csv")
        print(f"Merged with {args.merge_nbgrader}: {merged}.")
    return 2 if result.failed else 0


def batch_merge(args: argparse.Namespace) -> int:
    """Merge shard folders; exit 2, as `grader batch` does, when a student was not graded."""
    from grader.batch import merge_gradebooks
    from grader.shards import merge_shards

    result = merge_shards(args.shards, args.out, course=args.course)
    print(
        f"Merged {result.shards} shards of {result.exercise}: {len(result.students)} students"
        + (
            f", {len(result.failed)} of whom could not be graded ({', '.join(result.failed)}): "
            "grade their shards again"
            if result.failed
            else ""
        )
        + f". Feedback in {result.out}/, grades in {result.csv_path} (for Canvas and Moodle: "
        f"{', '.join(p.name for p in result.lms_csv_paths)}; the class at a glance: "
        f"{result.summary_path.name}). Class overview: {result.overview_path}."
    )
    if args.merge_nbgrader is not None:
        merged = merge_gradebooks(
            result.csv_path, args.merge_nbgrader, result.out / "gradebook.csv"
        )
        print(f"Merged with {args.merge_nbgrader}: {merged}.")
    return 2 if result.failed else 0


def lessons(args: argparse.Namespace) -> int:
    from grader.lesson_grading import grade_lessons, render_lessons_markdown
    from grader.spec import course_dir

    grades = grade_lessons(
        args.lessons_dir, args.course or course_dir(), args.student, args.reports
    )
    text = render_lessons_markdown(grades)
    sys.stdout.write(text)
    if os.environ.get("GITHUB_ACTIONS") == "true" and (
        summary := os.environ.get("GITHUB_STEP_SUMMARY")
    ):
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(text + "\n")
    # A missing notebook is the learner's 0; nbgrader failing on a lesson is a fault.
    return 2 if any(g.faulted for g in grades) else 0
