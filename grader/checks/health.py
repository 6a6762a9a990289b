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
from typing import Any

from grader.checks.base import EngineContext, Needs, StaticContext, Verdict, check
from grader.engine import missing_program
from grader.spec import App

NS = 1e9
DEFAULT_TIMEOUT_S = 30.0
"""The engine's default HEALTHCHECK --timeout."""
DEFAULT_INTERVAL_S = 30.0


def _example(app: App) -> str:
    url = f"http://127.0.0.1:{app.container_port}{app.readiness_path}"
    return (
        '`HEALTHCHECK CMD ["python", "-c", "import urllib.request; '
        f"urllib.request.urlopen('{url}', timeout=2)\"]`"
    )


_HEALTHCHECK = re.compile(
    r"^(?P<options>(?:--[\w-]+=\S+\s+)*)CMD\s+(?P<command>.+)$", re.DOTALL | re.IGNORECASE
)
_OPTION = re.compile(r"--(?P<name>[\w-]+)=(?P<value>\S+)")
_DURATION_PART = re.compile(r"(?P<number>\d+(?:\.\d+)?)(?P<unit>ns|us|µs|ms|s|m|h)")
_UNIT_NS = {"ns": 1, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": NS, "m": 60 * NS, "h": 3600 * NS}
# The image config's names for the HEALTHCHECK's duration options (--retries is a count).
_CONFIG_KEYS = {"timeout": "Timeout", "interval": "Interval", "start-period": "StartPeriod"}


def _duration_ns(text: str) -> int | None:
    """A Go duration (`30s`, `1m30s`, `500ms`) in nanoseconds, as the image config keeps it."""
    parts = list(_DURATION_PART.finditer(text))
    if not parts or "".join(p.group(0) for p in parts) != text:
        return None
    return int(sum(float(p["number"]) * _UNIT_NS[p["unit"]] for p in parts))


def declared_config(value: str) -> dict[str, Any]:
    """``HEALTHCHECK [--option=…] CMD …`` as the image config keeps it: ``Test`` (``["CMD",
    …]`` for the exec form, ``["CMD-SHELL", "…"]`` for the shell form) and the durations
    the grader uses; ``{}`` when it cannot be read."""
    match = _HEALTHCHECK.match(value.strip())
    if match is None:
        return {}
    config: dict[str, Any] = {}
    for option in _OPTION.finditer(match["options"]):
        name = option["name"].lower()
        key = _CONFIG_KEYS.get(name)
        if key and (duration := _duration_ns(option["value"])) is not None:
            config[key] = duration
        elif name == "retries" and option["value"].isdigit():
            config["Retries"] = int(option["value"])
    command = match["command"].strip()
    if command.startswith("["):
        try:
            words = json.loads(command)
        except ValueError:
            words = None
        if isinstance(words, list) and words and all(isinstance(w, str) for w in words):
            return {**config, "Test": ["CMD", *words]}
    return {**config, "Test": ["CMD-SHELL", command]}


def runnable_test(config: dict[str, Any]) -> list[str]:
    test = [str(part) for part in config.get("Test") or []]
    return test if len(test) >= 2 and test[0] in {"CMD", "CMD-SHELL"} else []


def _none_declared(app: App) -> Verdict:
    return Verdict.failed(
        "The image has no HEALTHCHECK, so `docker ps` cannot tell a stuck app from a healthy one.",
        f"Add a HEALTHCHECK that requests {app.readiness_path}, e.g. {_example(app)}.",
    )


def declares_healthcheck(ctx: StaticContext) -> Verdict | None:
    """The static part: without a HEALTHCHECK there is nothing to run."""
    declared = ctx.dockerfile.last("HEALTHCHECK")
    if declared is None or declared.value.strip().upper() == "NONE":
        return _none_declared(ctx.spec.require_app())
    return None


def _shown(test: list[str]) -> str:
    return test[1] if test[0] == "CMD-SHELL" else " ".join(test[1:])


def _failed(ctx: EngineContext, test: list[str], exit_code: int, output: str, who: str) -> Verdict:
    app = ctx.spec.require_app()
    declared = ctx.dockerfile.last("HEALTHCHECK")
    said = " ".join(output.split())[:300] or "(no output)"
    if missing := missing_program(output):
        tool = missing[0]
        hint = (
            f"`{tool}` is not in the image ({ctx.spec.base_image} has neither curl nor wget). "
            f"Use the Python the image has: {_example(app)}; or install {tool} in the "
            f"Dockerfile (`apt-get install -y --no-install-recommends {tool}`)."
        )
    else:
        hint = (
            f"Run it yourself once the app answers: `docker exec CONTAINER {_shown(test)}`; "
            f"it must exit 0 when GET {app.readiness_path} on port "
            f"{app.container_port} answers 200."
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
    app = ctx.spec.require_app()
    config = (ctx.session.image_attrs(ctx.image).get("Config") or {}).get("Healthcheck") or {}
    declared = ctx.dockerfile.last("HEALTHCHECK")
    engine_runs_it = bool(runnable_test(config))
    if not engine_runs_it:
        # Podman builds OCI images, whose config has no place for a HEALTHCHECK (buildah
        # drops it): the engine never runs it, so the grader runs the Dockerfile's own.
        if declared is None:
            return _none_declared(app)
        config = declared_config(declared.value)
        if not runnable_test(config):
            return Verdict.failed(
                f"The HEALTHCHECK on line {declared.line} cannot be read as "
                "`HEALTHCHECK [--option=value …] CMD …`.",
                f"Write it that way, e.g. {_example(app)}.",
                line=declared.line,
            )
    test = runnable_test(config)
    status, runs = ctx.container.health() if engine_runs_it else ("", [])
    if status == "unhealthy" and runs:
        last = runs[-1]
        return _failed(
            ctx, test, int(last.get("ExitCode", -1)), str(last.get("Output", "")), "the engine's"
        )
    if status == "healthy":
        return Verdict.passed(f"The container became healthy: `{_shown(test)}` exits 0.")
    # The engine's first run is still due (or it never runs it): run it as the engine would.
    timeout_s = min(
        (config.get("Timeout") or DEFAULT_TIMEOUT_S * NS) / NS, ctx.spec.limits.request_timeout_s
    )
    ran = ctx.container.run_health_command(test, timeout_s)
    if ran is None:
        return Verdict.failed(
            f"The HEALTHCHECK `{_shown(test)}` did not finish within {timeout_s:.0f} s in the "
            "running container, although the app answers: the engine counts that as a failure.",
            f"Give the request in the command a timeout below the HEALTHCHECK's --timeout, "
            f"and request {app.readiness_path} on 127.0.0.1:{app.container_port}.",
            line=declared.line if declared else None,
        )
    exit_code, output = ran
    if exit_code != 0:
        return _failed(ctx, test, exit_code, output, "run by the grader")
    if not engine_runs_it:
        return Verdict.passed(
            f"The HEALTHCHECK `{_shown(test)}` exits 0 in the running container (run by the "
            "grader as the Dockerfile declares it: this engine's images keep no HEALTHCHECK)."
        )
    interval = (config.get("Interval") or DEFAULT_INTERVAL_S * NS) / NS
    return Verdict.passed(
        f"The HEALTHCHECK `{_shown(test)}` exits 0 in the running container (run by the "
        f"grader: the engine's first run was still due, every {interval:.0f} s)."
    )
