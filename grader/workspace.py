"""The build context: a private copy of the starter project with the submission laid over it.

The learner's folder is only ever read. The copy lives in a temporary folder that is
removed afterwards; the learner's own ``.env`` is never copied (it may hold real
secrets): a canary ``.env`` with a unique value is planted instead, to prove that
secrets stay out of the image.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from grader.dockerignore import context_size
from grader.errors import SubmissionError
from grader.spec import ExerciseSpec

__all__ = ["Workspace", "prepare_workspace"]

CANARY_FILE = ".env"
"""The file of the build context that holds the planted canary secret."""
SKIPPED_NAMES = frozenset({".git", ".env", ".venv", "__pycache__", ".ipynb_checkpoints"})


@dataclass
class Workspace:
    path: Path
    """The build context (a temporary copy)."""
    canary: str
    """The unique value planted in ``.env``."""
    changed_starter_files: list[str] = field(default_factory=list)
    """Starter files the learner was not meant to change but did."""
    outside_symlinks: list[str] = field(default_factory=list)
    """Symlinks pointing outside the submission: not copied."""
    context_bytes: int = 0
    largest_files: list[tuple[str, int]] = field(default_factory=list)
    crlf_scripts: list[str] = field(default_factory=list)
    """Shell scripts with Windows line endings (they fail with `bad interpreter`)."""

    def copy(self, suffix: str) -> Path:
        """Another private copy of the build context, e.g. for a cache probe."""
        target = self.path.parent / f"{self.path.name}-{suffix}"
        shutil.copytree(self.path, target, symlinks=True)
        return target

    def remove(self) -> None:
        shutil.rmtree(self.path.parent, ignore_errors=True)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _is_learner_file(relative: str, patterns: list[str]) -> bool:
    return any(
        fnmatch.fnmatch(relative, p) or fnmatch.fnmatch(Path(relative).name, p) for p in patterns
    )


def prepare_workspace(spec: ExerciseSpec, submission: Path) -> Workspace:
    if not submission.exists():
        raise SubmissionError(
            f"The folder {submission} does not exist.",
            hint="Pass the folder that holds your Dockerfile, e.g. "
            f"`grader check exercises/{spec.name}`.",
        )
    if not submission.is_dir():
        raise SubmissionError(
            f"{submission} is a file, not a folder.",
            hint="Pass the folder that holds the Dockerfile, not the Dockerfile itself.",
        )
    root = Path(tempfile.mkdtemp(prefix="grader-"))
    context = root / "context"
    shutil.copytree(spec.starter_dir, context, ignore=shutil.ignore_patterns(*SKIPPED_NAMES))
    workspace = Workspace(path=context, canary=f"canary-{uuid.uuid4().hex}")
    try:
        _overlay(spec, submission.resolve(), context, workspace)
        (context / CANARY_FILE).write_text(
            f"# Planted by the grader: this value must never appear in the image.\n"
            f"{spec.canary_variable}={workspace.canary}\n"
        )
        _measure(context, workspace)
    except BaseException:
        workspace.remove()
        raise
    return workspace


def _overlay(spec: ExerciseSpec, submission: Path, context: Path, workspace: Workspace) -> None:
    for directory, subdirs, files in os.walk(submission):
        subdirs[:] = [d for d in subdirs if d not in SKIPPED_NAMES]
        here = Path(directory)
        for name in files + [d for d in subdirs if (here / d).is_symlink()]:
            if name in SKIPPED_NAMES:
                continue
            source = here / name
            relative = source.relative_to(submission).as_posix()
            target = context / relative
            if source.is_symlink():
                resolved = source.resolve()
                if not resolved.is_relative_to(submission):
                    workspace.outside_symlinks.append(relative)
                    continue
                if resolved.is_dir():
                    continue
            if not source.is_file():
                continue
            starter_file = spec.starter_dir / relative
            if (
                starter_file.is_file()
                and not _is_learner_file(relative, spec.learner_files)
                and _digest(starter_file) != _digest(source)
            ):
                workspace.changed_starter_files.append(relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_dir():
                shutil.rmtree(target)
            shutil.copyfile(source, target)
            shutil.copymode(source, target)
            if target.suffix == ".sh" and b"\r\n" in target.read_bytes():
                workspace.crlf_scripts.append(relative)


def _measure(context: Path, workspace: Workspace) -> None:
    # The same reading and walk as the build's tar body, so the size is what is sent.
    try:
        workspace.context_bytes, workspace.largest_files = context_size(context)
    except SubmissionError:
        # A pattern `docker build` refuses: the dockerignore rule and the build report
        # it; the size of a context that cannot be sent is not worth a verdict of its own.
        workspace.context_bytes, workspace.largest_files = 0, []
