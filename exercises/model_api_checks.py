"""The model-api exercise's own checks, run by the grader with its fixtures.

Each test is one check; the marker gives its id, title, points and the hint shown
when it fails. See grader/extra_checks.py for the fixtures.
"""

from __future__ import annotations

import pytest


@pytest.mark.grader_check(
    id="health_reports_model",
    title="GET /health names the model version",
    points=2,
    hint="Copy model/ into the image unchanged: /health reports the version stored in it.",
)
def test_health_reports_model(http, spec) -> None:
    body = http.get(spec.require_app().readiness_path).json()
    assert body.get("model_version") == "iris-logreg-1.0.0", f"/health said {body}"


@pytest.mark.grader_check(
    id="process_not_root",
    title="The running app's process is not root",
    points=2,
    hint="Create a user (`RUN useradd --create-home appuser`) and switch to it with "
    "`USER appuser` before CMD.",
)
def test_process_not_root(container) -> None:
    code, output = container.exec(["id", "-u"])
    assert code == 0, output
    assert output.strip() != "0", "the app runs as root (uid 0)"
