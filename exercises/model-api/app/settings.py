"""Configuration from environment variables, read once at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "model" / "iris-classifier.joblib"


@dataclass(frozen=True)
class Settings:
    api_key: str | None
    """When set, POST /predict needs the header ``X-API-Key`` with this value."""
    data_dir: Path
    """Where the prediction log (``predictions.jsonl``) is written: a volume in Docker."""
    model_path: Path
    """The trained model artifact made by ``train.py``."""

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            api_key=os.environ.get("API_KEY") or None,
            data_dir=Path(os.environ.get("DATA_DIR", "/data")),
            model_path=Path(os.environ.get("MODEL_PATH", DEFAULT_MODEL_PATH)),
        )
