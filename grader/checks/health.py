"""The HEALTHCHECK: declared in the Dockerfile, and passing in the running container.

A HEALTHCHECK that can never pass (it calls ``curl``, which ``python:3.11-slim`` lacks)
turns the container ``unhealthy`` and an orchestrator restarts it forever, so declaring
one is not enough. The files alone fail a Dockerfile without one (the static part);
with the app answering, the check reads the engine's ``State.Health`` and, while the
engine's first run is still due (its interval and start period may be long), runs the
image's own health command once itself, as the engine would, within its timeout.
"""

from __future__ import annotations

import json
import re

from grader.checks.base import EngineContext, Needs, StaticContext, Verdict, check
from grader.engine import missing_program
from grader.spec import ExerciseSpec

NS = 1e9
DEFAULT_TIMEOUT_S = 30.0
"""The engine's default HEALTHCHECK --timeout."""
DEFAULT_INTERVAL_S = 30.0


def _example(spec: ExerciseSpec) -> str:
    url = f"http://127.0.0.1:{spec.container_port}{spec.readiness_path}"
    return (
        '`HEALTHCHECK CMD ["python", "-c", "import urllib.request; '
        f"urllib.request.urlopen('{url}', timeout=2)\"]`"
    )


_HEALTHCHECK_CMD = re.compile(r"^(?:--[\w-]+=\S+\s+)*CMD\s+(?P<command>.+)$", re.DOTALL | re.I)


def _declared_test(value: str) -> list[str]:
    """``HEALTHCHECK [--option=…] CMD …`` as the image config's ``Test``: ``["CMD", …]``
    for the exec form, ``["CMD-SHELL", "…"]`` for the shell form ([] when unreadable)."""
    match = _HEALTHCHECK_CMD.match(value.strip())
    if match is None:
        return []
    command = match["command"].strip()
    if command.startswith("["):
        try:
            words = json.loads(command)
        except ValueError:
            words = None
        if isinstance(words, list) and words and all(isinstance(w, str) for w in words):
            return ["CMD", *words]
    return ["CMD-SHELL", command]


def declares_healthcheck(ctx: StaticContext) -> Verdict | None:
    """The static part: without a HEALTHCHECK there is nothing to run."""
    declared = ctx.dockerfile.last("HEALTHCHECK")
    if declared is None or declared.value.strip().upper() == "NONE":
        return Verdict.failed(
            "The image has no HEALTHCHECK, so `docker ps` cannot tell a stuck app from a "
            "healthy one.",
            f"Add a HEALTHCHECK that requests {ctx.spec.readiness_path}, e.g. "
            f"{_example(ctx.spec)}.",
        )
    return None


def _shown(test: list[str]) -> str:
    return test[1] if test[0] == "CMD-SHELL" else " ".join(test[1:])


def _failed(ctx: EngineContext, test: list[str], exit_code: int, output: str, who: str) -> Verdict:
    declared = ctx.dockerfile.last("HEALTHCHECK")
    said = " ".join(output.split())[:300] or "(no output)"
    if missing := missing_program(output):
        tool = missing[0]
        hint = (
            f"`{tool}` is not in the image (python:3.11-slim has neither curl nor wget). "
            f"Use the Python the image has: {_example(ctx.spec)}; or install {tool} in the "
            f"Dockerfile (`apt-get install -y --no-install-recommends {tool}`)."
        )
    else:
        hint = (
            f"Run it yourself once the app answers: `docker exec CONTAINER {_shown(test)}`; "
            f"it must exit 0 when GET {ctx.spec.readiness_path} on port "
            f"{ctx.spec.container_port} answers 200."
        )
    return Verdict.failed(
        f"The HEALTHCHECK `{_shown(test)}` fails in the running container ({who}, exit "
        f"{exit_code}): {said}. The container turns unhealthy, and an orchestrator would "
        "restart it forever.",
        hint,
        line=declared.line if declared else None,
        details=output,
    )


@check(
    "healthcheck",
    "The image's HEALTHCHECK passes in the running container",
    Needs.CONTAINER,
    2,
    static_part=declares_healthcheck,
)
def healthcheck(ctx: EngineContext) -> Verdict:
    assert ctx.container is not None
    assert ctx.image is not None
    config = (ctx.session.image_attrs(ctx.image).get("Config") or {}).get("Healthcheck") or {}
    test = [str(part) for part in config.get("Test") or []]
    declared = ctx.dockerfile.last("HEALTHCHECK")
    if len(test) < 2 or test[0] not in {"CMD", "CMD-SHELL"}:
        # Podman builds OCI images, whose config has no place for a HEALTHCHECK (buildah
        # drops it): the engine cannot run it, so the grader runs the Dockerfile's own.
        test = _declared_test(declared.value) if declared else []
        if not test:
            return Verdict.failed(
                "The built image has no HEALTHCHECK, so `docker ps` cannot tell a stuck app "
                "from a healthy one.",
                f"Add a HEALTHCHECK that requests {ctx.spec.readiness_path}, e.g. "
                f"{_example(ctx.spec)}.",
            )
        config = {}
        status, runs = "", []
    else:
        status, runs = ctx.container.health()
    if status == "unhealthy" and runs:
        last = runs[-1]
        return _failed(
            ctx, test, int(last.get("ExitCode", -1)), str(last.get("Output", "")), "the engine's"
        )
    if status == "healthy":
        return Verdict.passed(f"The container became healthy: `{_shown(test)}` exits 0.")
    # The engine's first run is still due: run the command as the engine would.
    timeout_s = min(
        (config.get("Timeout") or DEFAULT_TIMEOUT_S * NS) / NS, ctx.spec.limits.request_timeout_s
    )
    ran = ctx.container.run_health_command(test, timeout_s)
    if ran is None:
        return Verdict.failed(
            f"The HEALTHCHECK `{_shown(test)}` did not finish within {timeout_s:.0f} s in the "
            "running container, although the app answers: the engine counts that as a failure.",
            f"Give the request in the command a timeout below the HEALTHCHECK's --timeout, "
            f"and request {ctx.spec.readiness_path} on 127.0.0.1:{ctx.spec.container_port}.",
            line=declared.line if declared else None,
        )
    exit_code, output = ran
    if exit_code != 0:
        return _failed(ctx, test, exit_code, output, "run by the grader")
    interval = (config.get("Interval") or DEFAULT_INTERVAL_S * NS) / NS
    return Verdict.passed(
        f"The HEALTHCHECK `{_shown(test)}` exits 0 in the running container (run by the "
        f"grader: the engine's first run was still due, every {interval:.0f} s)."
    )
