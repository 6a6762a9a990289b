"""The ``grader`` command: a thin layer over :mod:`grader.api` and :mod:`grader.provision`.

Exit status (:data:`EXIT_STATUS`): 0 when every required check passed, 1 when some
failed, 2 for usage errors and faults of the engine, the grader or the spec (the
report says which), 130/143 after Ctrl-C/SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from grader.errors import GraderError, GradingInterrupted

if TYPE_CHECKING:
    from grader.shards import Shard

EXIT_OK, EXIT_ERROR = 0, 2
EXIT_STATUS = (
    "exit status: 0 every required check passed; 1 a required check failed (yours to fix); "
    "2 a usage error, or a fault of the Docker engine, of the grader or of the exercise's "
    "spec (the report, written in every format asked for, says which); 130/143 after "
    "Ctrl-C/SIGTERM"
)


def _parser() -> argparse.ArgumentParser:
    from grader.report import FORMATS

    parser = argparse.ArgumentParser(
        prog="grader",
        description="Grade Docker exercises of the course and bring up a Docker engine.",
        epilog=EXIT_STATUS,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser(
        "check",
        help="grade an exercise folder and print feedback",
        description="Build, run, probe and cache-check an exercise project; print feedback.",
        epilog=EXIT_STATUS,
    )
    check.add_argument("directory", type=Path, help="the exercise folder (your Dockerfile's)")
    check.add_argument(
        "--exercise",
        help="exercise name (default: the one named like the folder, or the only one)",
    )
    check.add_argument(
        "--course",
        type=Path,
        help="the course folder holding exercises/ (default: the installed course)",
    )
    check.add_argument(
        "--format",
        choices=tuple(FORMATS),
        default="text",
        help="report format (default: text); gradescope, prairielearn and classroom are the "
        "results files of those LMSs, sarif is for code-scanning annotations",
    )
    check.add_argument(
        "--builder",
        choices=("auto", "buildkit", "classic"),
        help="the builder to grade with (default: the exercise's choice, normally auto: "
        "BuildKit wherever the engine offers it)",
    )
    check.add_argument("--output", type=Path, help="write the report to this file")
    check.add_argument(
        "--no-progress", action="store_true", help="do not show build progress while grading"
    )
    check.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress, and in the text report only the checks that did not pass",
    )
    check.add_argument(
        "--reports",
        type=Path,
        help="also write every format into this folder: "
        + ", ".join(f"grade.{fmt.suffix}" for fmt in FORMATS.values()),
    )

    batch = commands.add_parser(
        "batch",
        help="grade a whole class: one folder per student",
        description="Grade every student's folder with a few workers; resumable; writes "
        "per-student feedback (Markdown, JSON), a CSV of grades like nbgrader's export and a "
        "class overview page (overview.html).",
    )
    batch.add_argument("submissions", type=Path, help="folder with one sub-folder per student")
    batch.add_argument("--exercise", help="exercise name (default: guessed)")
    batch.add_argument("--course", type=Path, help="the course folder holding exercises/")
    batch.add_argument("--out", type=Path, help="feedback folder (default: SUBMISSIONS-feedback)")
    batch.add_argument("--workers", type=_positive, default=2, help="grades at once (default: 2)")
    batch.add_argument("--force", action="store_true", help="regrade students graded before")
    batch.add_argument("--no-progress", action="store_true", help="no progress bar")
    batch.add_argument(
        "--merge-nbgrader",
        type=Path,
        metavar="CSV",
        help="join the grades with this `nbgrader export` CSV into OUT/gradebook.csv",
    )
    batch.add_argument(
        "--shard",
        type=_shard,
        metavar="I/N",
        help="grade only the I-th of N shares of the class (the same on every machine) and "
        "write OUT/shard.json; `grader batch-merge` joins the N folders",
    )

    batch_merge = commands.add_parser(
        "batch-merge",
        help="merge the folders of `grader batch --shard I/N`, I = 1…N, into one",
        description="Check that the folders are the N shards of one class and one exercise, "
        "then write what `grader batch` of the whole class writes: each student's feedback, "
        "grades.csv, canvas.csv, moodle.csv and the class overview page (overview.html), and "
        "summary.md, the class at a glance in Markdown (for a CI job summary).",
        epilog="exit status: 0 merged; 2 refused (a shard missing, of another exercise or "
        "class, or a student graded differently twice: nothing written), or merged with "
        "students the grader could not grade, as `grader batch` would",
    )
    batch_merge.add_argument(
        "shards", type=Path, nargs="+", metavar="SHARD_FOLDER", help="each shard's --out folder"
    )
    batch_merge.add_argument(
        "--out", type=Path, required=True, help="the merged feedback folder (a new one)"
    )
    batch_merge.add_argument("--course", type=Path, help="the course folder holding exercises/")
    batch_merge.add_argument(
        "--merge-nbgrader",
        type=Path,
        metavar="CSV",
        help="join the grades with this `nbgrader export` CSV into OUT/gradebook.csv",
    )

    lessons = commands.add_parser(
        "lessons",
        help="grade a learner's lesson notebooks with nbgrader",
        description="Autograde the notebooks in LESSONS (one folder per lesson) against the "
        "course's instructor notebooks; write nbgrader's feedback HTML and grades.",
    )
    lessons.add_argument("lessons_dir", type=Path, metavar="LESSONS", help="the learner's lessons/")
    lessons.add_argument("--course", type=Path, help="the course folder (default: installed)")
    lessons.add_argument("--student", default="learner", help="student id for the gradebook")
    lessons.add_argument(
        "--reports",
        type=Path,
        default=Path("reports/lessons"),
        help="where feedback and grades go (default: reports/lessons)",
    )

    release = commands.add_parser(
        "release",
        help="write the learners' template repository (instructors)",
        description="Write the learner copy of the course into DEST: nbgrader's learner "
        "versions of the lessons (generated afresh), the exercise starters and specs, the "
        "grader, the workflow and the learner README; never solutions/, tests/ or any nbgrader "
        "solution or hidden-test region. The course is only read.",
        epilog="exit status: 0 written; 2 refused (DEST inside the course or not empty, or "
        "instructor material found in the copy), nothing written",
    )
    release.add_argument("dest", type=Path, metavar="DEST", help="the folder to write")
    release.add_argument("--course", type=Path, help="the course folder (default: installed)")
    release.add_argument(
        "--force",
        action="store_true",
        help="write into a non-empty DEST, replacing what a release writes there",
    )

    engine = commands.add_parser("engine", help="bring up or inspect the Docker engine")
    engine_commands = engine.add_subparsers(dest="engine_command", required=True)
    engine_commands.add_parser(
        "up",
        help="make sure an engine answers and the course's base image exists (install/start "
        "if needed)",
    )
    engine_commands.add_parser("status", help="say whether an engine answers")
    sweep = engine_commands.add_parser(
        "sweep", help="remove containers, volumes and images left by killed grader runs"
    )
    sweep.add_argument(
        "--all", action="store_true", help="remove every resource of the grader, not only stale"
    )
    _add_nested_parser(engine_commands)
    return parser


NESTED_FLAVOURS = ("modern", "modern-containerd", "podman")


def _add_nested_parser(engine_commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    nested = engine_commands.add_parser(
        "nested",
        help="run Docker Engine 26 or Podman 5 nested in a container on this engine (offline)",
        description="Bring up the engines learners have, from Debian trixie packages, as "
        "containers on the host engine; their API is at the container's bridge IP.",
    )
    nested_commands = nested.add_subparsers(dest="nested_command", required=True)
    up = nested_commands.add_parser(
        "up", help="start (or find) a nested engine; the last line printed is DOCKER_HOST=…"
    )
    up.add_argument("--flavour", choices=NESTED_FLAVOURS, required=True)
    down = nested_commands.add_parser(
        "down", help="remove a nested engine's container and data volume"
    )
    down.add_argument(
        "--flavour",
        choices=NESTED_FLAVOURS,
        action="append",
        required=True,
        help="the flavour to stop (repeat for several)",
    )
    down.add_argument("--purge", action="store_true", help="also remove the engine's image")
    nested_commands.add_parser("status", help="list the nested engines and their DOCKER_HOST")
    nested_commands.add_parser(
        "rootfs",
        help="only make the cached root filesystems of both engine families now (debootstrap), "
        "for a later `up` to import",
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("docker-ml-course")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return number


def _shard(text: str) -> Shard:
    from grader.shards import Shard

    try:
        return Shard.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse, before any grading, what would fail only after it (argparse's way: usage,
    the reason, exit 2)."""
    if args.command == "check" and args.output is not None:
        if args.output.is_dir():
            parser.error(
                f"--output {args.output} is a folder: give a file name, e.g. "
                f"{args.output / 'grade.json'} (or --reports {args.output} for every format)"
            )
        if args.output.parent.exists() and not args.output.parent.is_dir():
            parser.error(f"--output {args.output}: {args.output.parent} is a file, not a folder")
    if args.command == "batch":
        if not args.submissions.is_dir():
            parser.error(f"{args.submissions} is not a folder of submissions (one per student)")
        if not any(child.is_dir() for child in args.submissions.iterdir()):
            parser.error(
                f"{args.submissions} holds no student folders: put each student's submission "
                "in a folder of its own (GitHub Classroom's and nbgrader's layout)"
            )
    if args.command in {"batch", "batch-merge"} and args.merge_nbgrader is not None:
        from grader.batch import nbgrader_csv_problem

        if problem := nbgrader_csv_problem(args.merge_nbgrader):
            parser.error(f"--merge-nbgrader {args.merge_nbgrader}: {problem}")


def _raise_on_sigterm() -> None:
    def handler(signum: int, _frame: object) -> None:
        raise GradingInterrupted(signum)

    signal.signal(signal.SIGTERM, handler)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _check_arguments(parser, args)
    _raise_on_sigterm()
    try:
        if args.command == "engine":
            return _engine(args)
        if args.command == "release":
            return _release(args)
        from grader.commands import batch, batch_merge, check, lessons

        command = {"batch": batch, "batch-merge": batch_merge, "check": check, "lessons": lessons}
        return command[args.command](args)
    except KeyboardInterrupt:
        print("grader: interrupted; everything it created was removed.", file=sys.stderr)
        return 130
    except GradingInterrupted as exc:
        print(f"grader: {exc}", file=sys.stderr)
        return 128 + exc.signum
    except GraderError as exc:
        print(f"grader: {exc}", file=sys.stderr)
        return EXIT_ERROR


def _release(args: argparse.Namespace) -> int:
    from grader.release import build_release
    from grader.spec import course_dir

    release = build_release(args.course or course_dir(), args.dest, force=args.force)
    print(
        f"Wrote the learner copy to {release.dest}: {len(release.files)} files, lessons "
        f"{', '.join(release.lessons)}. Push it as the learners' template repository."
    )
    return EXIT_OK


def _engine(args: argparse.Namespace) -> int:
    from grader import engine
    from grader.provision.base_image import ensure_base_image
    from grader.provision.daemon import ensure_engine

    if args.engine_command == "nested":
        return _nested(args)
    if args.engine_command == "status":
        version = engine.server_version_or_none()
        if version is None:
            from grader.errors import how_to_get_an_engine

            print(f"No Docker engine answers.\nHint: {how_to_get_an_engine()}", file=sys.stderr)
            return EXIT_ERROR
        print(f"Docker engine {version} answers.")
        return EXIT_OK
    if args.engine_command == "up":
        status = ensure_engine()
        client = engine.connect()
        try:
            swept = engine.sweep(client)
            if swept.total:
                print(f"Removed {swept.total} resources left by earlier grader runs.")
            image = ensure_base_image(client)
        finally:
            client.close()
        kind = "a local stand-in" if image.stand_in else "the official image"
        print(
            f"Docker engine {status.server_version} ({status.action}); "
            f"{image.reference}: {image.action} ({kind})."
        )
        return EXIT_OK
    client = engine.connect()
    try:
        report = engine.sweep(client, everything=args.all)
    finally:
        client.close()
    print(
        f"Removed {report.containers} containers, {report.images} images, "
        f"{report.volumes} volumes and {report.networks} networks."
    )
    return EXIT_OK


def _nested(args: argparse.Namespace) -> int:
    from grader import engine
    from grader.provision import nested_engine
    from grader.provision.daemon import ensure_engine

    def say(line: str) -> None:
        print(line, flush=True)

    if args.nested_command == "up":
        ensure_engine(say)
    client = engine.connect()
    try:
        if args.nested_command == "up":
            started = nested_engine.start(client, args.flavour, say)
            # The last line, for `eval`/`export` and for `make modern-engine | tail -1`.
            say(nested_engine.docker_host_line(started.address))
            return EXIT_OK
        if args.nested_command == "down":
            for name in dict.fromkeys(args.flavour):
                nested_engine.stop(client, name, purge=args.purge, say=say)
            return EXIT_OK
        if args.nested_command == "rootfs":
            for family in typing.get_args(nested_engine.Family):
                made = nested_engine.prepare_rootfs(client, family, say)
                say(
                    f"The {family} engine's root filesystem: {'made' if made else 'already there'}."
                )
            return EXIT_OK
        for item in nested_engine.status(client):
            where = f" DOCKER_HOST={item.docker_host}" if item.docker_host else ""
            server = f" {item.server}" if item.server else ""
            if item.state == "running" and item.server is None:
                server = " (its API does not answer)"
            image = "image present" if item.image_present else "no image"
            say(f"{item.flavour}: {item.state}{server}{where} [{image}]")
        return EXIT_OK
    finally:
        client.close()


if __name__ == "__main__":
    raise SystemExit(main())
