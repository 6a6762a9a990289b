"""Loading the trained classifier and turning measurements into a prediction."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib

from app.schemas import FlowerMeasurements, Prediction


@dataclass(frozen=True)
class IrisClassifier:
    pipeline: Any
    species: tuple[str, ...]
    version: str

    @classmethod
    def load(cls, path: Path) -> IrisClassifier:
        bundle = joblib.load(path)
        return cls(bundle["pipeline"], tuple(bundle["species"]), bundle["version"])

    def predict(self, flower: FlowerMeasurements) -> Prediction:
        probabilities = self.pipeline.predict_proba([flower.as_row()])[0]
        best = int(probabilities.argmax())
        return Prediction(
            species=self.species[best],
            # Rounded so that answers compare equal across CPUs and BLAS builds.
            probabilities={
                name: round(float(p), 4)
                for name, p in zip(self.species, probabilities, strict=True)
            },
            model_version=self.version,
        )
