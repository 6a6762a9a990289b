"""A class cut into shards and merged again, with no engine: the cut (``Shard``,
``select``), the manifest, and ``grader batch-merge``, which must give what one unsharded
``grader batch`` of the class gives, or refuse with a hint and nothing written.

Shard folders are written by the real :func:`grader.batch.grade_class` (the share, the
class files, ``shard.json``); only the grading of each student, a child process that needs
an engine, is replaced by writing that student's report, as the child would.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from test_cli_conventions import grader  # the CLI as a user runs it, with no engine
from test_html_report import CLASS

from grader.batch import grade_class
from grader.report import markdown
from grader.report.json import dumps
from grader.results import GradeReport
from grader.shards import (
    MANIFEST,
    Shard,
    ShardError,
    ShardManifest,
    class_digest,
    merge_shards,
    select,
)
from grader.spec import ExerciseSpec, load_spec

ROOT = Path(__file__).resolve().parents[2]
SPEC = load_spec(ROOT / "exercises" / "model-api.toml")
# Code-point order puts "Zoe" first and "émile" last, where a locale's order would not.
NAMES = ("ann", "bob", "cat", "dan", "eve", "fay", "gus", "hal", "ivy", "Zoe", "émile")
CLASS_FILES = ("grades.csv", "canvas.csv", "moodle.csv", "overview.html")


# --- The cut -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shard"),
    [("1/1", Shard(1, 1)), ("2/3", Shard(2, 3)), (" 3/3 ", Shard(3, 3)), ("01/04", Shard(1, 4))],
)
def test_shard_parses_i_over_n(text: str, shard: Shard) -> None:
    assert Shard.parse(text) == shard
    assert str(shard) == f"{shard.index}/{shard.count}"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("", "is not I/N: give the shard and the number of shards, e.g. --shard 1/3"),
        ("3", "is not I/N: give the shard and the number of shards, e.g. --shard 1/3"),
        ("1-3", "is not I/N: give the shard and the number of shards"),
        ("a/3", "is not I/N with whole numbers I and N, e.g. --shard 1/3"),
        ("1/b", "is not I/N with whole numbers I and N"),
        ("-1/3", "is not I/N with whole numbers I and N"),
        ("1.5/3", "is not I/N with whole numbers I and N"),
        ("1/3/5", "is not I/N with whole numbers I and N"),
        ("1/0", "the number of shards N must be 1 or more"),
        ("0/3", "shards count from 1 to N (1 ≤ I ≤ N): give one of --shard 1/3 … 3/3"),
        ("4/3", "shards count from 1 to N (1 ≤ I ≤ N): give one of --shard 1/3 … 3/3"),
    ],
)
def test_bad_shards_are_refused_saying_what_to_give(text: str, said: str) -> None:
    # The message starts with what was given, then says what to give.
    with pytest.raises(ValueError, match="^" + re.escape(repr(text))) as raised:
        Shard.parse(text)
    assert said in str(raised.value)


@pytest.mark.parametrize(("index", "count"), [(0, 3), (4, 3), (1, 0), (-1, 2)])
def test_a_shard_outside_its_count_cannot_be_made(index: int, count: int) -> None:
    with pytest.raises(ValueError, match="shard"):
        Shard(index, count)


def test_select_is_sorted_round_robin() -> None:
    """Is the I-th shard every N-th student of the sorted class, from the I-th? (Pinned:
    shards graded by graders that cut differently would not merge.)"""
    students = ["gus", "ann", "fay", "bob", "eve", "cat", "dan"]
    assert select(students, Shard(1, 3)) == ["ann", "dan", "gus"]
    assert select(students, Shard(2, 3)) == ["bob", "eve"]
    assert select(students, Shard(3, 3)) == ["cat", "fay"]
    # Code points, not a locale's order nor the filesystem's.
    assert select(NAMES, Shard(1, 1)) == [*sorted(NAMES)]
    assert select(NAMES, Shard(1, 1))[0] == "Zoe"
    assert select(NAMES, Shard(1, 1))[-1] == "émile"


@pytest.mark.parametrize("size", [0, 1, 2, 5, 11, 30, 97])
@pytest.mark.parametrize("count", [1, 2, 3, 4, 7, 16])
def test_shards_are_disjoint_cover_everyone_and_balanced(size: int, count: int) -> None:
    students = [f"student-{n:03d}" for n in range(size)]
    shares = [select(students, Shard(i, count)) for i in range(1, count + 1)]
    every = [s for share in shares for s in share]
    assert sorted(every) == sorted(students)  # everyone ...
    assert len(every) == len(set(every))  # ... once
    sizes = [len(share) for share in shares]
    assert max(sizes) - min(sizes) <= 1


def test_select_ignores_the_order_it_is_given() -> None:
    """Does each shard get the same students whatever order the folders are listed in?"""
    students = list(NAMES)
    shuffled = random.Random(7).sample(students, len(students))
    for i in (1, 2, 3):
        expected = select(students, Shard(i, 3))
        assert select(shuffled, Shard(i, 3)) == expected
        assert select(reversed(students), Shard(i, 3)) == expected
        assert select(set(students), Shard(i, 3)) == expected
        assert select(dict.fromkeys(shuffled), Shard(i, 3)) == expected


def test_select_is_the_same_in_every_process() -> None:
    """Is the cut free of anything a process draws (hash seeds): the same on every machine?"""
    code = (
        "import json, sys; from grader.shards import Shard, select; "
        "print(json.dumps([select(json.loads(sys.argv[1]), Shard(i, 3)) for i in (1, 2, 3)]))"
    )
    expected = [select(NAMES, Shard(i, 3)) for i in (1, 2, 3)]
    for seed in ("1", "2"):
        result = subprocess.run(
            [sys.executable, "-c", code, json.dumps(random.Random(seed).sample(NAMES, 11))],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert json.loads(result.stdout) == expected


def test_the_class_digest_is_its_roster_in_any_order() -> None:
    assert class_digest(NAMES) == class_digest(reversed(NAMES))
    assert class_digest(NAMES).startswith("sha256:")
    assert class_digest(NAMES) != class_digest(NAMES[:-1])
    assert class_digest(["ab", "c"]) != class_digest(["a", "bc"])


def test_manifest_round_trips_through_shard_json(tmp_path: Path) -> None:
    manifest = ShardManifest.of(Shard(2, 3), "model-api", reversed(NAMES))
    assert manifest.students == tuple(select(NAMES, Shard(2, 3)))
    assert (manifest.class_size, manifest.class_digest) == (11, class_digest(NAMES))
    path = manifest.write(tmp_path)
    assert path == tmp_path / MANIFEST
    assert ShardManifest.read(tmp_path) == manifest
    assert ShardManifest.from_dict(manifest.to_dict()) == manifest
    assert json.loads(path.read_text(encoding="utf-8")) == {
        "shard": 2,
        "shards": 3,
        "exercise": "model-api",
        "students": list(select(NAMES, Shard(2, 3))),
        "class_size": 11,
        "class_digest": class_digest(NAMES),
    }


# --- A class graded in shards ----------------------------------------------------------


def _report_for(name: str, n: int) -> GradeReport:
    """One of test_html_report's class (passed, failed, fault, unparsable, no engine), as
    this student's: each student's report tells whose it is."""
    report = list(CLASS.values())[n % len(CLASS)]
    return replace(report, submission=f"submitted/{name}/model-api")


@dataclass
class Classroom:
    """A class's submissions, and their grades: ``batch`` grades them as ``grader batch``
    does (``--shard`` too), each student's grade being their report in ``reports``."""

    root: Path
    reports: dict[str, GradeReport] = field(default_factory=dict)

    def enrol(self, name: str, report: GradeReport) -> None:
        (self.root / "submitted" / name / "model-api").mkdir(parents=True)
        self.reports[name] = report

    def batch(self, out: str, shard: str | None = None, spec: ExerciseSpec = SPEC) -> Path:
        folder = self.root / out
        grade_class(
            self.root / "submitted",
            spec,
            folder,
            show_progress=False,
            shard=None if shard is None else Shard.parse(shard),
        )
        return folder

    def shards(self, count: int, prefix: str = "shard") -> list[Path]:
        return [self.batch(f"{prefix}-{i}", f"{i}/{count}") for i in range(1, count + 1)]

    def grade_one(
        self, student: str, _folder: Path, spec: ExerciseSpec, out: Path, *_: object
    ) -> str:
        """What grader.batch's child does with its report: STUDENT.json, STUDENT.md."""
        data = {**self.reports[student].to_dict(), "student_id": student}
        (out / f"{student}.json").write_text(dumps(data), encoding="utf-8")
        report = GradeReport.from_dict(data)
        (out / f"{student}.md").write_text(markdown.render(report), encoding="utf-8")
        return "failed" if report.fault else "graded"


@pytest.fixture
def classroom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Classroom:
    room = Classroom(tmp_path)
    for n, name in enumerate(NAMES):
        room.enrol(name, _report_for(name, n))
    monkeypatch.setattr("grader.batch._grade_one", room.grade_one)
    return room


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_merged_shards_are_the_unsharded_class(classroom: Classroom, count: int) -> None:
    """Are N merged shards, given in any order, byte for byte what one unsharded batch of
    the class writes: every student's feedback, grades.csv, canvas.csv, moodle.csv and
    overview.html?"""
    whole = _files(classroom.batch("unsharded"))
    folders = classroom.shards(count)
    for folder in folders:
        assert (folder / MANIFEST).is_file()
    result = merge_shards(folders[::-1], classroom.root / "gradebook", course=ROOT)
    merged = _files(result.out)
    for name in CLASS_FILES:
        assert merged[name] == whole[name], name
    for student in NAMES:
        for suffix in (".json", ".md"):
            assert merged[student + suffix] == whole[student + suffix], student + suffix
    assert set(merged) == set(whole) | {"summary.md"}
    assert result.students == tuple(sorted(NAMES))
    assert result.shards == count
    assert result.overview_path == result.out / "overview.html"
    assert result.csv_path == result.out / "grades.csv"
    assert [p.name for p in result.lms_csv_paths] == ["canvas.csv", "moodle.csv"]
    faulted = {s for s, r in classroom.reports.items() if r.fault}
    assert faulted  # bob's and eve's like students: their shards should be graded again
    assert set(result.failed) == faulted
    summary = result.summary_path.read_text(encoding="utf-8")
    assert summary.startswith(
        f"## {SPEC.title}: 11 students" + (f" graded in {count} shards" if count > 1 else "")
    )


def test_a_class_smaller_than_n_merges_with_its_empty_shards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = Classroom(tmp_path)
    for n, name in enumerate(("ann", "bob")):
        room.enrol(name, _report_for(name, n))
    monkeypatch.setattr("grader.batch._grade_one", room.grade_one)
    folders = room.shards(4)
    assert json.loads((folders[3] / MANIFEST).read_text())["students"] == []
    result = merge_shards(folders, tmp_path / "gradebook", course=ROOT)
    assert result.students == ("ann", "bob")
    assert _files(result.out)["grades.csv"] == _files(room.batch("unsharded"))["grades.csv"]


def test_a_shard_graded_again_with_the_same_grades_merges(classroom: Classroom) -> None:
    """Is a shard graded twice (other timings, the same grades) merged, not refused?"""
    first, second = classroom.shards(2)
    for name in select(NAMES, Shard(1, 2)):
        report = classroom.reports[name]
        classroom.reports[name] = replace(report, timings={**report.timings, "total": 999.0})
    again = classroom.batch("shard-1-again", "1/2")
    result = merge_shards([first, second, again], classroom.root / "gradebook", course=ROOT)
    assert result.students == tuple(sorted(NAMES))


# --- Refusals --------------------------------------------------------------------------

Case = tuple[list[Path], Path, str, str]
"""The folders to merge, --out, what the refusal says, and what its hint says."""


def _no_manifest(room: Classroom) -> Case:
    """An unsharded batch's folder among the shards."""
    folders = [room.batch("shard-1", "1/2"), room.batch("feedback")]
    return (
        folders,
        room.root / "gradebook",
        "is not a finished shard: it has no shard.json",
        ("`grader batch SUBMISSIONS --shard I/N --out FOLDER` writes it"),
    )


def _interrupted(room: Classroom) -> Case:
    """A shard whose batch was stopped before it finished: no manifest yet."""
    first, second = room.shards(2)
    (second / MANIFEST).unlink()
    return (
        [first, second],
        room.root / "gradebook",
        f"{second} is not a finished shard",
        ("one that was interrupted, has none"),
    )


def _not_a_folder(room: Classroom) -> Case:
    return (
        [room.root / "shard-9"],
        room.root / "gradebook",
        "shard-9 is not a folder",
        ("Give the --out folders of `grader batch --shard I/N`"),
    )


def _unreadable_manifest(room: Classroom) -> Case:
    first, second = room.shards(2)
    (second / MANIFEST).write_text('{"shard": 2', encoding="utf-8")
    return (
        [first, second],
        room.root / "gradebook",
        "cannot be read as a shard's manifest",
        ("Grade the shard again"),
    )


def _different_exercises(room: Classroom) -> Case:
    other = load_spec(ROOT / "exercises" / "batch-scoring.toml")
    folders = [room.batch("shard-1", "1/2"), room.batch("shard-2", "2/2", spec=other)]
    return (
        folders,
        room.root / "gradebook",
        "The shards are of different exercises",
        ("Merge the shards of one exercise at a time"),
    )


def _different_counts(room: Classroom) -> Case:
    folders = [room.batch("shard-1", "1/2"), room.batch("shard-2", "2/3")]
    return (
        folders,
        room.root / "gradebook",
        "cut into different numbers of shards",
        ("every --shard I/N with the same N"),
    )


def _missing_shard(room: Classroom) -> Case:
    folders = room.shards(3)
    del folders[1]
    return (
        folders,
        room.root / "gradebook",
        "Shard 2/3 of model-api is missing",
        ("--shard 2/3 --out FOLDER"),
    )


def _incomplete_shard(room: Classroom) -> Case:
    folders = room.shards(2)
    first = select(NAMES, Shard(2, 2))[0]
    (folders[1] / f"{first}.json").unlink()
    return (
        folders,
        room.root / "gradebook",
        f"lists {first} but holds no {first}.json",
        ("Grade the shard again with `grader batch SUBMISSIONS --shard 2/2`"),
    )


def _graded_differently(room: Classroom) -> Case:
    """Shard 1 graded twice, a student's grade changed in between."""
    folders = room.shards(2)
    student = select(NAMES, Shard(1, 2))[0]
    regraded = replace(CLASS["cat"], submission=room.reports[student].submission)
    assert regraded.score != room.reports[student].score
    room.reports[student] = regraded
    folders.append(room.batch("shard-1-again", "1/2"))
    return (
        folders,
        room.root / "gradebook",
        f"{student} is graded differently in",
        ("leave out the folder of the earlier run"),
    )


def _out_is_a_listed_shard(room: Classroom) -> Case:
    folders = room.shards(2)
    return folders, folders[0], "is a shard's folder", "Merge into a folder of its own"


def _out_is_another_shard(room: Classroom) -> Case:
    folders = room.shards(2)
    return folders, room.batch("other-run", "1/2"), "is a shard's folder", "a folder of its own"


def _class_changed_between_shards(room: Classroom) -> Case:
    """A student joined after the first shard was graded."""
    first = room.batch("shard-1", "1/2")
    room.enrol("zed", CLASS["cat"])
    second = room.batch("shard-2", "2/2")
    return (
        [first, second],
        room.root / "gradebook",
        "cut from different classes",
        ("from the same submissions folder"),
    )


def _manifest_edited(room: Classroom) -> Case:
    """A shard.json that no longer lists one of its students."""
    folders = room.shards(2)
    data = json.loads((folders[0] / MANIFEST).read_text(encoding="utf-8"))
    data["students"] = data["students"][1:]
    (folders[0] / MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    return (
        folders,
        room.root / "gradebook",
        "not the 11 of the class they were cut from",
        ("Grade the shards again, each into a fresh folder"),
    )


REFUSALS: dict[str, Callable[[Classroom], Case]] = {
    "no-shard-json": _no_manifest,
    "interrupted-shard": _interrupted,
    "not-a-folder": _not_a_folder,
    "unreadable-shard-json": _unreadable_manifest,
    "different-exercises": _different_exercises,
    "different-n": _different_counts,
    "missing-shard": _missing_shard,
    "incomplete-shard": _incomplete_shard,
    "graded-differently": _graded_differently,
    "out-is-a-listed-shard": _out_is_a_listed_shard,
    "out-is-another-shard": _out_is_another_shard,
    "class-changed": _class_changed_between_shards,
    "shard-json-edited": _manifest_edited,
}


@pytest.mark.parametrize("case", REFUSALS)
def test_a_merge_that_cannot_be_right_is_refused_with_a_hint(
    classroom: Classroom, case: str
) -> None:
    folders, out, said, hint = REFUSALS[case](classroom)
    before = _files(out) if out.exists() else None
    with pytest.raises(ShardError) as raised:
        merge_shards(folders, out, course=ROOT)
    assert said in raised.value.message
    assert hint in raised.value.hint
    # Refused before writing anything.
    assert (_files(out) if out.exists() else None) == before


@pytest.mark.parametrize("case", REFUSALS)
def test_grader_batch_merge_refuses_with_exit_2_and_no_traceback(
    classroom: Classroom, case: str
) -> None:
    folders, out, said, hint = REFUSALS[case](classroom)
    before = _files(out) if out.exists() else None
    result = grader("batch-merge", *map(str, folders), "--out", str(out), "--course", str(ROOT))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("grader: ")
    message, _, hint_said = result.stderr.partition("\nHint: ")
    assert said in message
    assert hint in hint_said
    assert "Traceback" not in result.stdout + result.stderr
    assert (_files(out) if out.exists() else None) == before


@pytest.mark.parametrize("text", ["0/3", "4/3", "3", "a/b", "1/0"])
def test_grader_batch_refuses_a_bad_shard_before_grading(tmp_path: Path, text: str) -> None:
    (tmp_path / "submitted" / "ann").mkdir(parents=True)
    out = tmp_path / "shard"
    result = grader(
        "batch", str(tmp_path / "submitted"), "--exercise", "model-api", "--shard", text,
        "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 2
    assert f"argument --shard: {text!r}" in result.stderr
    assert "--shard 1/" in result.stderr  # what to give instead
    assert "Traceback" not in result.stdout + result.stderr
    assert not out.exists()


def test_grader_batch_merge_says_where_everything_is(classroom: Classroom) -> None:
    """Does the command merge, say where the grades and the overview are, join nbgrader's
    export, and exit 2 because some students met a fault (as `grader batch` would)?"""
    folders = classroom.shards(3)
    lessons = classroom.root / "lessons.csv"
    lessons.write_text(
        "assignment,student_id,score,max_score\n01-containers,ann,4,4\n", encoding="utf-8"
    )
    out = classroom.root / "gradebook"
    result = grader(
        "batch-merge", *map(str, folders), "--out", str(out), "--course", str(ROOT),
        "--merge-nbgrader", str(lessons),
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout.startswith("Merged 3 shards of model-api: 11 students, 4 of whom")
    assert f"grades in {out / 'grades.csv'}" in result.stdout
    assert f"Class overview: {out / 'overview.html'}." in result.stdout
    assert f"Merged with {lessons}: {out / 'gradebook.csv'}." in result.stdout
    for name in (*CLASS_FILES, "summary.md", "gradebook.csv"):
        assert (out / name).is_file(), name


def test_grader_batch_merge_exits_0_when_everyone_was_graded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = Classroom(tmp_path)
    for name in ("ann", "bob", "cat"):
        room.enrol(name, CLASS["cat"])
    monkeypatch.setattr("grader.batch._grade_one", room.grade_one)
    folders = room.shards(2)
    result = grader("batch-merge", *map(str, folders), "--out", str(tmp_path / "gradebook"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Merged 2 shards of model-api: 3 students. Feedback in")
