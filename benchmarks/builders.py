"""Warm grades under BuildKit and under the classic builder, next to the bare CLI.

For each builder, side by side in one run: ``grader check --builder B`` on the
reference solution, and the bare docker CLI doing the same work with the same builder
(build, run, wait for /health, POST /predict, rebuild after an app edit and after a
requirements edit). Both are warm: one unmeasured round first puts the dependency
layer in each builder's cache. Medians of ``--rounds`` (default 3) rounds.

    .venv/bin/python benchmarks/builders.py [--rounds 3]

Absolute seconds are noisy on a shared 2-core machine; the ratios are what count.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import uuid
from pathlib import Path

import grade_vs_docker as common


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = max(1, parser.parse_args().rounds)
    common.BUILDKIT_CLI = common.buildkit_cli()
    rows = []
    with tempfile.TemporaryDirectory(prefix="benchmark-") as tmp:
        parent = Path(tmp)
        token = uuid.uuid4().hex[:8]
        image = f"benchmark-builders-{token}"
        try:
            for builder in ("buildkit", "classic"):
                buildkit = builder == "buildkit"
                grader_project = common.project_copy(parent, f"grader-{builder}", token)
                docker_project = common.project_copy(parent, f"docker-{builder}", token)
                # Warm-up: each builder has its own cache.
                common.bare_docker(docker_project, image, buildkit=buildkit)
                common.grader_check(grader_project, builder)
                grader_s, docker_s = [], []
                for _ in range(rounds):
                    docker_s.append(common.bare_docker(docker_project, image, buildkit=buildkit))
                    grader_s.append(common.grader_check(grader_project, builder))
                rows.append((builder, statistics.median(grader_s), statistics.median(docker_s)))
        finally:
            subprocess.run(["docker", "rmi", image], capture_output=True, check=False)
    print(f"Warm grade of the reference solution, medians of {rounds} rounds:")
    print(f"{'builder':<10}{'grader check':>14}{'bare docker':>14}{'ratio':>8}")
    for builder, grader_s, docker_s in rows:
        print(f"{builder:<10}{grader_s:>13.1f}s{docker_s:>13.1f}s{grader_s / docker_s:>8.2f}")
    (buildkit_row, classic_row) = rows
    print(f"grader BuildKit/classic: {buildkit_row[1] / classic_row[1]:.2f}")


if __name__ == "__main__":
    main()
