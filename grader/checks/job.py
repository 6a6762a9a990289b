"""Checks of a batch job (an exercise with a ``[job]`` spec): run it to its end and judge
its exit status, its output file, and how it behaves under production's restrictions.

The job runs first as production would run it: the input read-only, no network, a
read-only root filesystem with a tmpfs for ``/tmp`` (:class:`JobRestrictions`). When that
run fails, the grader runs it again without restrictions, then with one at a time, so
that each restriction's check is failed only by the restriction that broke the job, and
the output is still judged when only a restriction broke it. A job that succeeds first
time costs one run, plus one per malformed input.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from grader.checks.base import EngineContext, Needs, Verdict, check
from grader.engine import missing_program
from grader.engine.jobs import JobRestrictions, JobRun, fill_volume, run_job
from grader.probes import matches
from grader.run import container_limits, trimmed
from grader.spec import JobInput, JobScenario, MalformedInput

__all__ = [
    "JobRuns",
    "job_completes",
    "job_output_correct",
    "job_output_not_root",
    "job_read_only_root",
    "job_rejects_malformed_input",
    "job_runs",
    "job_runs_offline",
]

TOLERANCE = 1e-3


@dataclass(frozen=True)
class JobRuns:
    """What the runs of one grade showed (computed once, read by every job check)."""

    restricted: JobRun
    """The run with every restriction."""
    main: JobRun
    """The run the output is judged on: the restricted one, or the unrestricted one when
    only the restrictions made the job fail."""
    offline: JobRun | None = None
    """The run that decides ``job_runs_offline`` (None: the job fails anyway)."""
    read_only: JobRun | None = None
    """The run that decides ``job_read_only_root`` (None: the job fails anyway)."""
    malformed: tuple[tuple[MalformedInput, JobRun], ...] = ()


def _files(inputs: list[JobInput]) -> dict[str, bytes]:
    return {item.file: item.text.encode("utf-8") for item in inputs}


def job_runs(ctx: EngineContext) -> JobRuns:
    """Run the job as many times as its verdicts need (see the module's docstring)."""
    job, session, image = ctx.spec.job, ctx.session, ctx.image
    assert job is not None
    assert image is not None
    limits = container_limits(ctx.spec)
    tmpfs = tuple(job.tmpfs)
    volumes: list[str] = []

    def run(inputs: str, restrictions: JobRestrictions, purpose: str) -> JobRun:
        return run_job(
            session,
            image,
            input_volume=inputs,
            input_dir=job.input_dir,
            output_dir=job.output_dir,
            limits=limits,
            restrictions=restrictions,
            timeout_s=job.timeout_s,
            purpose=purpose,
        )

    def filled(purpose: str, inputs: list[JobInput]) -> str:
        volumes.append(fill_volume(session, purpose, _files(inputs)))
        return volumes[-1]

    try:
        good = filled("job-input", job.inputs)
        restricted = run(good, JobRestrictions(tmpfs=tmpfs), "job")
        main, offline, read_only = restricted, restricted, restricted
        if not restricted.succeeded:
            free = run(good, JobRestrictions(network=True, read_only_root=False), "job-free")
            if free.succeeded:
                main = free
                offline = run(good, JobRestrictions(read_only_root=False), "job-offline")
                # Offline alone works: the read-only root is what broke the restricted run.
                read_only = (
                    restricted
                    if offline.succeeded
                    else run(good, JobRestrictions(network=True, tmpfs=tmpfs), "job-read-only")
                )
            else:
                main, offline, read_only = free, None, None
        malformed: list[tuple[MalformedInput, JobRun]] = []
        if main.succeeded and ctx.spec.check("job_rejects_malformed_input") is not None:
            for number, case in enumerate(job.malformed):
                bad = filled(f"job-malformed-{number}", case.inputs)
                malformed.append((case, run(bad, main.restrictions, f"job-malformed-{number}")))
        return JobRuns(restricted, main, offline, read_only, tuple(malformed))
    finally:
        for volume in volumes:
            session.remove_volume(volume)


def _job(ctx: EngineContext) -> JobScenario:
    assert ctx.spec.job is not None
    return ctx.spec.job


def _cmd_example(ctx: EngineContext) -> str:
    command = ctx.spec.start_command
    return f"`CMD {json.dumps(command)}`" if command else '`CMD ["program", "arg"]`'


def _cmd_line(ctx: EngineContext) -> int | None:
    found = ctx.dockerfile.last("CMD", "ENTRYPOINT")
    return found.line if found is not None else None


def _last_line(logs: str) -> str:
    lines = [line.strip() for line in logs.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(it printed nothing)"


def _ended(run: JobRun) -> str:
    if run.timed_out:
        return "was still running at its time limit and was stopped"
    return f"exited {run.exit_code}"


def _cause(run: JobRun, ctx: EngineContext) -> tuple[str, str]:
    """Why a run failed, from how it ended and its log: (cause, hint)."""
    job, logs = _job(ctx), run.logs
    user = str(ctx.session.image_attrs(ctx.image or "").get("Config", {}).get("User") or "")
    if run.timed_out:
        return (
            f"it did not finish within {job.timeout_s:.0f} s",
            "A batch job must end on its own: CMD runs the scoring script once and exits "
            "(no server, no `sleep`, no loop).",
        )
    if run.oom_killed or run.exit_code == 137:
        return (
            f"it was killed for using more than {ctx.spec.limits.run_memory_mb} MB of memory",
            "Score the input in one process; the job needs well under this limit.",
        )
    if missing := missing_program(logs):
        program, said = missing
        return (
            f"the program `{program}` that CMD/ENTRYPOINT start is not in the image ({said})",
            f"Check the spelling of CMD: `{program}` must be a program in the image, e.g. "
            f"{_cmd_example(ctx)}.",
        )
    if "No module named" in logs:
        return (
            "a Python package the job imports is not installed in the image",
            f"Install the dependencies at build time: `RUN pip install --no-cache-dir -r "
            f"{ctx.spec.dependency_file}`.",
        )
    if "cannot load the model" in logs or "can't open file" in logs:
        return (
            "a file the job needs is not in the image",
            f"Copy the job's code (`{ctx.spec.app_code_file}`) and every file it loads (the "
            "log names the missing one) into the image, in the WORKDIR that CMD runs in.",
        )
    if f"cannot write to {job.output_dir}" in logs or "Permission denied" in logs:
        who = f"`{user}`" if user else "the job's user"
        return (
            f"{who} cannot write to {job.output_dir}",
            f"Give the job's user the output folder in the image, before `USER`: "
            f"`RUN mkdir -p {job.output_dir} && chown {user or ctx.spec.user} {job.output_dir}`; an "
            "empty volume mounted there takes that folder's owner.",
        )
    if "no *.csv file in" in logs:
        return (
            f"it found no input: it looked somewhere else than {job.input_dir}",
            f"Leave INPUT_DIR at its default ({job.input_dir}): the input is mounted there.",
        )
    return (
        f"its last words: {_last_line(logs)}",
        f'Run it yourself: `docker run --rm -v "$PWD/INPUT:{job.input_dir}:ro" '
        f"-v out:{job.output_dir} IMAGE` and read the error at the end of its output.",
    )


@check(
    "job_completes",
    "The job runs to completion on its input (exit 0)",
    Needs.JOB,
    10,
    announce="Running the job on its input",
)
def job_completes(ctx: EngineContext) -> Verdict:
    runs = ctx.once(job_runs)
    main, details = runs.main, trimmed(runs.main.logs, ctx.spec.limits)
    if main.succeeded:
        how = (
            f"with {main.restrictions.flags()}"
            if main is runs.restricted
            else "once run without restrictions (the checks below say which one broke it)"
        )
        return Verdict.passed(
            f"The job exited 0 in {main.seconds:.1f} s {how}: {_last_line(main.logs)}",
            details=details,
        )
    cause, hint = _cause(main, ctx)
    said = "" if cause.startswith("its last words") else f" ({_last_line(main.logs)})"
    return Verdict.failed(
        f"The job {_ended(main)}: {cause}{said}. It fails the same way without "
        f"{runs.restricted.restrictions.flags()}.",
        hint,
        line=_cmd_line(ctx),
        details=details,
    )


def _rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig", errors="replace"))))


def _same(expected: Any, found: str | None) -> bool:
    """A CSV cell against the spec's value: numbers as the probes compare them."""
    if found is None:
        return False
    if isinstance(expected, bool) or not isinstance(expected, int | float):
        return str(expected) == found.strip()
    try:
        return matches(expected, float(found), TOLERANCE)
    except ValueError:
        return False


def _differences(expected: list[dict[str, Any]], rows: list[dict[str, str]]) -> list[str]:
    found = []
    if len(rows) != len(expected):
        found.append(f"it has {len(rows)} rows, expected {len(expected)}")
    for number, (want, row) in enumerate(zip(expected, rows, strict=False), start=1):
        for column, value in want.items():
            if column not in row:
                found.append(f"it has no column `{column}`")
                return found
            if not _same(value, row[column]):
                found.append(f"row {number}: `{column}` is {row[column]!r}, expected {value!r}")
    return found


@check("job_output_correct", "The job writes the expected predictions", Needs.JOB, 12)
def job_output_correct(ctx: EngineContext) -> Verdict:
    job, runs = _job(ctx), ctx.once(job_runs)
    if not runs.main.succeeded:
        return Verdict.skipped("Skipped: the job did not complete.")
    written = runs.main.outputs.get(job.output_file)
    where = f"{job.output_dir}/{job.output_file}"
    if written is None:
        others = ", ".join(sorted(runs.main.outputs)) or "nothing"
        return Verdict.failed(
            f"The job exited 0 but wrote no {where} (it left {others} in {job.output_dir}).",
            f"Leave OUTPUT_DIR at its default ({job.output_dir}): the grader, like the "
            "scheduler, collects the output from there.",
            line=_cmd_line(ctx),
        )
    differences = _differences(job.expect_rows, _rows(written.content))
    if differences:
        return Verdict.failed(
            f"{where} is not the expected output: {'; '.join(differences[:5])}.",
            f"Run the job's own script unchanged on the input ({_cmd_example(ctx)}) with the "
            "model it was given.",
            line=_cmd_line(ctx),
            details=written.content.decode("utf-8", errors="replace")[:4000],
        )
    return Verdict.passed(f"{where} has the {len(job.expect_rows)} expected predictions.")


def _restriction_verdict(
    ctx: EngineContext, decisive: JobRun | None, flags: str, what: str, hint: str
) -> Verdict:
    if decisive is None:
        return Verdict.skipped("Skipped: the job does not complete even without restrictions.")
    if decisive.succeeded:
        return Verdict.passed(f"The job exited 0 with {flags}.")
    return Verdict.failed(
        f"With {flags} the job {_ended(decisive)}, and without it the job succeeds: {what}. "
        f"Its last words: {_last_line(decisive.logs)}",
        hint,
        line=_cmd_line(ctx),
        details=trimmed(decisive.logs, ctx.spec.limits),
    )


@check("job_runs_offline", "The job runs with no network (--network none)", Needs.JOB, 4)
def job_runs_offline(ctx: EngineContext) -> Verdict:
    return _restriction_verdict(
        ctx,
        ctx.once(job_runs).offline,
        "`--network none`",
        "it needs the network at run time",
        "Install everything at build time (`RUN pip install …`) and copy the model into the "
        "image; CMD must not install or download anything: a nightly job runs where "
        "nothing can be fetched.",
    )


@check(
    "job_read_only_root",
    "The job runs with a read-only root filesystem (--read-only)",
    Needs.JOB,
    4,
)
def job_read_only_root(ctx: EngineContext) -> Verdict:
    job = _job(ctx)
    tmpfs = " ".join(f"--tmpfs {path}" for path in job.tmpfs)
    folders = [job.output_dir, *job.tmpfs]
    writable = f"{', '.join(folders[:-1])} and {folders[-1]}" if len(folders) > 1 else folders[0]
    return _restriction_verdict(
        ctx,
        ctx.once(job_runs).read_only,
        f"`--read-only {tmpfs}`",
        f"it writes outside {writable}",
        f"Write only to {writable} at run time; anything else (installs, caches, a copy of "
        "the model) belongs in the image, made at build time.",
    )


@check(
    "job_rejects_malformed_input",
    "A malformed input makes the job fail, say why, and write nothing",
    Needs.JOB,
    4,
)
def job_rejects_malformed_input(ctx: EngineContext) -> Verdict:
    job, runs = _job(ctx), ctx.once(job_runs)
    if not runs.main.succeeded:
        return Verdict.skipped("Skipped: the job does not complete on good input.")
    for case, run in runs.malformed:
        if run.succeeded:
            return Verdict.failed(
                f"With {case.name}, the job exited 0: a scheduler would record the night's "
                "scoring as a success.",
                f"Let the script's exit status through: exec-form {_cmd_example(ctx)}, with "
                "nothing after it such as `|| true` or `; exit 0`.",
                line=_cmd_line(ctx),
                details=trimmed(run.logs, ctx.spec.limits),
            )
        if job.output_file in run.outputs:
            return Verdict.failed(
                f"With {case.name}, the job {_ended(run)} but left a {job.output_file}: the "
                "next step would read a broken file.",
                "Run the job's own script unchanged: it writes nothing when an input is bad.",
                line=_cmd_line(ctx),
            )
        if not run.logs.strip():
            return Verdict.failed(
                f"With {case.name}, the job {_ended(run)} without a word: nobody can tell why.",
                "Let the script's messages reach the log (do not redirect its output away).",
                line=_cmd_line(ctx),
            )
    names = ", ".join(case.name for case, _ in runs.malformed)
    return Verdict.passed(f"The job refused {names}, said why and wrote nothing.")


@check("job_output_not_root", "The job's output is not written by root", Needs.JOB, 3)
def job_output_not_root(ctx: EngineContext) -> Verdict:
    job, runs = _job(ctx), ctx.once(job_runs)
    written = runs.main.outputs.get(job.output_file)
    if not runs.main.succeeded or written is None:
        return Verdict.skipped("Skipped: the job wrote no output.")
    if written.uid != 0:
        return Verdict.passed(f"{job.output_file} was written by uid {written.uid}, not root.")
    user = ctx.spec.user
    return Verdict.failed(
        f"{job.output_file} was written by root (uid 0): the job runs as root, so a flaw in "
        "it or its dependencies could do anything root can.",
        f"Create a user and switch to it before CMD (`RUN useradd --create-home {user}`, "
        f"`USER {user}`), and give it the output folder: `RUN mkdir -p {job.output_dir} && "
        f"chown {user} {job.output_dir}`.",
        line=_cmd_line(ctx),
    )
