"""An append-only log of predictions in DATA_DIR: the data a Docker volume keeps."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from app.schemas import FlowerMeasurements, Prediction


class PredictionLog:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "predictions.jsonl"
        self._lock = threading.Lock()
        self.problem: str | None = None
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
            self.path.touch(exist_ok=True)
        except OSError as exc:
            # Serve predictions anyway; /health says why nothing is being logged.
            self.problem = f"cannot write to {data_dir}: {exc.strerror}"

    def append(self, flower: FlowerMeasurements, prediction: Prediction) -> None:
        if self.problem:
            return
        line = json.dumps(
            {"time": time.time(), "input": flower.model_dump(), "species": prediction.species}
        )
        with self._lock, self.path.open("a", encoding="utf-8") as log:
            log.write(line + "\n")

    def count(self) -> int:
        if self.problem or not self.path.exists():
            return 0
        with self._lock, self.path.open(encoding="utf-8") as log:
            return sum(1 for line in log if line.strip())
