"""What the tests of the GitHub workflows share: GitHub's schema, through check-jsonschema."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def schema_errors(workflow: Path) -> str:
    """check-jsonschema's complaints about ``workflow`` against GitHub's workflow schema;
    ``""`` when it is valid."""
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            str(workflow),
        ],
        capture_output=True,
        text=True,
    )
    return "" if result.returncode == 0 else (result.stdout + result.stderr or "invalid")
