"""HTTP probes against a running app: answers, input validation, the API key, the data log."""

from __future__ import annotations

import functools
import json
import math
import ssl
from dataclasses import dataclass
from typing import Any

import httpx

from grader.checks.base import Verdict
from grader.spec import ExerciseSpec, Probe

__all__ = ["ProbeResults", "app_client", "count_records", "matches", "run_probes"]


@functools.cache
def _tls() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def app_client(**options: Any) -> httpx.Client:
    """An HTTP client for the app's published port. A grade makes about six: each would
    load the CA bundle again (~20 ms of CPU) for a TLS context that plain HTTP to the app
    never uses, so they share one."""
    return httpx.Client(verify=_tls(), **options)


def matches(expected: Any, actual: Any, tolerance: float = 1e-3) -> bool:
    """True when ``actual`` holds every field of ``expected`` (numbers within ``tolerance``)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and matches(value, actual[key], tolerance)
            for key, value in expected.items()
        )
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected == actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return math.isclose(expected, actual, abs_tol=tolerance)
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(matches(e, a, tolerance) for e, a in zip(expected, actual, strict=True))
        )
    return bool(expected == actual)


@dataclass
class ProbeResults:
    serves_predict: Verdict
    rejects_invalid_input: Verdict
    api_key_enforced: Verdict
    successful_predictions: int


def _send(client: httpx.Client, probe: Probe, headers: dict[str, str]) -> httpx.Response:
    return client.request(probe.method, probe.path, json=probe.json_body, headers=headers)


def _short(response: httpx.Response) -> str:
    return response.text[:300].replace("\n", " ")


def run_probes(base_url: str, spec: ExerciseSpec, api_key: str | None) -> ProbeResults:
    headers = {spec.api_key.header: api_key} if spec.api_key and api_key else {}
    timeout = spec.limits.request_timeout_s
    with app_client(base_url=base_url, timeout=timeout) as client:
        serves, successes = _answers(client, spec, headers)
        invalid = _invalid(client, spec, headers)
        key = _api_key(client, spec, api_key)
    return ProbeResults(serves, invalid, key, successes)


def _answers(
    client: httpx.Client, spec: ExerciseSpec, headers: dict[str, str]
) -> tuple[Verdict, int]:
    successes = 0
    for probe in spec.probes:
        try:
            response = _send(client, probe, headers)
        except httpx.TimeoutException:
            return Verdict.failed(
                f"{probe.method} {probe.path} with {probe.name} did not answer within "
                f"{spec.limits.request_timeout_s:.0f} s.",
                "The app is up but too slow or stuck; run it yourself and time the request.",
            ), successes
        except httpx.HTTPError as exc:
            return Verdict.failed(
                f"{probe.method} {probe.path} with {probe.name} failed: {exc}.",
                "The app stopped answering; read its logs with `docker logs`.",
            ), successes
        if response.status_code != probe.expect_status:
            return Verdict.failed(
                f"{probe.method} {probe.path} with {probe.name} answered HTTP "
                f"{response.status_code} ({_short(response)}), expected {probe.expect_status}.",
                "Run the container yourself and send the same request with curl.",
            ), successes
        try:
            body = response.json()
        except ValueError:
            body = None
        if not matches(probe.expect_json, body):
            return Verdict.failed(
                f"{probe.method} {probe.path} with {probe.name} answered {_short(response)}, "
                f"expected {json.dumps(probe.expect_json)}.",
                "The image serves a different model or app version: copy "
                + " and ".join(f"`{folder}`" for folder in spec.require_app().served_dirs)
                + " unchanged into the image.",
            ), successes
        successes += 1
    return Verdict.passed(
        f"{successes} predictions answered as expected through the published port."
    ), successes


def _invalid(client: httpx.Client, spec: ExerciseSpec, headers: dict[str, str]) -> Verdict:
    wrong = []
    for probe in spec.invalid_requests:
        try:
            response = _send(client, probe, headers)
        except httpx.HTTPError as exc:
            wrong.append(f"{probe.name}: no answer ({type(exc).__name__})")
            continue
        if response.status_code != probe.expect_status:
            wrong.append(
                f"{probe.name}: HTTP {response.status_code}, expected {probe.expect_status}"
            )
    if wrong:
        return Verdict.failed(
            "Invalid requests were not rejected as expected: " + "; ".join(wrong) + ".",
            f"Keep the app's validation: do not change {spec.require_app().validation_file}.",
        )
    return Verdict.passed(
        f"All {len(spec.invalid_requests)} invalid requests got the right status."
    )


def _api_key(client: httpx.Client, spec: ExerciseSpec, api_key: str | None) -> Verdict:
    if spec.api_key is None or not spec.probes:
        return Verdict.skipped("This exercise has no API key.")
    probe = spec.probes[0]
    header = spec.api_key.header
    try:
        without = _send(client, probe, {})
        wrong = _send(client, probe, {header: "not-the-key"})
        right = _send(client, probe, {header: api_key or ""})
    except httpx.HTTPError as exc:
        return Verdict.failed(f"The API-key requests got no answer: {exc}.", "Read `docker logs`.")
    if without.status_code != 401 or wrong.status_code != 401:
        return Verdict.failed(
            f"With {spec.api_key.env_var} set in the container's environment, a request without "
            f"the {header} header got HTTP {without.status_code} and one with a wrong key got "
            f"HTTP {wrong.status_code}; both should get 401.",
            f"Do not set or override {spec.api_key.env_var} in the Dockerfile; pass it at run "
            "time with `docker run --env-file .env`.",
        )
    if right.status_code != probe.expect_status:
        return Verdict.failed(
            f"The right key got HTTP {right.status_code}, expected {probe.expect_status}.",
            f"Check that nothing in the image overrides {spec.api_key.env_var}.",
        )
    return Verdict.passed(
        f"Requests without the key or with a wrong one get 401; the key from "
        f"{spec.api_key.env_var} opens {probe.path}."
    )


def count_records(base_url: str, spec: ExerciseSpec) -> tuple[int | None, str]:
    """The app's record count, and its health note (why it is not logging, if it says)."""
    volume, app = spec.volume, spec.require_app()
    assert volume is not None
    with app_client(base_url=base_url, timeout=spec.limits.request_timeout_s) as client:
        try:
            count = client.get(volume.count_path).json().get(volume.count_field)
            health = client.get(app.readiness_path).json()
        except (httpx.HTTPError, ValueError, AttributeError):
            return None, ""
    note = health.get(volume.log_status_field, "") if isinstance(health, dict) else ""
    return (int(count) if isinstance(count, int) else None), str(note)
