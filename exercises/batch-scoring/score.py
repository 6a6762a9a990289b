"""Score every CSV of iris measurements in INPUT_DIR and write OUTPUT_DIR/predictions.csv.

A nightly batch job, as ML teams run them: no server, no network; it reads its input,
writes one output file and exits 0, or exits non-zero with a message that names the file,
the line and what is wrong, and writes nothing.

    python score.py            # INPUT_DIR=/input, OUTPUT_DIR=/output by default

Each input file has a header with the four measurements, in centimetres, in any order
(other columns are ignored). The output has one row per flower, in file then line order:
the file, its line, the species, one probability per species and the model's version.
"""

from __future__ import annotations

import csv
import math
import os
import sys
from pathlib import Path

MEASUREMENTS = ("sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm")
MODEL = Path(__file__).resolve().parent / "model" / "iris-classifier.joblib"
OUTPUT_NAME = "predictions.csv"

EXIT_NO_INPUT = 1
EXIT_BAD_INPUT = 2
EXIT_CANNOT_WRITE = 3
EXIT_NO_MODEL = 4


class JobError(Exception):
    """Why the job cannot finish, in words for its log; ``exit_code`` says which kind."""

    exit_code = EXIT_BAD_INPUT


class NoInput(JobError):
    exit_code = EXIT_NO_INPUT


class BadInput(JobError):
    """An input file the job cannot score: the message names the file, line and problem."""


class CannotWrite(JobError):
    exit_code = EXIT_CANNOT_WRITE


class NoModel(JobError):
    exit_code = EXIT_NO_MODEL


def read_flowers(path: Path) -> list[tuple[int, list[float]]]:
    """The measurements of each flower in ``path``, with the line each one is on."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path.name}: not UTF-8 text ({exc.reason})") from exc
    reader = csv.DictReader(text.splitlines())
    missing = [name for name in MEASUREMENTS if name not in (reader.fieldnames or [])]
    if missing:
        raise BadInput(
            f"{path.name} line 1: the header lacks {', '.join(missing)} "
            f"(it needs {', '.join(MEASUREMENTS)})"
        )
    flowers = []
    for row in reader:
        line = reader.line_num
        values = []
        for name in MEASUREMENTS:
            cell = (row.get(name) or "").strip()
            try:
                value = float(cell)
            except ValueError:
                raise BadInput(
                    f"{path.name} line {line}: {name} is not a number ({cell!r})"
                ) from None
            if not math.isfinite(value) or value < 0:
                raise BadInput(f"{path.name} line {line}: {name} must be a length >= 0 ({cell})")
            values.append(value)
        flowers.append((line, values))
    return flowers


def score(input_dir: Path, output_dir: Path, model_path: Path = MODEL) -> int:
    """Score ``input_dir/*.csv`` into ``output_dir/predictions.csv``; the number of flowers."""
    files = sorted(input_dir.glob("*.csv"))
    if not files:
        raise NoInput(f"no *.csv file in {input_dir}: mount the input folder there")
    batches = [(path.name, read_flowers(path)) for path in files]
    import joblib  # after the input is known to be good: a bad file fails in milliseconds

    try:
        bundle = joblib.load(model_path)
    except OSError as exc:
        raise NoModel(f"cannot load the model {model_path}: {exc.strerror or exc}") from exc
    species, version = list(bundle["species"]), str(bundle["version"])
    rows = [(name, line, values) for name, flowers in batches for line, values in flowers]
    probabilities = (
        bundle["pipeline"].predict_proba([values for _, _, values in rows]) if rows else []
    )
    header = ["source_file", "line", "species", *(f"p_{name}" for name in species), "model_version"]
    partial = output_dir / f".{OUTPUT_NAME}.partial"
    try:
        with partial.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            for (name, line, _values), p in zip(rows, probabilities, strict=True):
                best = max(range(len(species)), key=lambda i: p[i])
                # Rounded so that the file is the same on every CPU and BLAS build.
                writer.writerow(
                    [name, line, species[best], *(f"{float(x):.4f}" for x in p), version]
                )
        partial.replace(output_dir / OUTPUT_NAME)  # all or nothing: never half a file
    except OSError as exc:
        raise CannotWrite(f"cannot write to {output_dir}: {exc.strerror or exc}") from exc
    return len(rows)


def main() -> int:
    input_dir = Path(os.environ.get("INPUT_DIR", "/input"))
    output_dir = Path(os.environ.get("OUTPUT_DIR", "/output"))
    try:
        count = score(input_dir, output_dir)
    except BadInput as exc:
        print(f"score.py: cannot score {exc}; nothing was written", file=sys.stderr)
        return exc.exit_code
    except JobError as exc:
        print(f"score.py: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"score.py: scored {count} flowers into {output_dir / OUTPUT_NAME}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
