"""Parsing the classic builder's stream: steps, cache hits, timings, errors, floods."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from grader.build_stream import BuildLog, TrimmedOutput
from grader.engine.buildkit_trace import _status_response_class

# Recorded from dockerd 20.10 (classic builder, docker SDK api.build(decode=True)).
RECORDED = [
    {"stream": "Step 1/5 : FROM python:3.11-slim"},
    {"stream": "\n"},
    {"stream": " ---> 0d47b895cc53\n"},
    {"stream": "Step 2/5 : WORKDIR /app\n"},
    {"stream": " ---> Using cache\n"},
    {"stream": " ---> 0823f86dc10a\n"},
    {"stream": "Step 3/5 : COPY requirements.txt .\n"},
    {"stream": " ---> 1222281eb931\n"},
    {"stream": "Step 4/5 : RUN pip install --no-cache-dir -r requirements.txt\n"},
    {"stream": " ---> Running in 5deb1a9e53b9\n"},
    {"stream": "Collecting fastapi==0.165.0\n"},
    {"stream": "\u001b[91mWARNING: Running pip as the 'root' user\n\u001b[0m"},
    {"stream": "Removing intermediate container 5deb1a9e53b9\n"},
    {"stream": " ---> 39a69f06c008\n"},
    {"stream": 'Step 5/5 : CMD ["uvicorn"]\n'},
    {"stream": " ---> Running in 73b6f2025c31\n"},
    {"stream": "Removing intermediate container 73b6f2025c31\n"},
    {"stream": " ---> 7b1b4f567d01\n"},
    {"aux": {"ID": "sha256:7b1b4f567d01aaaa"}},
    {"stream": "Successfully built 7b1b4f567d01\n"},
]


def _feed(chunks: list[dict], log: BuildLog | None = None) -> BuildLog:
    log = log or BuildLog()
    for second, chunk in enumerate(chunks):
        log.feed(chunk, now=float(second))
    log.finish(now=float(len(chunks)))
    return log


def test_steps_cache_hits_and_layers_are_read() -> None:
    """Are steps, cache hits, executions and layer ids read from a recorded stream?"""
    log = _feed(RECORDED)
    assert log.succeeded
    assert log.image_id == "sha256:7b1b4f567d01aaaa"
    assert [(s.number, s.keyword, s.cached, s.executed) for s in log.steps] == [
        (1, "FROM", False, False),
        (2, "WORKDIR", True, False),
        (3, "COPY", False, False),
        (4, "RUN", False, True),
        (5, "CMD", False, True),
    ]
    assert log.steps[3].output.text() == (
        "Collecting fastapi==0.165.0\nWARNING: Running pip as the 'root' user"
    )
    assert log.new_layer_ids() == ["1222281eb931", "39a69f06c008", "7b1b4f567d01"]


def test_step_timings_come_from_chunk_arrival() -> None:
    """Is each step's duration the time until its layer was ready?"""
    log = _feed(RECORDED)
    run_step = log.steps[3]
    assert run_step.seconds == 13.0 - 8.0


def test_classic_timeline_starts_each_step_where_the_last_ended() -> None:
    """With the classic builder, does each step start (for the timeline) when its
    `Step N/M` line came, counted from the first step's?"""
    log = _feed(RECORDED)
    offsets = [log.started_offset(s) for s in log.steps]
    # Step 1's line ends with the second chunk (second 1), step 2's is chunk 3 …
    assert offsets == [0.0, 2.0, 5.0, 7.0, 13.0]
    run_step = log.steps[3]
    # It lasted until its layer was ready (second 13), a chunk before step 5's line.
    assert offsets[3] + run_step.seconds == 12.0 < offsets[4]
    assert all(s.engine_started is None for s in log.steps)


def test_error_chunk_ends_the_build_with_code() -> None:
    """Is a failed RUN read as an error on the step that was running?"""
    chunks = [
        *RECORDED[:10],
        {"stream": "ERROR: No matching distribution found for fastapi==99\n"},
        {
            "error": "The command '/bin/sh -c pip install' returned a non-zero code: 1",
            "errorDetail": {"code": 1, "message": "..."},
        },
    ]
    log = _feed(chunks)
    assert not log.succeeded
    assert log.current is not None
    assert log.current.number == 4
    assert log.error_code == 1
    assert "No matching distribution" in log.current.output.last_lines(3)


def test_flooding_output_is_trimmed_to_head_and_tail() -> None:
    """Does a build that prints a million lines keep only the head and tail, saying so?"""
    log = BuildLog(head_lines=3, tail_lines=4)
    log.feed({"stream": "Step 1/2 : RUN yes | head -n 1000000\n"}, now=0)
    log.feed({"stream": " ---> Running in abc\n"}, now=0)
    for index in range(100_000):
        log.feed({"stream": f"y {index}\n"}, now=1)
    text = log.current.output.text()
    assert text.splitlines()[:3] == ["y 0", "y 1", "y 2"]
    assert "[99993 lines cut]" in text
    assert text.splitlines()[-1] == "y 99999"


def test_very_long_lines_are_cut() -> None:
    """Is a single enormous line shortened, with the cut said?"""
    output = TrimmedOutput()
    output.add("x" * 10_000)
    assert output.text().endswith("[8000 characters cut]")


def test_partial_lines_across_chunks_are_joined() -> None:
    """Are lines split across chunks put back together?"""
    log = _feed(
        [
            {"stream": "Step 1/1 : RUN echo"},
            {"stream": " hi\n ---> Runn"},
            {"stream": "ing in abc\nhello\n"},
        ]
    )
    assert log.steps[0].instruction == "RUN echo hi"
    assert log.steps[0].executed
    assert log.steps[0].output.text() == "hello"


def test_engine_without_step_lines_is_an_error_for_the_cache_proof() -> None:
    """Does an engine that builds without reporting steps give `error`, not a wrong verdict?"""
    from grader.cache_probe import _unreached
    from grader.results import CheckStatus

    log = _feed([{"stream": "STEP 1: FROM python:3.11-slim\n"}, {"aux": {"ID": "sha256:abc"}}])
    verdict = _unreached(log, False, "an edit to app/main.py")
    assert verdict.status is CheckStatus.ERROR
    assert "classic builder" in verdict.hint


# --- BuildKit ------------------------------------------------------------------------------

RECORDINGS = Path(__file__).parent / "recordings"


def _recorded(name: str) -> list[dict]:
    """A build's raw Engine API stream, recorded from dockerd 20.10 with BuildKit."""
    lines = (RECORDINGS / name).read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_buildkit_cache_hits_come_from_the_cached_flag() -> None:
    """After an app edit, are the steps before the app COPY cached and the COPY re-run?"""
    log = _feed(
        _recorded("buildkit-20.10--app-edit-install-cached.jsonl"), BuildLog(builder="buildkit")
    )
    assert log.succeeded
    assert log.image_id is not None
    assert log.image_id.startswith("sha256:")
    # BuildKit reports the base image as resolved afresh (started, not cached).
    assert [(s.number, s.keyword, s.cached, s.executed) for s in log.steps] == [
        (1, "FROM", False, True),
        (2, "WORKDIR", True, False),
        (3, "COPY", True, False),
        (4, "RUN", True, False),
        (5, "RUN", True, False),
        (6, "COPY", False, True),
        (7, "COPY", False, True),
    ]
    assert log.steps[3].instruction == "RUN pip install --no-cache-dir -r requirements.txt"
    assert all(s.stage is None and s.total == 7 for s in log.steps)
    assert log.steps[3].label == "[4/7]"


def test_buildkit_timeline_uses_the_engines_vertex_times() -> None:
    """Do BuildKit's steps start (for the timeline) when the engine says their vertexes
    started, whatever the grader's clock, and last from start to completion?"""
    log = BuildLog(builder="buildkit")
    for chunk in _recorded("buildkit-20.10--app-edit-install-cached.jsonl"):
        log.feed(chunk, now=1000.0)  # the grader's clock stands still: only BuildKit's counts
    log.finish(now=1000.0)
    offsets = [log.started_offset(s) for s in log.steps]
    # Recorded: FROM at …29.1431, the cached steps at …29.1518, COPY app/ at …29.1521 (9 ms),
    # COPY model/ at …29.1625 (9 ms).
    assert [round(o or 0, 4) for o in offsets] == [
        0.0,
        0.0087,
        0.0087,
        0.0087,
        0.0087,
        0.009,
        0.0193,
    ]
    assert [round(s.seconds, 4) for s in log.steps] == [0.0002, 0.0, 0.0, 0.0, 0.0, 0.0092, 0.0089]


def test_buildkit_stage_labels_are_kept() -> None:
    """Are the steps of a named and an unnamed stage told apart, as BuildKit names them?"""
    log = _feed(
        _recorded("buildkit-20.10--multi-stage-app-edit.jsonl"), BuildLog(builder="buildkit")
    )
    labels = {(s.stage, s.number): s for s in log.steps}
    install = labels[("builder", 4)]
    assert install.keyword == "RUN"
    assert install.cached
    assert "/opt/venv/bin/pip install" in install.instruction
    assert labels[("stage-1", 5)].instruction == "COPY . ."
    assert not labels[("stage-1", 5)].cached
    assert install.label == "[builder 4/4]"


def test_buildkit_failure_names_the_step_and_keeps_its_output() -> None:
    """Does a failing RUN become the failed step, with its output and the engine's error?"""
    log = _feed(_recorded("buildkit-20.10--run-fails.jsonl"), BuildLog(builder="buildkit"))
    assert not log.succeeded
    assert log.error is not None
    assert "exit code: 2" in log.error
    step = log.failed_step
    assert step is not None
    assert (step.number, step.keyword) == (3, "RUN")
    assert step.error
    assert "about to fail" in step.output.text()
    assert "No such file or directory" in step.output.text()


def test_buildkit_done_is_announced_once_per_step() -> None:
    """BuildKit repeats a finished vertex: is each step still shown as done only once?"""
    log = BuildLog(builder="buildkit")
    done = [
        e.step.number
        for chunk in _recorded("buildkit-20.10--app-edit-install-cached.jsonl")
        for e in log.feed(chunk, now=0.0)
        if e.kind == "done" and e.step is not None
    ]
    assert sorted(done) == [1, 2, 3, 4, 5, 6, 7]


def test_buildkit_current_step_is_the_one_that_started_last() -> None:
    """BuildKit announces every step up front: is the running one still "current"?"""
    message = _status_response_class()()
    for digest, name in (("sha256:c", "[3/3] RUN sleep 3600"), ("sha256:b", "[2/3] WORKDIR /app")):
        message.vertexes.add(digest=digest, name=name)
    running = message.vertexes.add(digest="sha256:c", name="[3/3] RUN sleep 3600")
    running.started.seconds = 10
    log = BuildLog(builder="buildkit")
    log.feed(
        {"id": "moby.buildkit.trace", "aux": base64.b64encode(message.SerializeToString()).decode()}
    )
    assert [s.number for s in log.steps] == [3, 2]
    assert log.current is not None
    assert log.current.instruction == "RUN sleep 3600"
    assert log.failed_step is log.current


# Recorded from Podman 5.4 behind its Docker-compatible API (buildah's output).
PODMAN = [
    {"stream": "STEP 1/5: FROM python:3.11-slim\n"},
    {"stream": "STEP 2/5: WORKDIR /app\n"},
    {
        "stream": "--> Using cache e2a62e7a94d8c4df4726173976a6dad9ac121cfab1aa6b804120be0ad62b15e3\n"
    },
    {"stream": "--> e2a62e7a94d8\n"},
    {"stream": "STEP 3/5: COPY requirements.txt .\n"},
    {"stream": "--> fe025cde1258\n"},
    {"stream": "STEP 4/5: RUN pip install --no-cache-dir -r requirements.txt\n"},
    {"stream": "Collecting fastapi==0.165.0\n"},
    {"stream": "--> 9d3e79d16449\n"},
    {"stream": 'STEP 5/5: CMD ["uvicorn"]\n'},
    {"stream": "COMMIT\n"},
    {"stream": "--> 9aab58d712cb\n"},
    {"stream": "9aab58d712cb53ecf0621310975ed3dd9fadc7203d2b1f023a0fbecda81d72b6\n"},
    {"aux": {"ID": "sha256:9aab58d712cb53ecf0621310975ed3dd9fadc7203d2b1f023a0fbecda81d72b6"}},
    {"stream": "Successfully built 9aab58d712cb\n"},
]


def test_podman_steps_and_cache_hits_are_read() -> None:
    """Are buildah's STEP lines, cache hits and running steps read like Docker's?"""
    log = _feed(PODMAN)
    assert log.succeeded
    assert [(s.number, s.keyword, s.cached, s.executed, s.dialect) for s in log.steps] == [
        (1, "FROM", False, False, "podman"),
        (2, "WORKDIR", True, False, "podman"),
        (3, "COPY", False, False, "podman"),
        (4, "RUN", False, True, "podman"),
        (5, "CMD", False, False, "podman"),
    ]
    assert log.steps[3].output.text() == "Collecting fastapi==0.165.0"
    assert log.steps[3].label == "STEP 4/5"
    assert "COMMIT" not in log.output.text()
