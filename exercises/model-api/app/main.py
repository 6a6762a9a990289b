"""The HTTP API: POST /predict, GET /health, GET /predictions/count.

Run it with ``uvicorn app.main:app --host 0.0.0.0 --port 8000`` from the exercise folder.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Header, HTTPException, Request, status

from app.model import IrisClassifier
from app.prediction_log import PredictionLog
from app.schemas import FlowerMeasurements, Health, Prediction, PredictionCount
from app.settings import Settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = Settings.from_env()
    app.state.settings = settings
    app.state.log = PredictionLog(settings.data_dir)
    app.state.model = IrisClassifier.load(settings.model_path)
    yield
    app.state.model = None


app = FastAPI(
    title="Iris species classifier",
    description="Predicts the species of an iris flower from four measurements.",
    version="1.0.0",
    lifespan=lifespan,
)


def loaded_model(request: Request) -> IrisClassifier:
    model = getattr(request.app.state, "model", None)
    if model is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "The model is still loading.")
    return model


def require_api_key(request: Request, x_api_key: Annotated[str | None, Header()] = None) -> None:
    expected = request.app.state.settings.api_key
    if expected is None:
        return
    if x_api_key is None or not secrets.compare_digest(x_api_key, expected):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Missing or wrong X-API-Key header.",
            headers={"WWW-Authenticate": "X-API-Key"},
        )


@app.get("/health", response_model=Health)
def health(request: Request, model: Annotated[IrisClassifier, Depends(loaded_model)]) -> Health:
    log: PredictionLog = request.app.state.log
    return Health(status="ok", model_version=model.version, prediction_log=log.problem or "ok")


@app.post("/predict", response_model=Prediction, dependencies=[Depends(require_api_key)])
def predict(
    flower: FlowerMeasurements,
    request: Request,
    model: Annotated[IrisClassifier, Depends(loaded_model)],
) -> Prediction:
    prediction = model.predict(flower)
    request.app.state.log.append(flower, prediction)
    return prediction


@app.get("/predictions/count", response_model=PredictionCount)
def prediction_count(request: Request) -> PredictionCount:
    return PredictionCount(count=request.app.state.log.count())
