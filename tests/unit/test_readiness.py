"""The readiness wait reads the container's socket table and decides as soon as it is sure."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from grader.api import grade_with_spec
from grader.listening_sockets import Listener
from grader.results import CheckStatus
from grader.run import RunOutcome, SocketWatch, start_and_wait
from grader.spec import CheckSpec, ExerciseSpec, load_spec
from grader.workspace import Workspace
from tests.unit.fake_engine import RECORDED_DOCKERFILE, FakeContainer, FakeSession, recorded

ROOT = Path(__file__).resolve().parents[2]
CACHED_INSTALL = "buildkit-20.10--app-edit-install-cached.jsonl"
HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"


def table(*rows: tuple[str, int]) -> str:
    """A /proc/net/tcp(6) text with these (hex address, port) sockets listening."""
    return HEADER + "".join(
        f"   0: {address}:{port:04X} {'0' * len(address)}:0000 0A 0 0 0 0 0 0 1 1\n"
        for address, port in rows
    )


LOOPBACK, ANY, ANY6 = "0100007F", "00000000", "0" * 32


def spec_for(readiness_s: float = 30, *, extra: bool = False) -> ExerciseSpec:
    spec = load_spec(ROOT / "exercises" / "model-api.toml")
    checks = [
        CheckSpec(id=c, points=1, required=c == "serves_predict")
        for c in ("builds", "serves_predict", "rejects_invalid_input")
    ]
    limits = spec.limits.model_copy(update={"readiness_timeout_s": readiness_s})
    update: dict[str, object] = {"checks": checks, "limits": limits}
    if not extra:
        update["extra_checks"] = None
    return spec.model_copy(update=update)


@pytest.fixture
def submission(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(RECORDED_DOCKERFILE)
    return tmp_path


def grade_listening(submission: Path, listening: str, **spec: object):  # type: ignore[no-untyped-def]
    engine = FakeSession(builds=[recorded(CACHED_INSTALL)], listening=listening)
    report = grade_with_spec(spec_for(**spec), submission, open_engine=engine)  # type: ignore[arg-type]
    return report, {c.id: c for c in report.checks}, engine


def test_a_loopback_bind_fails_long_before_the_wait_runs_out(submission: Path) -> None:
    """Is uvicorn on 127.0.0.1:8000 failed from the socket table, naming it and the fix,
    well within a 30 s readiness wait?"""
    report, checks, _ = grade_listening(submission, table((LOOPBACK, 8000)))
    serves = checks["serves_predict"]
    assert serves.status is CheckStatus.FAILED
    assert "listens on 127.0.0.1:8000 only" in serves.message
    assert "--host 0.0.0.0" in serves.hint
    assert checks["rejects_invalid_input"].status is CheckStatus.SKIPPED
    # The socket table's verdict, not the wait's (benchmarks/verdict_times.py times it).
    assert "within 30 s" not in serves.message
    assert not report.fault


def test_another_port_is_named_with_the_port_fix(submission: Path) -> None:
    """Is a server on 0.0.0.0:5000 failed with the socket it found and `--port 8000`?"""
    _, checks, _ = grade_listening(submission, table((ANY, 5000)))
    serves = checks["serves_predict"]
    assert "listens on 0.0.0.0:5000" in serves.message
    assert "not on port 8000" in serves.message
    assert "--port 8000" in serves.hint
    assert "EXPOSE 8000" in serves.hint


def test_an_ipv6_socket_that_refuses_ipv4_is_ipv6_only(submission: Path) -> None:
    """Is `::` on port 8000, with the published port refusing requests, failed as IPv6 only?"""
    _, checks, _ = grade_listening(submission, table((ANY6, 8000)))
    serves = checks["serves_predict"]
    assert "listens on [::]:8000" in serves.message
    assert "IPv6 only" in serves.message
    assert "--host 0.0.0.0" in serves.hint


def test_the_right_socket_keeps_the_wait_going(submission: Path) -> None:
    """Does 0.0.0.0:8000 that never answers HTTP run the wait out, with today's message?"""
    _, checks, _ = grade_listening(submission, table((ANY, 8000)), readiness_s=2)
    assert "within 2 s" in checks["serves_predict"].message


def test_the_exercises_own_checks_do_not_wait_again(submission: Path) -> None:
    """After the app failed its readiness wait, are the exercise's own checks skipped
    without starting (and waiting for) another container?"""
    report, _, engine = grade_listening(submission, table((LOOPBACK, 8000)), extra=True)
    assert engine.purposes == ["app"]
    builtin = {c.id for c in spec_for().checks}
    extra = [c for c in report.checks if c.id not in builtin]
    assert {"health_reports_model", "process_not_root"} <= {c.id for c in extra}
    assert all(c.status is CheckStatus.SKIPPED for c in extra)


def test_a_dual_stack_socket_is_not_blamed_before_a_request_was_refused() -> None:
    """Is `::` judged only on a refusal that came after the socket was seen listening?"""
    watch = SocketWatch(8000)
    listening = table((ANY6, 8000))
    spec = spec_for()
    watch.refused(0.5)
    watch.saw(listening, 1.0)
    watch.saw(listening, 2.0)
    assert watch.verdict(spec) is None
    watch.refused(2.1)
    verdict = watch.verdict(spec)
    assert verdict is not None
    assert "IPv6 only" in verdict.message


def test_one_read_is_not_enough_to_decide() -> None:
    """Does a socket table seen once, or changing between reads, decide nothing yet?"""
    watch, spec = SocketWatch(8000), spec_for()
    watch.saw(table((ANY, 5000)), 1.0)
    assert watch.verdict(spec) is None
    watch.saw(table((ANY, 5000), (ANY, 8000)), 2.0)
    assert watch.verdict(spec) is None
    assert watch.listeners == (Listener("0.0.0.0", 5000, False), Listener("0.0.0.0", 8000, False))


def test_an_unreadable_table_leaves_the_logs_to_tell() -> None:
    """When the table cannot be read, is it not read again?"""
    watch = SocketWatch(8000)
    watch.saw(None, 1.0)
    assert not watch.due(100.0)


class _ReadsSlowly:
    """An engine whose socket-table read takes as long as the app needs to answer: the
    app answers 200 only once a read is in progress, and the read waits (up to 10 s) for
    that answer. A wait that read the table between its polls would sit out the 10 s and
    see the answer only after the read."""

    def __init__(self, read_error: Exception | None = None) -> None:
        self.reading, self.answered = threading.Event(), threading.Event()
        self.answered_during_read: bool | None = None
        self.read_ended_at: float | None = None
        self.read_error = read_error

    def start_container(self, image: str, **options: object) -> FakeContainer:
        engine = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                ready = engine.reading.is_set() and engine.read_error is None
                self.send_response(200 if ready else 503)
                self.end_headers()
                if ready:
                    engine.answered.set()

            def log_message(self, *_args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.server = server
        return FakeContainer(server=server)

    def socket_table(self, running: FakeContainer) -> str | None:
        self.reading.set()
        if self.read_error is not None:
            raise self.read_error
        self.answered_during_read = self.answered.wait(10)
        time.sleep(0.3)  # an exec's own end, after the app answered: the wait must await it
        self.read_ended_at = time.monotonic()
        return table()


def _wait_for(
    engine: _ReadsSlowly, tmp_path: Path, readiness_s: float = 30
) -> tuple[RunOutcome, float]:
    """The wait's outcome, and when it returned."""
    try:
        outcome = start_and_wait(
            engine,  # type: ignore[arg-type]
            "image",
            spec_for(readiness_s),
            Workspace(tmp_path, canary="c"),
            purpose="app",
        )
        return outcome, time.monotonic()
    finally:
        engine.server.shutdown()


def test_a_slow_socket_read_does_not_hold_up_seeing_the_app_answer(tmp_path: Path) -> None:
    """Is the app's first 200 seen while a socket-table read (an exec, ~0.1 s on a real
    engine) is still in progress, and has that read ended before the wait returns?"""
    engine = _ReadsSlowly()
    outcome, returned_at = _wait_for(engine, tmp_path)
    assert outcome.failure is None
    assert outcome.container is not None
    assert engine.answered_during_read is True
    assert engine.read_ended_at is not None
    assert engine.read_ended_at <= returned_at


def test_a_socket_read_that_raises_is_raised_in_the_wait(tmp_path: Path) -> None:
    """Does an error in the reading thread (an engine fault the session did not translate,
    a bug) reach the grade, rather than die with the thread and leave the wait to run out?"""
    engine = _ReadsSlowly(read_error=RuntimeError("the engine broke mid-read"))
    with pytest.raises(RuntimeError, match="broke mid-read"):
        _wait_for(engine, tmp_path, readiness_s=20)
