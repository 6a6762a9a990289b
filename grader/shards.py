"""A class bigger than one machine: a share of it graded per machine, the shares merged.

``grader batch SUBMISSIONS --shard I/N`` grades the I-th of N shares of the class (see
:func:`select`) and, when it finishes, writes ``OUT/shard.json`` (:class:`ShardManifest`):
which share it is, of which exercise, its students, and the whole class it was cut from.
``grader batch-merge SHARD_FOLDER… --out OUT`` (:func:`merge_shards`) checks that the
folders are the N shares of one class and one exercise, then writes what an unsharded
``grader batch`` of the class would: each student's ``STUDENT.json`` and ``STUDENT.md``,
``grades.csv``, ``canvas.csv``, ``moodle.csv`` and ``overview.html`` (through
:mod:`grader.batch`'s writers), and a ``summary.md`` of the class for a job summary.

A merge that cannot be right is refused with a :class:`ShardError` (exit 2) saying what
to do: a folder without a finished shard's manifest, shards of different exercises, cut
into different numbers or from different classes, a shard missing, a student a shard
lists without their report, or one student graded differently in two folders.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.errors import GraderError
from grader.report.json import dumps
from grader.results import GradeReport

__all__ = [
    "MANIFEST",
    "MergeResult",
    "Shard",
    "ShardError",
    "ShardManifest",
    "class_digest",
    "merge_shards",
    "select",
]

MANIFEST = "shard.json"
"""The manifest's file name in a shard's output folder."""


class ShardError(GraderError):
    """Shard folders that cannot be merged into one class's gradebook."""


@dataclass(frozen=True, order=True)
class Shard:
    """The ``index``-th of ``count`` shares of a class (``--shard 2/3``)."""

    index: int
    """Which share, from 1."""
    count: int
    """How many shares the class is cut into (N)."""

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"the number of shards must be 1 or more, not {self.count}")
        if not 1 <= self.index <= self.count:
            raise ValueError(f"shard {self.index} is not one of 1 to {self.count}")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"2/3"`` as ``Shard(2, 3)``; ValueError with the fix for anything else."""
        index, slash, count = text.strip().partition("/")
        example = "e.g. --shard 1/3 for the first of 3 shards"
        if not slash:
            raise ValueError(
                f"{text!r} is not I/N: give the shard and the number of shards, {example}"
            )
        if not (index.isdigit() and count.isdigit()):
            raise ValueError(f"{text!r} is not I/N with whole numbers I and N, {example}")
        i, n = int(index), int(count)
        if n < 1:
            raise ValueError(f"{text!r}: the number of shards N must be 1 or more, {example}")
        if not 1 <= i <= n:
            raise ValueError(
                f"{text!r}: shards count from 1 to N (1 ≤ I ≤ N): give one of --shard "
                f"1/{n} … {n}/{n}"
            )
        return cls(i, n)


def select(students: Iterable[str], shard: Shard) -> list[str]:
    """The students of ``shard``: in the ids' sorted order, every N-th from the I-th.

    Sorted round-robin rather than a hash of each id (sha256 mod N), for balance: the
    run lasts as long as its biggest shard, and round-robin's shares differ by at most
    one student, where a hash's are a draw: hashed into 3 shards, 30 students give a
    biggest shard of 12 or more half the time and of 15 one time in ten, a run 20% to 50%
    longer than 10 a shard. A hash would keep a student on their shard when another
    joins the class, but that buys nothing here: every shard of a run is cut from the
    same checkout of the submissions and grades its share afresh, and the manifests
    record the class (:func:`class_digest`), so shards cut from different rosters are
    refused at the merge rather than overlapping or missing someone. The order is
    Python's (code points), the same on every machine and locale, and never the
    filesystem's listing order.
    """
    return sorted(students)[shard.index - 1 :: shard.count]


def class_digest(students: Iterable[str]) -> str:
    """The class's fingerprint: sha256 of its sorted ids, one a line."""
    text = "".join(f"{student}\n" for student in sorted(students))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ShardManifest:
    """``OUT/shard.json``: what a finished ``grader batch --shard I/N`` graded."""

    shard: Shard
    """Which share of the class."""
    exercise: str
    """The exercise graded (its spec's name)."""
    students: tuple[str, ...]
    """This share's students, sorted; each has ``STUDENT.json`` and ``STUDENT.md``."""
    class_size: int
    """How many students the whole class has."""
    class_digest: str
    """:func:`class_digest` of the whole class: the shares of one class agree on it."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "shard": self.shard.index,
            "shards": self.shard.count,
            "exercise": self.exercise,
            "students": list(self.students),
            "class_size": self.class_size,
            "class_digest": self.class_digest,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ShardManifest:
        return cls(
            shard=Shard(int(data["shard"]), int(data["shards"])),
            exercise=str(data["exercise"]),
            students=tuple(str(s) for s in data["students"]),
            class_size=int(data["class_size"]),
            class_digest=str(data["class_digest"]),
        )

    @classmethod
    def of(cls, shard: Shard, exercise: str, everyone: Iterable[str]) -> ShardManifest:
        """The manifest of ``shard`` of the class ``everyone``."""
        everyone = sorted(everyone)
        return cls(
            shard, exercise, tuple(select(everyone, shard)), len(everyone), class_digest(everyone)
        )

    def write(self, out: Path) -> Path:
        path = out / MANIFEST
        path.write_text(dumps(self.to_dict()), encoding="utf-8")
        return path

    @classmethod
    def read(cls, folder: Path) -> ShardManifest:
        """The manifest in ``folder``; ShardError saying why when there is none to trust."""
        if not folder.is_dir():
            raise ShardError(
                f"{folder} is not a folder.",
                hint="Give the --out folders of `grader batch --shard I/N`, one per shard.",
            )
        path = folder / MANIFEST
        if not path.is_file():
            raise ShardError(
                f"{folder} is not a finished shard: it has no {MANIFEST}.",
                hint="`grader batch SUBMISSIONS --shard I/N --out FOLDER` writes it when the "
                "shard is graded; a batch without --shard, or one that was interrupted, has "
                "none. Grade the shard (again) and merge its folder.",
            )
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise ShardError(
                f"{path} cannot be read as a shard's manifest ({exc}).",
                hint="Grade the shard again with `grader batch SUBMISSIONS --shard I/N`.",
            ) from exc


@dataclass(frozen=True)
class MergeResult:
    """What ``merge_shards`` wrote."""

    out: Path
    """The merged folder."""
    exercise: str
    """The exercise's name."""
    shards: int
    """How many shards were merged (N)."""
    students: tuple[str, ...]
    """Every student of the class, sorted."""
    failed: tuple[str, ...]
    """Students the grader could not grade (a fault: their shard should be graded again)."""
    csv_path: Path
    """``OUT/grades.csv``."""
    lms_csv_paths: tuple[Path, ...]
    """``OUT/canvas.csv`` and ``OUT/moodle.csv``."""
    summary_path: Path
    """``OUT/summary.md``: the class at a glance, in Markdown (for a job summary)."""
    overview_path: Path
    """``OUT/overview.html``: the class's scores and each check's pass rate, for a browser."""


def _grade(report: GradeReport) -> tuple[object, ...]:
    """What a grade is, for telling two grades of one student apart (timings aside)."""
    checks = tuple((c.id, c.status.value, c.points, c.max_points) for c in report.checks)
    return (report.exercise, report.score, report.max_score, report.fault, checks)


def _check_shards_agree(found: Sequence[tuple[Path, ShardManifest]]) -> None:
    """One exercise, one N, one class, every shard: else ShardError naming the folders."""

    def listing(key: Any) -> str:
        groups: dict[str, list[str]] = {}
        for folder, manifest in found:
            groups.setdefault(str(key(manifest)), []).append(f"{folder} ({manifest.shard})")
        return "; ".join(f"{value}: {', '.join(folders)}" for value, folders in groups.items())

    if len({m.exercise for _, m in found}) > 1:
        raise ShardError(
            f"The shards are of different exercises: {listing(lambda m: m.exercise)}.",
            hint="Merge the shards of one exercise at a time.",
        )
    if len({m.shard.count for _, m in found}) > 1:
        raise ShardError(
            "The shards were cut into different numbers of shards: "
            f"{listing(lambda m: f'N={m.shard.count}')}.",
            hint="Merge the shards of one run: every --shard I/N with the same N.",
        )
    if len({m.class_digest for _, m in found}) > 1:
        raise ShardError(
            "The shards were cut from different classes: "
            f"{listing(lambda m: f'{m.class_size} students, {m.class_digest[:19]}…')}.",
            hint="Grade every shard from the same submissions folder (one checkout, no "
            "student added or removed in between), then merge.",
        )
    count = found[0][1].shard.count
    missing = sorted(set(range(1, count + 1)) - {m.shard.index for _, m in found})
    if missing:
        names = ", ".join(f"{i}/{count}" for i in missing)
        raise ShardError(
            f"Shard{'s' if len(missing) > 1 else ''} {names} of {found[0][1].exercise} "
            f"{'are' if len(missing) > 1 else 'is'} missing: the merge has "
            f"{', '.join(str(m.shard) for _, m in sorted(found, key=lambda f: f[1].shard))}.",
            hint=f"Grade {'them' if len(missing) > 1 else 'it'} with `grader batch "
            f"SUBMISSIONS --shard {missing[0]}/{count} --out FOLDER` (each missing I) and "
            "merge every shard's folder.",
        )


def merge_shards(folders: Sequence[Path], out: Path, *, course: Path | None = None) -> MergeResult:
    """Merge the output folders of ``grader batch --shard I/N``, I = 1…N, into ``out``.

    ``out`` then holds what ``grader batch`` of the whole class writes (feedback,
    ``grades.csv``, ``canvas.csv``, ``moodle.csv``, ``overview.html``), ``summary.md``
    besides. Raises ShardError, before writing anything, when the folders are not the
    shards of one class and one exercise, or disagree on a student's grade.
    """
    from grader.batch import read_reports, write_csv, write_lms_csvs, write_overview
    from grader.report import class_summary
    from grader.spec import find_exercise

    if not folders:
        raise ShardError("No shard folders to merge.", hint="Give every shard's --out folder.")
    if (out / MANIFEST).exists() or out.resolve() in {f.resolve() for f in folders}:
        raise ShardError(
            f"--out {out} is a shard's folder.",
            hint="Merge into a folder of its own, e.g. --out gradebook.",
        )
    found = [(folder, ShardManifest.read(folder)) for folder in folders]
    _check_shards_agree(found)

    graded: dict[str, tuple[Path, GradeReport]] = {}
    for folder, manifest in found:
        reports = read_reports(folder, dict.fromkeys(manifest.students, folder))
        if unreported := [s for s in manifest.students if s not in reports]:
            raise ShardError(
                f"Shard {manifest.shard} in {folder} lists {', '.join(unreported)} but holds "
                f"no {unreported[0]}.json: the folder is incomplete.",
                hint=f"Grade the shard again with `grader batch SUBMISSIONS --shard "
                f"{manifest.shard}` and merge its new folder.",
            )
        for student, report in reports.items():
            if student in graded and _grade(graded[student][1]) != _grade(report):
                other, earlier = graded[student]
                raise ShardError(
                    f"{student} is graded differently in {other} ({earlier.score:g}/"
                    f"{earlier.max_score:g}) and in {folder} ({report.score:g}/"
                    f"{report.max_score:g}).",
                    hint="Merge one grade of each student: leave out the folder of the "
                    "earlier run, or grade that shard again into a fresh folder.",
                )
            graded.setdefault(student, (folder, report))

    first = found[0][1]
    students = tuple(sorted(graded))
    if class_digest(students) != first.class_digest:
        raise ShardError(
            f"The shards hold {len(students)} students, not the {first.class_size} of the "
            "class they were cut from: a shard.json was changed or belongs to another folder.",
            hint="Grade the shards again, each into a fresh folder, then merge.",
        )
    spec = find_exercise(first.exercise, Path("."), course)
    out.mkdir(parents=True, exist_ok=True)
    for student in students:
        source = graded[student][0]
        for suffix in (".json", ".md"):
            if (source / f"{student}{suffix}").is_file():
                shutil.copyfile(source / f"{student}{suffix}", out / f"{student}{suffix}")
    reports = read_reports(out, dict.fromkeys(students, out))
    csv_path = write_csv(out, reports, spec)
    lms_csv_paths = write_lms_csvs(out, reports, spec)
    overview_path = write_overview(out, reports, spec)
    summary_path = out / "summary.md"
    summary_path.write_text(
        class_summary.render(reports, spec.title, shards=first.shard.count), encoding="utf-8"
    )
    failed = tuple(s for s, r in reports.items() if r.fault)
    return MergeResult(
        out=out,
        exercise=spec.name,
        shards=first.shard.count,
        students=students,
        failed=failed,
        csv_path=csv_path,
        lms_csv_paths=lms_csv_paths,
        summary_path=summary_path,
        overview_path=overview_path,
    )
