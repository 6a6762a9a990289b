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
    body = http.get(spec.readiness_path).json()
    assert body.get("model_version") == "iris-logreg-1.0.0", f"/health said {body}"


@pytest.mark.grader_check(
    id="no_pip_cache_in_image",
    title="No pip download cache is left in the image",
    points=2,
    hint="Use `pip install --no-cache-dir`, so that downloaded wheels do not stay in a layer.",
)
def test_no_pip_cache_in_image(container) -> None:
    count_files = (
        "import glob, os; print(sum(len(files) for root in glob.glob('/root/.cache/pip') + "
        "glob.glob('/home/*/.cache/pip') for _, _, files in os.walk(root)))"
    )
    code, output = container.exec(["python", "-c", count_files], user="root")
    assert code == 0, output
    assert output.strip() == "0", f"pip's cache in the image holds {output.strip()} files"
