"""How fast the fixtures that must fail fast get their verdict, against their bounds.

A fixture's ``max_seconds`` (tests/submissions/*/expected.toml) is the time its verdict
should take here: a never-answering app is told by its socket table in seconds, a silent
build by the inactivity watchdog, a refused Dockerfile before any build. The tests pin
the mechanism (the verdict's own words); this prints the time, measured one grade after
another on the engine DOCKER_HOST names, and the ratio to the bound.

    .venv/bin/python benchmarks/verdict_times.py [NAME-SUBSTRING …]
"""

from __future__ import annotations

import sys
import time
import tomllib
from pathlib import Path

from grader.api import grade_with_spec
from grader.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "submissions"


def bounded(filters: list[str]) -> list[tuple[Path, dict]]:
    found = []
    for folder in sorted(FIXTURES.glob("*--*")):
        expected = tomllib.loads((folder / "expected.toml").read_text())
        if "max_seconds" in expected and (not filters or any(f in folder.name for f in filters)):
            found.append((folder, expected))
    return found


def main(filters: list[str]) -> int:
    fixtures = bounded(filters)
    if not fixtures:
        print("no fixture with max_seconds matches", filters, file=sys.stderr)
        return 2
    print(f"{'fixture':<48} {'seconds':>8} {'bound':>6} {'ratio':>6}")
    over = 0
    for folder, expected in fixtures:
        spec = load_spec(ROOT / "exercises" / f"{folder.name.split('--')[0]}.toml")
        limits = spec.limits.model_copy(update=expected.get("limits", {}))
        started = time.monotonic()
        grade_with_spec(spec.model_copy(update={"limits": limits}), folder)
        seconds = time.monotonic() - started
        bound = float(expected["max_seconds"])
        over += seconds > bound
        print(f"{folder.name:<48} {seconds:>8.1f} {bound:>6.0f} {seconds / bound:>6.2f}")
    print(f"{over} of {len(fixtures)} over their bound")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
