"""Run the engine-sensitive tests (marker ``lanes``) on several engine lanes at once.

``python -m tests.run_lanes [--no-leftover-check] LANE… [-- PYTEST ARGS]``

Each lane is its own pytest session against its own nested engine (``--engine LANE``, see
conftest.py), so they can run side by side: most of a lane's time is waiting for its
engine (builds, readiness, ``docker save``, PyPI), not using the CPU. The session ``host``
is the whole suite on the host's own engine (what ``pytest`` alone runs), for running
everything side by side; ``make test`` runs the host's suite first and then the lanes, as
on two cores the load of all four at once can fail verdicts that depend on time (see the
Makefile). Every line a session
prints is shown as it comes, prefixed with its lane, as ``docker compose logs`` does; at
the end, one line per lane says how it went, and the host engine is checked for nested
engines left behind (``--no-leftover-check`` skips that, for runs that start none). The
exit status is 0 only if every lane passed and none was left. Ctrl-C or SIGTERM is passed
on to every session, once, and its fixtures then remove its nested engine.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.lanes import LANES

ROOT = Path(__file__).resolve().parents[1]
TEMPORARY = Path(tempfile.gettempdir()) / "docker-ml-course-lanes"
# Each session's pytest arguments: the host runs everything, a nested lane (--engine) the
# engine-sensitive tests.
SESSIONS: dict[str, list[str]] = {
    lane: ["--engine", lane] + ([] if lane == "host" else ["-m", "lanes"]) for lane in LANES
}


def _pump(lane: str, width: int, process: subprocess.Popen[str], lock: threading.Lock) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        with lock:
            sys.stdout.write(f"{lane:<{width}} | {line}")
            sys.stdout.flush()


def main(argv: list[str]) -> int:
    lanes, extra = argv, []
    if "--" in argv:
        split = argv.index("--")
        lanes, extra = argv[:split], argv[split + 1 :]
    check_leftovers = "--no-leftover-check" not in lanes
    lanes = [lane for lane in lanes if lane != "--no-leftover-check"]
    unknown = [lane for lane in lanes if lane not in SESSIONS]
    if not lanes or unknown:
        print(
            "usage: python -m tests.run_lanes [--no-leftover-check] LANE… [-- PYTEST ARGS]; "
            f"lanes: {', '.join(SESSIONS)} (host: the whole suite on the host's engine; "
            "the others: its engine-sensitive tests on a nested engine)"
            + (f"; not a lane: {', '.join(unknown)}" if unknown else ""),
            file=sys.stderr,
        )
        return 2
    width = max(len(lane) for lane in lanes)
    TEMPORARY.mkdir(parents=True, exist_ok=True)  # pytest makes --basetemp, not its parents
    lock = threading.Lock()
    started = time.monotonic()
    sessions: dict[str, subprocess.Popen[str]] = {}
    pumps: list[threading.Thread] = []
    for lane in lanes:
        command = [
            sys.executable,
            "-m",
            "pytest",
            *SESSIONS[lane],
            "-p",
            "no:cacheprovider",
            # Each session its own temporary folder: pytest's numbered folders are not
            # made for sessions that start at the same moment.
            f"--basetemp={TEMPORARY / lane}",
            "--color=no",
            *extra,
        ]
        sessions[lane] = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            # Out of the terminal's process group: a Ctrl-C reaches each session once,
            # from here (twice would cut its teardown short and leave its engine).
            start_new_session=True,
        )
        pump = threading.Thread(target=_pump, args=(lane, width, sessions[lane], lock))
        pump.start()
        pumps.append(pump)

    def pass_on(signum: int, _frame: object) -> None:
        for session in sessions.values():
            if session.poll() is None:
                session.send_signal(signum)

    signal.signal(signal.SIGINT, pass_on)
    signal.signal(signal.SIGTERM, pass_on)
    codes = {lane: session.wait() for lane, session in sessions.items()}
    for pump in pumps:
        pump.join()
    print(f"\nEngine lanes, side by side, in {time.monotonic() - started:.0f} s:")
    for lane, code in codes.items():
        print(f"  {lane:<{width}}  {'passed' if code == 0 else f'FAILED (pytest exit {code})'}")
    nested = [lane for lane in lanes if lane != "host"]
    left = _nested_engines_left(nested) if check_leftovers and nested else []
    if left:
        print(f"  nested engines left on the host engine: {', '.join(left)}")
    return 0 if all(code == 0 for code in codes.values()) and not left else 1


def _nested_engines_left(lanes: list[str]) -> list[str]:
    """The lanes whose nested engine is still there: each session must remove its own."""
    from grader import engine
    from grader.provision import nested_engine

    host = engine.connect()
    try:
        return [
            f"{found.flavour} ({found.state})"
            for found in nested_engine.status(host)
            if found.flavour in lanes and found.state != "absent"
        ]
    finally:
        host.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
