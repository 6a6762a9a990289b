"""The exercise's app, tested without Docker through FastAPI's TestClient."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import joblib
import numpy.testing
import pytest
from fastapi.testclient import TestClient

from grader.probes import matches
from grader.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
EXERCISE = ROOT / "exercises" / "model-api"
SPEC = load_spec(ROOT / "exercises" / "model-api.toml")


@pytest.fixture(scope="module", autouse=True)
def _importable_app() -> Iterator[None]:
    sys.path.insert(0, str(EXERCISE))
    yield
    sys.path.remove(str(EXERCISE))
    for name in [m for m in sys.modules if m == "app" or m.startswith("app.")]:
        del sys.modules[name]


def _client(monkeypatch: pytest.MonkeyPatch, data_dir: Path, api_key: str | None) -> TestClient:
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    if api_key is None:
        monkeypatch.delenv("API_KEY", raising=False)
    else:
        monkeypatch.setenv("API_KEY", api_key)
    main = importlib.import_module("app.main")
    return TestClient(main.app)


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[TestClient]:
    with _client(monkeypatch, tmp_path / "data", None) as test_client:
        yield test_client


@pytest.mark.parametrize("probe", SPEC.probes, ids=lambda p: p.name)
def test_spec_probes_get_the_expected_answer(client: TestClient, probe) -> None:
    """Does the app give the answers the grader's spec expects (so the spec cannot drift)?"""
    response = client.request(probe.method, probe.path, json=probe.json_body)
    assert response.status_code == probe.expect_status
    assert matches(probe.expect_json, response.json()), response.json()


def test_predictions_are_deterministic(client: TestClient) -> None:
    """Does the same flower always get the same probabilities?"""
    body = SPEC.probes[1].json_body
    answers = {str(client.post("/predict", json=body).json()) for _ in range(5)}
    assert len(answers) == 1


@pytest.mark.parametrize("probe", SPEC.invalid_requests, ids=lambda p: p.name)
def test_invalid_input_gets_422_with_a_message(client: TestClient, probe) -> None:
    """Is each kind of bad input refused with 422 and a message naming the field?"""
    response = client.post(probe.path, json=probe.json_body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail
    assert all("loc" in item and "msg" in item for item in detail)


def test_unknown_fields_and_non_json_are_refused(client: TestClient) -> None:
    """Are typos in field names and non-JSON bodies refused rather than ignored?"""
    body = dict(SPEC.probes[0].json_body, petal_colour="blue")
    assert client.post("/predict", json=body).status_code == 422
    assert client.post("/predict", content=b"not json").status_code == 422


def test_health_reports_the_model_version(client: TestClient) -> None:
    """Does /health say ready and name the model version once the model is loaded?"""
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "model_version": "iris-logreg-1.0.0",
        "prediction_log": "ok",
    }


def test_health_is_503_before_the_model_loads(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Is the app 'not ready' until start-up has loaded the model?"""
    client = _client(monkeypatch, tmp_path, None)  # not entered: lifespan has not run
    client.app.state.model = None
    assert client.get("/health").status_code == 503


def test_api_key_is_enforced_when_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With API_KEY set, is /predict refused without the right X-API-Key header?"""
    body = SPEC.probes[0].json_body
    with _client(monkeypatch, tmp_path, "s3cret") as client:
        assert client.post("/predict", json=body).status_code == 401
        assert client.post("/predict", json=body, headers={"X-API-Key": "wrong"}).status_code == 401
        ok = client.post("/predict", json=body, headers={"X-API-Key": "s3cret"})
        assert ok.status_code == 200
        assert client.get("/health").status_code == 200, "health needs no key"


def test_predictions_are_logged_and_counted(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Is every prediction appended to DATA_DIR and counted, across restarts of the app?"""
    data_dir = tmp_path / "data"
    body = SPEC.probes[0].json_body
    with _client(monkeypatch, data_dir, None) as client:
        for _ in range(3):
            client.post("/predict", json=body)
        client.post("/predict", json={})  # invalid: not logged
        assert client.get("/predictions/count").json() == {"count": 3}
    assert len((data_dir / "predictions.jsonl").read_text().splitlines()) == 3
    with _client(monkeypatch, data_dir, None) as client:
        assert client.get("/predictions/count").json() == {"count": 3}


def test_unwritable_data_dir_is_reported_not_fatal(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """When DATA_DIR cannot be written, are predictions still served and /health says why?"""
    blocker = tmp_path / "file"
    blocker.write_text("")
    with _client(monkeypatch, blocker / "data", None) as client:
        assert client.post("/predict", json=SPEC.probes[0].json_body).status_code == 200
        assert client.get("/health").json()["prediction_log"].startswith("cannot write to")
        assert client.get("/predictions/count").json() == {"count": 0}


def test_train_py_reproduces_the_committed_model(tmp_path: Path) -> None:
    """Does retraining give a model with the committed model's predictions (fixed seed)?"""
    work = tmp_path / "exercise"
    (work / "model").mkdir(parents=True)
    (work / "train.py").write_text((EXERCISE / "train.py").read_text())
    subprocess.run([sys.executable, "train.py"], cwd=work, check=True, capture_output=True)
    fresh = joblib.load(work / "model" / "iris-classifier.joblib")
    committed = joblib.load(EXERCISE / "model" / "iris-classifier.joblib")
    rows = [list(p.json_body.values()) for p in SPEC.probes]
    # Classes exactly; probabilities to a tolerance: BLAS kernels differ between CPUs in
    # the last bits (5.6e-17 was seen on another machine).
    assert list(fresh["pipeline"].predict(rows)) == list(committed["pipeline"].predict(rows))
    numpy.testing.assert_allclose(
        fresh["pipeline"].predict_proba(rows),
        committed["pipeline"].predict_proba(rows),
        rtol=0,
        atol=1e-9,
    )
    assert fresh["version"] == committed["version"]


def test_starter_has_no_dockerfile_and_ignores_env(root: Path) -> None:
    """Does the learner start without a Dockerfile, and is .env kept out of git?"""
    assert not (EXERCISE / "Dockerfile").exists()
    assert (EXERCISE / ".env.example").is_file()
    assert ".env" in (root / ".gitignore").read_text().splitlines()
