"""Train the iris classifier and save it to model/iris-classifier.joblib.

Deterministic: the data ships inside scikit-learn (nothing is downloaded) and the
split and the model use fixed seeds, so every run gives the same predictions.
The artifact is committed, so building the image never trains: builds stay fast
and an image always serves exactly the model that was reviewed.

    python train.py
"""

from __future__ import annotations

from pathlib import Path

import joblib
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SEED = 42
VERSION = "iris-logreg-1.0.0"
ARTIFACT = Path(__file__).resolve().parent / "model" / "iris-classifier.joblib"


def train() -> tuple[object, float]:
    iris = load_iris()
    x_train, x_test, y_train, y_test = train_test_split(
        iris.data, iris.target, test_size=0.25, random_state=SEED, stratify=iris.target
    )
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=SEED))
    pipeline.fit(x_train, y_train)
    return pipeline, float(pipeline.score(x_test, y_test))


def main() -> None:
    pipeline, accuracy = train()
    ARTIFACT.parent.mkdir(exist_ok=True)
    species = ["setosa", "versicolor", "virginica"]
    joblib.dump({"pipeline": pipeline, "species": species, "version": VERSION}, ARTIFACT)
    print(f"Saved {ARTIFACT.name} ({VERSION}); test accuracy {accuracy:.3f}")


if __name__ == "__main__":
    main()
