"""What a Makefile target would run, read with ``make -n`` (nothing is run): the tests
start JupyterLab exactly as ``make lab`` and ``make formgrader`` do."""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MakeCommand:
    """A Makefile recipe's `jupyter lab` line, as ``make -n`` prints it."""

    env: dict[str, str]
    args: list[str]


def make_dry_run(folder: Path, target: str) -> MakeCommand:
    """The ``jupyter lab`` command ``make TARGET`` would run in ``folder`` (nothing runs)."""
    printed = subprocess.run(
        ["make", "-n", "--no-print-directory", target],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (line,) = [line for line in printed.splitlines() if re.search(r"jupyter lab\b", line)]
    words = shlex.split(line)
    env = {}
    while "=" in words[0] and not words[0].startswith("-"):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    assert Path(words[0]).name == "jupyter", line
    return MakeCommand(env=env, args=words[1:])
