"""The shapes of requests and responses; pydantic turns bad input into a 422."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

_CM = "centimetres, greater than 0 and at most 30"


class FlowerMeasurements(BaseModel):
    """One iris flower, measured in centimetres."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "sepal_length_cm": 5.1,
                    "sepal_width_cm": 3.5,
                    "petal_length_cm": 1.4,
                    "petal_width_cm": 0.2,
                }
            ]
        },
    )

    sepal_length_cm: float = Field(gt=0, le=30, description=f"Sepal length in {_CM}.")
    sepal_width_cm: float = Field(gt=0, le=30, description=f"Sepal width in {_CM}.")
    petal_length_cm: float = Field(gt=0, le=30, description=f"Petal length in {_CM}.")
    petal_width_cm: float = Field(gt=0, le=30, description=f"Petal width in {_CM}.")

    def as_row(self) -> list[float]:
        return [
            self.sepal_length_cm,
            self.sepal_width_cm,
            self.petal_length_cm,
            self.petal_width_cm,
        ]


class Prediction(BaseModel):
    species: str = Field(description="The predicted iris species.")
    probabilities: dict[str, float] = Field(description="Probability of each species.")
    model_version: str


class Health(BaseModel):
    status: str
    model_version: str
    prediction_log: str = Field(description="'ok', or why predictions are not being logged.")


class PredictionCount(BaseModel):
    count: int = Field(description="How many predictions the log in DATA_DIR holds.")
