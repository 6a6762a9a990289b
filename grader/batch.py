"""Grading a whole class: one folder per student, a bounded pool of workers, resumable.

Each student's feedback lands in ``OUT/STUDENT.json`` and ``OUT/STUDENT.md`` as soon as it
is ready, so an interrupted batch resumes where it stopped; a grade that met a fault (of the
engine or the grader) is retried on the next run, and ``--force`` regrades all.
``OUT/grades.csv`` has one row per student with the columns of ``nbgrader export``
(``student_id, assignment, score, max_score``) followed by each check's points; beside it,
``OUT/canvas.csv`` and ``OUT/moodle.csv`` hold the same grades the way those LMSs import
them (see :mod:`grader.report.lms_gradebook`), and ``OUT/overview.html`` shows the class
at a glance: scores and each check's pass rate (:mod:`grader.report.class_overview`). One
student's failure is recorded and the batch goes on, as nbgrader's converters do.

With a shard (``--shard I/N``) only that share of the class is graded, and ``OUT/shard.json``
says which, once it is done; ``grader batch-merge`` joins the shards' folders
(:mod:`grader.shards`).
"""

from __future__ import annotations

import contextlib
import csv
import json
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from grader.errors import Fault, FaultKind
from grader.report import class_overview, lms_gradebook, markdown
from grader.report.json import dumps
from grader.results import GradeReport
from grader.shards import MANIFEST, Shard, ShardManifest, select
from grader.spec import ExerciseSpec

__all__ = [
    "BatchResult",
    "discover_students",
    "grade_class",
    "merge_gradebooks",
    "read_reports",
    "write_csv",
    "write_lms_csvs",
    "write_overview",
]

NBGRADER_COLUMNS = ["student_id", "assignment", "score", "max_score"]

# Left out of each grading child's environment. In a GitHub Actions job (the grade-class
# workflow's shards) `grader check` would otherwise append every student's whole report to
# the job's summary and outputs: a class's worth of feedback in one page, past GitHub's
# 1 MiB for a step's summary. The class is summarised once, by batch-merge's summary.md.
_JOB_PUBLISHING = frozenset({"GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"})


@dataclass(frozen=True)
class BatchResult:
    graded: list[str]
    """Students graded in this run."""
    resumed: list[str]
    """Students whose earlier feedback was kept."""
    failed: list[str]
    """Students the grader could not grade (their JSON says why)."""
    csv_path: Path
    lms_csv_paths: tuple[Path, ...] = ()
    """The same grades for Canvas and Moodle to import (``canvas.csv``, ``moodle.csv``)."""
    shard: Shard | None = None
    """The share of the class graded (None: all of it)."""
    class_size: int = 0
    """How many students the whole class has (a shard grades some of them)."""
    overview_path: Path | None = None
    """``overview.html``: the class's scores and each check's pass rate, for a browser."""


def discover_students(submissions: Path) -> dict[str, Path]:
    """Student id -> the folder to grade.

    Accepts GitHub Classroom's layout (``SUBMISSIONS/<login>/...``) and nbgrader's
    (``submitted/<student>/<assignment>/...``): inside each student folder, the folder that
    holds a Dockerfile (or the student folder itself).
    """
    students = {}
    for folder in sorted(
        p for p in submissions.iterdir() if p.is_dir() and not p.name.startswith(".")
    ):
        candidates = [
            folder,
            *sorted(p.parent for p in folder.glob("*/Dockerfile")),
            *sorted(p.parent for p in folder.glob("*/*/Dockerfile")),
        ]
        students[folder.name] = next((c for c in candidates if (c / "Dockerfile").exists()), folder)
    return students


# What a `grader check` imports, loaded once by the fork server that starts each grading
# child: importing them in every child cost about 0.6 s of CPU per student, a fifth of a
# class's grading time on two cores. Never "__main__": the batch's own script.
_PRELOADED = ["grader.cli", "grader.commands", "grader.report.json"]
CHILD_MARGIN_S = 120.0
"""How much longer than the spec's total time a grade may take before it is stopped (its
own limits stop it first; this is for a grade that hangs past them)."""
TIMED_OUT_GRACE_S = 60.0
"""How long a grade past its time gets to clean up after SIGTERM before SIGKILL."""
STOP_WAIT_S = 60.0
"""How long a stopped batch waits for its grades to clean up."""
_DETACHED_SIGNALS = (signal.SIGTERM, signal.SIGHUP) if hasattr(signal, "SIGHUP") else ()
"""What the fork server ignores, so that stopping the batch does not kill it first."""


def start_fork_server() -> multiprocessing.context.BaseContext | None:
    """Start the fork server that :class:`GradingChild` forks grades from (once per
    process; later calls find it running), or None where there is none: no fork server
    on the platform (Windows), or not called from the main thread.

    Each child is a fresh fork of a process that imported the grader and did nothing
    else, so no grade sees another's state. The server is kept out of reach of what
    stops the batch: it starts with SIGTERM and SIGHUP ignored, so that a signal to the
    batch's whole process group (CI cancelling a job) cannot kill it under running
    grades, whose exit codes it reports (the children reset both); and with its standard
    streams on /dev/null, so that a reader of the batch's output does not wait for it
    once the batch is gone. A script that calls :func:`grade_class` with it must guard
    its own code with ``if __name__ == "__main__":``, as multiprocessing requires: each
    child imports the script again.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return None
    if threading.current_thread() is not threading.main_thread():
        return None  # signal dispositions can only be set from the main thread
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOADED)
    from multiprocessing import forkserver

    sys.stdout.flush()
    sys.stderr.flush()
    kept = {signum: signal.signal(signum, signal.SIG_IGN) for signum in _DETACHED_SIGNALS}
    streams = [os.dup(fd) for fd in (0, 1, 2)]
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        forkserver.ensure_running()
    finally:
        for fd, stream in enumerate(streams):
            os.dup2(stream, fd)
            os.close(stream)
        os.close(devnull)
        for signum, handler in kept.items():
            signal.signal(signum, handler)
    return context


def _check_in_child(argv: list[str], environment: dict[str, str], folder: str) -> None:
    """A grading child's body: ``grader check ARGV``, its output discarded, its errors
    written to ``FOLDER/stderr`` and its exit code to ``FOLDER/exit-code``."""
    os.environ.clear()
    os.environ.update(environment)
    # The fork server ignores SIGTERM and SIGHUP (see start_fork_server), and a batch
    # started in the background ignores SIGINT: a grade stops on each, as at a terminal.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in _DETACHED_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    os.dup2(os.open(Path(folder) / "stderr", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 2)
    from grader.cli import main

    code = main(argv)
    # The fork server reports a child's exit code once, to whichever thread reads it
    # first (multiprocessing's own clean-up, run by another worker's start, may be that
    # thread, and the next reader gets 255): the child says it itself as well.
    (Path(folder) / "exit-code").write_text(str(code), encoding="utf-8")
    sys.exit(code)


class GradingChild:
    """One student's ``grader check`` in a process of its own: a crash, a hang or a leak
    in one grade stays in it. Forked from ``fork_server`` (:func:`start_fork_server`)
    when given, otherwise a new ``python -m grader``; its errors are kept in a temporary
    folder (not in the class's folder) until :meth:`close`. Only the thread that started
    it waits for it."""

    def __init__(
        self,
        argv: list[str],
        environment: dict[str, str],
        fork_server: multiprocessing.context.BaseContext | None,
    ) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="grader-check-"))
        self._forked: multiprocessing.process.BaseProcess | None = None
        self._popen: subprocess.Popen[bytes] | None = None
        self._signalled: set[int] = set()
        self._signal_lock = threading.Lock()
        try:
            if fork_server is not None:
                self._forked = fork_server.Process(  # type: ignore[attr-defined]
                    target=_check_in_child,
                    args=(argv, environment, str(self.folder)),
                    name="grader-check",
                )
                self._forked.start()
            else:
                with (self.folder / "stderr").open("wb") as stderr:
                    self._popen = subprocess.Popen(
                        [sys.executable, "-m", "grader", *argv],
                        stdout=subprocess.DEVNULL,
                        stderr=stderr,
                        env=environment,
                    )
        except BaseException:
            self.close()
            raise

    def wait(self, timeout: float | None = None) -> int | None:
        """The exit code (negative: the signal that ended it), or None if still running."""
        if self._popen is not None:
            try:
                return self._popen.wait(timeout)
            except subprocess.TimeoutExpired:
                return None
        assert self._forked is not None
        self._forked.join(timeout)
        if self._forked.exitcode is None:
            return None
        try:
            return int((self.folder / "exit-code").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return self._forked.exitcode  # it did not get to say: killed, or it crashed

    def send_signal(self, signum: int) -> None:
        """Signal the child unless it is known to have ended (never waits for it). Each
        signal is sent once: a second SIGINT would cut short the clean-up the first began."""
        with self._signal_lock:
            if signum in self._signalled:
                return
            self._signalled.add(signum)
        with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
            if self._popen is not None:
                self._popen.send_signal(signum)
            elif self._forked is not None and self._forked.pid is not None and self._running():
                os.kill(self._forked.pid, signum)

    def _running(self) -> bool:
        """Not known to have ended. Asked of its sentinel, which turns readable when it
        ends, and never by reading its exit code (see wait), which only its thread does."""
        assert self._forked is not None
        ended = multiprocessing.connection.wait([self._forked.sentinel], timeout=0)
        return not ended and not (self.folder / "exit-code").exists()

    def stderr(self) -> str:
        try:
            return (self.folder / "stderr").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _grade_one(
    student: str,
    folder: Path,
    spec: ExerciseSpec,
    out: Path,
    processes: dict[str, GradingChild],
    stopping: threading.Event,
    fork_server: multiprocessing.context.BaseContext | None = None,
) -> str:
    """Grade in a child process (:class:`GradingChild`)."""
    report_path = out / f"{student}.json"
    argv = [
        "check",
        str(folder),
        "--exercise",
        spec.name,
        "--format",
        "json",
        "--output",
        str(report_path.with_suffix(".partial")),
        "--no-progress",
    ]
    if spec.spec_path is not None:
        argv += ["--course", str(spec.spec_path.parent.parent)]
    environment = {k: v for k, v in os.environ.items() if k not in _JOB_PUBLISHING}
    child = GradingChild(argv, environment, fork_server)
    processes[student] = child
    if stopping.is_set():
        # The batch was stopped while this grade started: stop_grades did not see it.
        child.send_signal(signal.SIGINT)
    try:
        returncode = child.wait(spec.limits.total_timeout_s + CHILD_MARGIN_S)
        timed_out = returncode is None
        if timed_out:
            # Past its own time limit: a hang, not an interruption of the batch.
            child.send_signal(signal.SIGTERM)
            returncode = child.wait(TIMED_OUT_GRACE_S)
            if returncode is None:
                child.send_signal(signal.SIGKILL)
                returncode = child.wait()
        stderr = (
            f"grading took longer than {spec.limits.total_timeout_s:.0f} s and was stopped"
            if timed_out
            else child.stderr()
        )
    finally:
        processes.pop(student, None)
        child.close()
    partial = report_path.with_suffix(".partial")
    interrupted = not timed_out and (
        returncode in (130, 143, -2, -15) or "KeyboardInterrupt" in stderr
    )
    if timed_out:
        partial.unlink(missing_ok=True)  # what a grade stopped midway wrote is not its grade
    if stopping.is_set() or interrupted:
        # Never record an interrupted grade: the student is graded again on resume.
        partial.unlink(missing_ok=True)
        raise KeyboardInterrupt
    if partial.exists():
        data = json.loads(partial.read_text(encoding="utf-8"))
    else:
        # The child writes a report even on faults: without one, it crashed or hung.
        crash = Fault(
            FaultKind.GRADER,
            stderr.strip()[-500:] or "the grader stopped without a report",
            "Not your mistake: this is a bug in the grader: please report it, with this "
            "report; run `grader batch` again to grade this student again.",
        )
        error = GradeReport.from_fault(
            crash, exercise=spec.name, title=spec.title, submission=str(folder)
        )
        data = error.to_dict()
    data["student_id"] = student
    report_path.write_text(dumps(data), encoding="utf-8")
    partial.unlink(missing_ok=True)
    report = GradeReport.from_dict(data)
    (out / f"{student}.md").write_text(markdown.render(report), encoding="utf-8")
    return "failed" if report.fault else "graded"


def stop_grades(
    processes: Mapping[str, GradingChild], futures: Mapping[Future[str], str]
) -> list[str]:
    """Stop a stopped batch's running grades; the students whose grade had to be killed.

    Each grade gets SIGINT and cleans up after itself, as at a terminal; the workers wait
    for their children (one reader of each exit code). A grade still running after
    :data:`STOP_WAIT_S` (stuck in its clean-up), or at a second Ctrl-C, is killed, so that
    Ctrl-C never leaves the batch hanging, and what it made on the engine is removed by its
    run's label, as the next grader run would (:func:`grader.engine.session.sweep`: its
    process is gone). A grade that starts meanwhile stops itself (see :func:`_grade_one`).
    """
    for child in list(processes.values()):
        child.send_signal(signal.SIGINT)
    try:
        _, unfinished = wait(futures, timeout=STOP_WAIT_S)
    except KeyboardInterrupt:  # pressed again: no more waiting
        unfinished = {future for future in futures if not future.done()}
    killed = sorted(futures[future] for future in unfinished if futures[future] in processes)
    if not killed:
        wait(futures, timeout=STOP_WAIT_S)
        return []
    for student in killed:
        if child := processes.get(student):
            child.send_signal(signal.SIGKILL)
    wait(futures, timeout=STOP_WAIT_S)
    print(
        f"grader: the grade of {', '.join(killed)} did not clean up within "
        f"{STOP_WAIT_S:.0f} s of being stopped and was killed; removing what it made …",
        file=sys.stderr,
    )
    from grader.engine.session import connect, sweep
    from grader.errors import GraderError

    try:
        sweep(connect(timeout=30))
    except GraderError as exc:
        print(f"grader: could not remove it: {exc} (`grader engine sweep` will)", file=sys.stderr)
    return killed


def _graded_before(report_path: Path) -> bool:
    """A grade to keep on resume: one that exists and met no fault (a fault is retried)."""
    try:
        return not _read_report(report_path).has_errors
    except (OSError, ValueError, KeyError, TypeError):
        return False  # missing, or not a report this grader wrote: grade again


def grade_class(
    submissions: Path,
    spec: ExerciseSpec,
    out: Path,
    *,
    workers: int = 2,
    force: bool = False,
    show_progress: bool = True,
    shard: Shard | None = None,
    on_done: Callable[[str, str], None] = lambda _student, _outcome: None,
    fork_server: bool = False,
) -> BatchResult:
    """Grade every student in ``submissions`` (or ``shard``'s share of them) into ``out``.

    With ``fork_server`` (as ``grader batch`` does), each grade is forked from a fork
    server that has the grader imported (:func:`start_fork_server`: a calling script
    needs an ``if __name__ == "__main__":`` guard); otherwise each is a new interpreter.
    """
    everyone = discover_students(submissions)
    mine = everyone if shard is None else select(everyone, shard)
    students = {student: everyone[student] for student in mine}
    out.mkdir(parents=True, exist_ok=True)
    # Written last, once the shard is graded: a manifest left from an earlier run of this
    # folder must not vouch for this one before it is done.
    (out / MANIFEST).unlink(missing_ok=True)
    done = set() if force else {s for s in students if _graded_before(out / f"{s}.json")}
    todo = [s for s in students if s not in done]
    graded: list[str] = []
    failed: list[str] = []
    processes: dict[str, GradingChild] = {}
    stopping = threading.Event()
    lock = threading.Lock()
    progress = Progress(
        TextColumn("[bold]Grading[/] {task.completed}/{task.total}"),
        BarColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        disable=not show_progress,
        transient=False,
    )
    server = start_fork_server() if fork_server and todo else None
    with progress, ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        task = progress.add_task("", total=len(students), completed=len(done))
        futures: dict[Future[str], str] = {
            pool.submit(_grade_one, s, students[s], spec, out, processes, stopping, server): s
            for s in todo
        }
        try:
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    student = futures[future]
                    outcome = future.result()  # a child's interruption re-raises here
                    with lock:
                        (failed if outcome == "failed" else graded).append(student)
                    progress.update(task, advance=1, description=student)
                    on_done(student, outcome)
        except BaseException:
            stopping.set()
            for future in futures:
                future.cancel()
            stop_grades(processes, futures)
            raise
    reports = read_reports(out, students)
    csv_path = write_csv(out, reports, spec)
    lms_csv_paths = write_lms_csvs(out, reports, spec)
    overview_path = write_overview(out, reports, spec)
    if shard is not None:
        ShardManifest.of(shard, spec.name, everyone).write(out)
    return BatchResult(
        graded, sorted(done), failed, csv_path, lms_csv_paths, shard, len(everyone), overview_path
    )


def _read_report(path: Path) -> GradeReport:
    return GradeReport.from_dict(json.loads(path.read_text(encoding="utf-8")))


def read_reports(out: Path, students: Mapping[str, Path]) -> dict[str, GradeReport]:
    """Every graded student's report in ``out`` (read once, for all the class files)."""
    return {
        student: _read_report(path)
        for student in students
        if (path := out / f"{student}.json").exists()
    }


def write_csv(out: Path, reports: Mapping[str, GradeReport], spec: ExerciseSpec) -> Path:
    """``OUT/grades.csv``: nbgrader's columns, then each check's points."""
    rows, check_ids = [], []
    for student, report in reports.items():
        points = {c.id: c.points for c in report.checks}
        check_ids += [c for c in points if c not in check_ids]
        rows.append(
            {
                "student_id": student,
                "assignment": spec.name,
                "score": report.score,
                "max_score": report.max_score,
                **points,
            }
        )
    csv_path = out / "grades.csv"
    with csv_path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=NBGRADER_COLUMNS + check_ids, restval="")
        writer.writeheader()
        writer.writerows(rows)
    return csv_path


def write_lms_csvs(
    out: Path, reports: Mapping[str, GradeReport], spec: ExerciseSpec
) -> tuple[Path, Path]:
    """``OUT/canvas.csv`` and ``OUT/moodle.csv`` from the students' reports."""
    canvas, moodle = out / "canvas.csv", out / "moodle.csv"
    canvas.write_text(lms_gradebook.render_canvas(reports, spec.title), encoding="utf-8")
    moodle.write_text(lms_gradebook.render_moodle(reports, spec.title), encoding="utf-8")
    return canvas, moodle


def write_overview(out: Path, reports: Mapping[str, GradeReport], spec: ExerciseSpec) -> Path:
    """``OUT/overview.html``: the class at a glance, the checks in the spec's order."""
    path = out / "overview.html"
    check_order = [c.id for c in spec.checks]
    path.write_text(
        class_overview.render(reports, title=spec.title, check_order=check_order),
        encoding="utf-8",
    )
    return path


def nbgrader_csv_problem(path: Path) -> str:
    """What keeps ``path`` from being merged as ``nbgrader export``'s CSV ('' if nothing)."""
    if not path.is_file():
        return "no such file: run `nbgrader export --to FILE.csv` first"
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError) as exc:
        return f"cannot be read as CSV ({exc})"
    missing = [column for column in NBGRADER_COLUMNS if column not in header]
    if missing:
        return (
            f"not nbgrader's export: it lacks the columns {', '.join(missing)} "
            f"(it has {', '.join(header) or 'no header'})"
        )
    return ""


def merge_gradebooks(exercise_csv: Path, nbgrader_csv: Path, target: Path) -> Path:
    """One row per student and assignment: nbgrader's export plus the exercise's grades."""
    with nbgrader_csv.open() as handle:
        nb_rows = list(csv.DictReader(handle))
    with exercise_csv.open() as handle:
        ex_rows = list(csv.DictReader(handle))
    rows = [{k: row.get(k, "") for k in NBGRADER_COLUMNS} for row in nb_rows + ex_rows]
    totals: dict[str, tuple[float, float]] = {}
    for row in rows:
        score, max_score = totals.get(row["student_id"], (0.0, 0.0))
        totals[row["student_id"]] = (
            score + float(row["score"] or 0),
            max_score + float(row["max_score"] or 0),
        )
    rows += [
        {"student_id": s, "assignment": "TOTAL", "score": round(sc, 2), "max_score": round(mx, 2)}
        for s, (sc, mx) in sorted(totals.items())
    ]
    with target.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=NBGRADER_COLUMNS)
        writer.writeheader()
        writer.writerows(sorted(rows, key=lambda r: (r["student_id"], r["assignment"])))
    return target
