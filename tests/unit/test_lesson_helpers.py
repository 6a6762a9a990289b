"""The helpers the lessons use for what differs between engines (grader/lesson_helpers.py).

No engine: build outputs recorded from each builder (recordings/build-output/), ``docker
save`` tars in each layout (tests/saved_images.py), and stand-in ``docker`` programs.

The build outputs were recorded with `docker build` of the same two Dockerfiles (an app,
then the app after an edit to app.py; a two-stage build whose last RUN fails): BuildKit's
plain progress from Debian's CLI 20.10 (BuildKit built in) and from buildx 0.13 (Docker
23+, Docker Desktop), the classic builder through the CLI 28.2 without buildx, and Podman
5.4 through its Docker-compatible API. Engines: the host's 20.10, the nested lanes' Engine
26.1 and Podman.
"""

from __future__ import annotations

import io
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import docker.errors
import nbformat
import pytest

from grader.lesson_helpers import (
    BUILTIN_BUILDKIT_SILENCE,
    EntryKind,
    begin_lesson,
    choose_builder,
    docker_clis,
    end_lesson,
    history_instruction,
    host_address,
    learners_container,
    learners_volume,
    lesson_prefix,
    parse_build_output,
    saved_image,
)
from tests import saved_images
from tests.saved_images import diff_id, image_config, layer_tar

ROOT = Path(__file__).resolve().parents[2]
RECORDINGS = Path(__file__).parent / "recordings" / "build-output"
RECORDED = sorted(path.stem for path in RECORDINGS.glob("*.txt"))


def recorded(name: str) -> str:
    return (RECORDINGS / f"{name}.txt").read_text()


HIT, MISS = True, False
APP_EDIT_BUILDKIT = [
    ("[1/5]", "FROM docker.io/library/python:3.11-slim", MISS),
    ("[2/5]", "WORKDIR /app", HIT),
    ("[3/5]", "COPY requirements.txt .", HIT),
    ("[4/5]", "RUN pip install --no-cache-dir -r requirements.txt", HIT),
    ("[5/5]", "COPY app.py .", MISS),
]
APP_EDIT_CLASSIC = [
    ("Step 1/7", "FROM python:3.11-slim", MISS),
    ("Step 2/7", "WORKDIR /app", HIT),
    ("Step 3/7", "COPY requirements.txt .", HIT),
    ("Step 4/7", "RUN pip install --no-cache-dir -r requirements.txt", HIT),
    ("Step 5/7", "COPY app.py .", MISS),
    ("Step 6/7", 'CMD ["python", "app.py"]', MISS),
    ("Step 7/7", "LABEL org.docker-ml-course.recording=1", MISS),
]
APP_EDIT_PODMAN = [
    (label.upper(), instruction, cached) for label, instruction, cached in APP_EDIT_CLASSIC
]
APP_EDIT_PODMAN[-1] = ("STEP 7/7", 'LABEL "org.docker-ml-course.recording"="1"', MISS)
MULTI_STAGE_BUILDKIT = [
    ("[builder 1/2]", "FROM docker.io/library/python:3.11-slim", HIT),
    ("[builder 2/2]", "RUN python -c \"open('/built.txt','w').write('ok')\"", MISS),
    ("[stage-1 2/3]", "COPY --from=builder /built.txt /built.txt", MISS),
    ("[stage-1 3/3]", 'RUN cat /built.txt && echo " and missing" && false', MISS),
]
EXPECTED_STEPS = {
    "buildkit-cli-20.10--engine-20.10--app-edit": ("buildkit", APP_EDIT_BUILDKIT),
    "buildkit-cli-20.10--engine-26.1--app-edit": ("buildkit", APP_EDIT_BUILDKIT),
    "buildx-0.13--engine-26.1--app-edit": ("buildkit", APP_EDIT_BUILDKIT),
    "buildx-0.13--engine-26.1--first-build": (
        "buildkit",
        [(label, instruction, MISS) for label, instruction, _ in APP_EDIT_BUILDKIT],
    ),
    "buildkit-cli-20.10--engine-20.10--multi-stage-run-fails": ("buildkit", MULTI_STAGE_BUILDKIT),
    "buildx-0.13--engine-26.1--multi-stage-run-fails": ("buildkit", MULTI_STAGE_BUILDKIT),
    "classic-cli-28.2--engine-20.10--app-edit": ("classic", APP_EDIT_CLASSIC),
    "classic-cli-28.2--engine-20.10--first-build": (
        "classic",
        [(lb, ins, lb == "Step 2/7") for lb, ins, _ in APP_EDIT_CLASSIC],
    ),
    "classic-cli-28.2--engine-20.10--multi-stage-run-fails": (
        "classic",
        [
            ("Step 1/6", "FROM python:3.11-slim AS builder", MISS),
            ("Step 2/6", "RUN python -c \"open('/built.txt','w').write('ok')\"", MISS),
            ("Step 3/6", "FROM python:3.11-slim", MISS),
            ("Step 4/6", "COPY --from=builder /built.txt /built.txt", MISS),
            ("Step 5/6", 'RUN cat /built.txt && echo " and missing" && false', MISS),
        ],
    ),
    "podman-5.4--cli-28.2--app-edit": ("podman", APP_EDIT_PODMAN),
    "podman-5.4--cli-28.2--first-build": (
        "podman",
        [(lb, ins, MISS) for lb, ins, _ in APP_EDIT_PODMAN],
    ),
    "podman-5.4--cli-28.2--multi-stage-run-fails": (
        "podman",
        [
            ("[1/2] STEP 1/2", "FROM python:3.11-slim AS builder", MISS),
            ("[1/2] STEP 2/2", "RUN python -c \"open('/built.txt','w').write('ok')\"", MISS),
            ("[2/2] STEP 1/4", "FROM python:3.11-slim", MISS),
            ("[2/2] STEP 2/4", "COPY --from=builder /built.txt /built.txt", MISS),
            ("[2/2] STEP 3/4", 'RUN cat /built.txt && echo " and missing" && false', MISS),
        ],
    ),
}


def test_every_recording_is_checked() -> None:
    assert set(EXPECTED_STEPS) == set(RECORDED)


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_build_output_steps_and_cache_hits(name: str) -> None:
    """Each step once, in Dockerfile order, with its cache hit, from each builder's output."""
    dialect, expected = EXPECTED_STEPS[name]
    parsed = parse_build_output(recorded(name))
    assert parsed.dialect == dialect
    assert [(s.label, s.instruction, s.cached) for s in parsed.steps] == expected
    failed = "fails" in name
    assert bool(parsed.errors) == failed
    assert bool(parsed.steps[-1].error) == failed


def test_build_output_keeps_each_steps_own_output() -> None:
    for name in (
        "buildx-0.13--engine-26.1--first-build",
        "classic-cli-28.2--engine-20.10--first-build",
        "podman-5.4--cli-28.2--first-build",
    ):
        steps = parse_build_output(recorded(name)).steps
        install = next(s for s in steps if "pip install" in s.instruction)
        assert "Successfully installed six-1.16.0" in install.output, name
        # The classic builder colours a RUN's stderr: the colour codes are gone.
        assert all("\x1b" not in line for s in steps for line in s.output), name
        assert all(not s.output for s in steps if s is not install and s.keyword != "LABEL")


def test_buildkit_times_come_from_its_done_lines() -> None:
    steps = parse_build_output(recorded("buildx-0.13--engine-26.1--first-build")).steps
    assert [s.seconds for s in steps] == [0.0, 0.0, 0.0, 1.3, 0.0]
    steps = parse_build_output(recorded("buildx-0.13--engine-26.1--app-edit")).steps
    assert [s.seconds for s in steps if s.cached] == [0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    "name", ["classic-cli-28.2--engine-20.10--first-build", "podman-5.4--cli-28.2--first-build"]
)
def test_classic_and_podman_steps_are_timed_by_their_lines(name: str) -> None:
    """A step lasts from its first line to its layer's line (or the next step's)."""
    from grader.lesson_helpers import BuildOutput

    parsed = BuildOutput()
    for second, line in enumerate(recorded(name).splitlines()):
        parsed.feed(line, at=float(second))
    parsed.finish(at=1000.0)
    install = next(s for s in parsed.steps if "pip install" in s.instruction)
    assert install.seconds >= 5  # the five lines pip printed, one "second" each
    assert all(s.seconds <= 3 for s in parsed.steps if s is not install and s.keyword != "LABEL")


def test_step_lines_are_the_gist_of_a_build() -> None:
    parsed = parse_build_output(recorded("buildx-0.13--engine-26.1--app-edit"))
    assert parsed.step_lines == [
        "#4 [1/5] FROM docker.io/library/python:3.11-slim",
        "#4 DONE 0.0s",
        "#6 [2/5] WORKDIR /app",
        "#6 CACHED",
        "#7 [3/5] COPY requirements.txt .",
        "#7 CACHED",
        "#8 [4/5] RUN pip install --no-cache-dir -r requirements.txt",
        "#8 CACHED",
        "#9 [5/5] COPY app.py .",
        "#9 DONE 0.0s",
    ]
    parsed = parse_build_output(recorded("podman-5.4--cli-28.2--app-edit"))
    assert parsed.step_lines[:3] == [
        "STEP 1/7: FROM python:3.11-slim",
        "STEP 2/7: WORKDIR /app",
        "--> Using cache 8f1b7c15412e67285881a17def2295ee419ec18ae6c5b6a2b23beb22c0b189ac",
    ]


def test_buildkit_steps_are_put_back_in_dockerfile_order() -> None:
    """BuildKit prints parallel steps as they come; a step's header may come again."""
    parsed = parse_build_output(
        "#7 [3/4] COPY app.py .\n#5 [2/4] WORKDIR /app\n#5 CACHED\n#8 [ 4/4] RUN make\n"
        "#8 0.1 building\n#7 DONE 0.1s\n#8 [ 4/4] RUN make\n#8 2.0 built\n#8 DONE 2.5s\n"
    )
    assert [(s.label, s.instruction, s.seconds) for s in parsed.steps] == [
        ("[2/4]", "WORKDIR /app", 0.0),
        ("[3/4]", "COPY app.py .", 0.1),
        ("[4/4]", "RUN make", 2.5),
    ]
    assert parsed.steps[-1].output == ["building", "built"]


# --- docker build as a learner runs it ------------------------------------------------


def _fake_docker(folder: Path, version: str, buildx: bool, output: str = "") -> Path:
    """A stand-in `docker` program: its version, buildx or not, and a build's output."""
    folder.mkdir(parents=True)
    (folder / "build-output.txt").write_text(output)
    script = folder / "docker"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "--version" ]; then echo "Docker version {version}, build 1234567"; exit 0; fi\n'
        f'if [ "$1" = "buildx" ]; then exit {0 if buildx else 1}; fi\n'
        f'if [ "$1" = "build" ]; then echo "$DOCKER_BUILDKIT $*" > "{folder}/called";'
        f' cat "{folder}/build-output.txt"; exit 0; fi\n'
        "exit 3\n"
    )
    script.chmod(0o755)
    return folder


def _engine(product: str = "Docker Engine", version: str = "27.3.1") -> Any:
    components = [{"Name": "Podman Engine"}] if product == "Podman Engine" else [{"Name": "Engine"}]
    return SimpleNamespace(
        version=lambda: {"Version": version, "Os": "linux", "Components": components},
        info=lambda: {"DriverStatus": []},
        api=SimpleNamespace(base_url="http+docker://localhost"),
    )


def test_buildkit_from_the_first_cli_that_has_it(tmp_path: Path) -> None:
    """Here: CLI 28 without buildx comes first on PATH, Debian's 20.10 (BuildKit built in) next."""
    no_buildx = _fake_docker(tmp_path / "local", "28.2.2", buildx=False)
    built_in = _fake_docker(tmp_path / "usr", "20.10.24+dfsg1", buildx=False)
    path = f"{no_buildx}:{built_in}"
    assert docker_clis(path) == [no_buildx / "docker", built_in / "docker"]
    builder = choose_builder(_engine(), path)
    assert (builder.kind, builder.cli) == ("buildkit", built_in / "docker")
    with_buildx = _fake_docker(tmp_path / "desktop", "27.3.1", buildx=True)
    builder = choose_builder(_engine(), f"{with_buildx}:{built_in}")
    assert (builder.kind, builder.cli) == ("buildkit", with_buildx / "docker")


def test_classic_without_a_buildkit_cli_and_says_why(tmp_path: Path) -> None:
    no_buildx = _fake_docker(tmp_path / "local", "28.2.2", buildx=False)
    builder = choose_builder(_engine(), str(no_buildx))
    assert builder.kind == "classic"
    assert "no buildx component" in builder.why


def test_podman_builds_with_its_own_builder(tmp_path: Path) -> None:
    with_buildx = _fake_docker(tmp_path / "desktop", "27.3.1", buildx=True)
    builder = choose_builder(_engine("Podman Engine", "5.4.2"), str(with_buildx))
    assert builder.kind == "classic"
    assert builder.why == (
        "Podman Engine 5.4.2 has no BuildKit: it builds with Buildah, whose output shows "
        "`STEP N/M:` lines."
    )


@pytest.mark.parametrize(
    ("version", "buildx", "recording", "expected_env", "expected_flag"),
    [
        ("27.3.1", True, "buildx-0.13--engine-26.1--app-edit", "1", "--progress=plain"),
        ("28.2.2", False, "classic-cli-28.2--engine-20.10--app-edit", "0", "--force-rm"),
    ],
)
def test_build_runs_the_cli_and_reads_its_output(
    tmp_path: Path,
    version: str,
    buildx: bool,
    recording: str,
    expected_env: str,
    expected_flag: str,
) -> None:
    folder = _fake_docker(tmp_path / "bin", version, buildx, recorded(recording))
    builder = choose_builder(_engine(), str(folder))
    result = builder.build(tmp_path, "app:1", {"org.docker-ml-course.lesson": "02"})
    called = (folder / "called").read_text().split()
    assert called[0] == expected_env
    assert expected_flag in called
    assert called[-4:] == ["--label", "org.docker-ml-course.lesson=02", "-t", "app:1", "."][-4:]
    assert "org.docker-ml-course.lesson=02" in called
    assert result.command.startswith(f"DOCKER_BUILDKIT={expected_env} docker build")
    assert "label" not in result.command  # the lesson's labels are not the learner's business
    install = next(s for s in result.steps if "pip install" in s.instruction)
    assert install.cached


def test_a_failed_build_raises_with_its_last_lines(tmp_path: Path) -> None:
    folder = _fake_docker(tmp_path / "bin", "28.2.2", False, "Step 1/1 : FROM nowhere\n")
    (folder / "docker").write_text(
        (folder / "docker").read_text().replace("exit 0; fi\nexit 3", "exit 1; fi\nexit 3")
    )
    builder = choose_builder(_engine(), str(folder))
    with pytest.raises(RuntimeError, match="FROM nowhere"):
        builder.build(tmp_path, "app:1")
    assert builder.build(tmp_path, "app:1", check=False).returncode == 1


def _hanging_buildkit_docker(folder: Path) -> Path:
    """A stand-in 20.10 `docker`: BuildKit builds print one line and then hang, the
    classic builder builds (each call appended to ``called``)."""
    folder.mkdir(parents=True)
    script = folder / "docker"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "--version" ]; then echo "Docker version 20.10.24+dfsg1, build 297e128"; exit 0; fi\n'
        'if [ "$1" = "buildx" ]; then exit 1; fi\n'
        f'echo "$DOCKER_BUILDKIT $*" >> "{folder}/called"\n'
        'if [ "$DOCKER_BUILDKIT" = "1" ]; then echo "#1 [internal] load build definition from '
        'Dockerfile"; exec sleep 60; fi\n'
        'echo "Step 1/1 : FROM python:3.11-slim"; echo " ---> 0123456789ab"\n'
        'echo "Successfully built 0123456789ab"\n'
    )
    script.chmod(0o755)
    return folder


def test_only_engines_before_23_have_their_buildkit_watched_for_silence(tmp_path: Path) -> None:
    built_in = _fake_docker(tmp_path / "usr", "20.10.24+dfsg1", buildx=False)
    old = choose_builder(_engine(version="20.10.24+dfsg1"), str(built_in))
    assert (old.kind, old.silence_limit) == ("buildkit", BUILTIN_BUILDKIT_SILENCE)
    assert "--quiet" not in old.command("app:1", quiet=True)  # silence must be visible
    assert "--progress=plain" in old.command("app:1", quiet=True)
    new = choose_builder(_engine(version="27.3.1"), str(built_in))
    assert (new.kind, new.silence_limit) == ("buildkit", None)
    assert "--quiet" in new.command("app:1", quiet=True)


def test_a_silent_buildkit_build_is_stopped_and_the_lesson_goes_on_classic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Engine 20.10's BuildKit can stop answering for good: the build is stopped once its
    silence passes the limit, built with the classic builder, and so are later builds."""
    monkeypatch.setattr("grader.lesson_helpers._HUNG_BUILDKIT", set())
    folder = _hanging_buildkit_docker(tmp_path / "bin")
    builder = replace(
        choose_builder(_engine(version="20.10.24+dfsg1"), str(folder)), silence_limit=1.0
    )
    assert builder.kind == "buildkit"
    first = builder.build(tmp_path, "app:1")
    assert (first.returncode, first.parsed.dialect) == (0, "classic")
    assert first.command.startswith("DOCKER_BUILDKIT=0 docker build")
    assert "printed nothing for 1 s" in capsys.readouterr().out
    second = builder.build(tmp_path, "app:2")
    assert second.parsed.dialect == "classic"
    calls = [line.split()[0] for line in (folder / "called").read_text().splitlines()]
    assert calls == ["1", "0", "0"]  # one BuildKit try, then the classic builder only


# --- where the engine is, and what docker history says --------------------------------


@pytest.mark.parametrize(
    ("base_url", "address"),
    [
        ("http+docker://localhost", "127.0.0.1"),  # a socket: Docker Desktop, Linux, Podman
        ("http://127.0.0.1:2375", "127.0.0.1"),
        ("http://172.17.0.3:2375", "172.17.0.3"),  # DOCKER_HOST=tcp://172.17.0.3:2375
    ],
)
def test_ports_are_reached_where_the_engine_publishes_them(base_url: str, address: str) -> None:
    assert host_address(SimpleNamespace(api=SimpleNamespace(base_url=base_url))) == address


@pytest.mark.parametrize(
    ("created_by", "instruction"),
    [
        ("/bin/sh -c #(nop) COPY file:35a1de9c in . ", "COPY file:35a1de9c in ."),
        ('/bin/sh -c #(nop)  CMD ["python" "app.py"]', 'CMD ["python" "app.py"]'),
        ("/bin/sh -c pip install -r requirements.txt", "RUN pip install -r requirements.txt"),
        ("|1 VERSION=1 /bin/sh -c rm /app/.env", "RUN rm /app/.env"),
        ("COPY app.py . # buildkit", "COPY app.py ."),
        (
            "RUN /bin/sh -c pip install -r requirements.txt # buildkit",
            "RUN pip install -r requirements.txt",
        ),
        ("RUN |1 VERSION=1 /bin/sh -c rm /app/.env # buildkit", "RUN rm /app/.env"),
        ("WORKDIR /app", "WORKDIR /app"),
        (
            '/bin/sh -c #(nop) LABEL "org.docker-ml-course.lesson"="02"',
            'LABEL "org.docker-ml-course.lesson"="02"',
        ),
        ("", "(base image)"),
    ],
)
def test_history_entries_read_as_instructions(created_by: str, instruction: str) -> None:
    assert history_instruction(created_by) == instruction


# --- docker save, in every layout: Lesson 3's exercise ----------------------------------

TOKEN = "0123456789abcdef"

# The leaky image of Lesson 3: a base, COPY token.txt /tmp/token.txt, RUN … && rm it.
LEAKY = [
    layer_tar(
        {"usr/bin/python3": b"\x7fELF", "etc/token.txt.example": b"TOKEN=not-this-one\n"},
        dirs=("tmp/",),
    ),
    layer_tar({"tmp/token.txt": f"TOKEN={TOKEN}\n".encode()}, dirs=("tmp/",)),
    layer_tar(dirs=("tmp/",), markers=("tmp/.wh.token.txt",)),
]
LEAKY_HISTORY = [
    {"created_by": "", "comment": "Imported from -"},
    {"created_by": "COPY token.txt /tmp/token.txt # buildkit"},
    {"created_by": "RUN /bin/sh -c cat /tmp/token.txt > /dev/null && rm /tmp/token.txt # buildkit"},
    {"created_by": 'CMD ["python" "-c" "print(\'nothing to see here\')"]', "empty_layer": True},
]
LEAKY_CONFIG = image_config([diff_id(layer) for layer in LEAKY], LEAKY_HISTORY)
SAVERS: dict[str, Callable[[Path], Path]] = {
    "legacy": lambda path: saved_images.legacy_save(path, LEAKY, LEAKY_CONFIG),
    "podman": lambda path: saved_images.podman_save(path, LEAKY, LEAKY_CONFIG),
    "oci": lambda path: saved_images.oci_save(path, LEAKY, LEAKY_CONFIG),
    "oci-gzip": lambda path: saved_images.oci_save(path, LEAKY, LEAKY_CONFIG, gzipped=True),
}


def _save(layout: str) -> bytes:
    """What `docker save` writes for the leaky image, in one engine's layout."""
    with tempfile.TemporaryDirectory() as folder:
        return SAVERS[layout](Path(folder) / "image.tar").read_bytes()


LAYOUTS = sorted(SAVERS)


def _client_saving(saved: bytes) -> Any:
    def save(chunk_size: int = 2 * 1024 * 1024) -> Iterator[bytes]:
        for start in range(0, len(saved), 1000):  # in pieces, as the engine streams it
            yield saved[start : start + 1000]

    return SimpleNamespace(images=SimpleNamespace(get=lambda reference: SimpleNamespace(save=save)))


def _lesson_cell(grade_id: str) -> str:
    notebook = nbformat.read(
        ROOT / "solutions" / "03-running-and-configuration" / "running-and-configuration.ipynb", 4
    )
    (cell,) = [
        c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
    ]
    return cell.source


@pytest.mark.parametrize("layout", LAYOUTS)
def test_lesson_3_answer_finds_the_deleted_token_in_every_layout(layout: str) -> None:
    """The instructor's answer to Lesson 3's exercise 3, run on each layout's `docker save`."""
    scope: dict[str, Any] = {
        "client": _client_saving(_save(layout)),
        "RUN": "test",
        "saved_image": saved_image,
        "EntryKind": EntryKind,
    }
    exec(_lesson_cell("leaked-token"), scope)
    assert scope["leaked_token"] == TOKEN


@pytest.mark.parametrize("layout", LAYOUTS)
def test_saved_image_shows_the_file_and_the_whiteout_that_hides_it(layout: str) -> None:
    with saved_image(_client_saving(_save(layout)), "leaky") as image:
        seen = [
            (layer.index, history_instruction(layer.created_by), entry.path, entry.kind)
            for layer in image.layers
            for entry in image.entries(layer)
            if entry.path.startswith("/tmp/")
        ]
    assert seen == [
        (1, "COPY token.txt /tmp/token.txt", "/tmp/token.txt", EntryKind.FILE),
        (
            2,
            "RUN cat /tmp/token.txt > /dev/null && rm /tmp/token.txt",
            "/tmp/token.txt",
            EntryKind.WHITEOUT,
        ),
    ]


def test_the_old_answer_finds_nothing_in_the_oci_layout() -> None:
    """Why the exercise changed: Engine 25+ writes no `…/layer.tar` for the old answer to open."""
    with tarfile.open(fileobj=io.BytesIO(_save("oci-gzip"))) as saved:
        assert not [m.name for m in saved.getmembers() if m.name.endswith("layer.tar")]
        assert f"TOKEN={TOKEN}".encode() not in b"".join(
            saved.extractfile(m).read()
            for m in saved.getmembers()
            if m.isfile()  # type: ignore[union-attr]
        )


def _flaky_docker(folder: Path, failures: int) -> Path:
    """A `docker` whose first ``failures`` builds fail as BuildKit does when the containerd
    store has collected a snapshot its cache still names; later builds succeed."""
    folder = _fake_docker(folder, "27.3.1", True, "#9 [2/2] COPY app.py .\n#9 DONE 0.1s\n")
    lost = (
        "#4 [1/2] FROM docker.io/library/python:3.11-slim\\n#4 CACHED\\n"
        "ERROR: failed to solve: snapshot sha256:7f76 does not exist: not found"
    )
    script = folder / "docker"
    script.write_text(
        script.read_text().replace(
            'if [ "$1" = "build" ]; then',
            f'if [ "$1" = "builder" ]; then echo "$*" >> "{folder}/pruned"; exit 0; fi\n'
            f'if [ "$1" = "build" ]; then echo x >> "{folder}/builds";'
            f' if [ "$(wc -l < "{folder}/builds")" -le {failures} ]; then'
            f' printf "{lost}\\n"; exit 1; fi;',
        )
    )
    return folder


def test_a_build_that_lost_a_cache_snapshot_is_run_once_more(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _flaky_docker(tmp_path / "bin", failures=1)
    result = choose_builder(_engine(), str(folder)).build(tmp_path, "app:1")
    assert result.returncode == 0
    assert (folder / "builds").read_text().count("x") == 2
    # The cache that names the lost snapshot is cleared before the second build.
    assert (folder / "pruned").read_text() == "builder prune --force\n"
    assert "lost part of its build cache" in capsys.readouterr().out


def test_a_build_that_lost_a_snapshot_twice_blames_the_engine(tmp_path: Path) -> None:
    folder = _flaky_docker(tmp_path / "bin", failures=2)
    builder = choose_builder(_engine(), str(folder))
    with pytest.raises(RuntimeError, match=r"failed twice .*\(not your Dockerfile.s fault\)"):
        builder.build(tmp_path, "app:1")
    assert (folder / "builds").read_text().count("x") == 2


def test_an_ordinary_failed_build_is_not_run_again(tmp_path: Path) -> None:
    folder = _fake_docker(tmp_path / "bin", "28.2.2", False, "Step 1/1 : FROM nowhere\n")
    script = folder / "docker"
    script.write_text(
        script.read_text()
        .replace(
            'if [ "$1" = "build" ]; then',
            f'if [ "$1" = "builder" ]; then echo "$*" >> "{folder}/pruned"; exit 0; fi\n'
            f'if [ "$1" = "build" ]; then echo x >> "{folder}/builds";',
        )
        .replace("exit 0; fi\nexit 3", "exit 1; fi\nexit 3")
    )
    with pytest.raises(RuntimeError, match="FROM nowhere"):
        choose_builder(_engine(), str(folder)).build(tmp_path, "app:1")
    assert (folder / "builds").read_text().count("x") == 1
    assert not (folder / "pruned").exists()


# --- a lesson's run: what earlier runs left, and the work folder ------------------------


@dataclass
class _Thing:
    """A container, image or volume of :class:`_LabelledEngine`."""

    labels: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    image: str = ""
    """A container's image id."""


class _LabelledEngine:
    """Containers, images and volumes with labels, tags and image ids, listed and removed as
    the SDK does: a container named NAME has id NAME, an image's id is its key."""

    def __init__(self, items: dict[str, dict[str, _Thing | dict[str, str]]]) -> None:
        self.items = {
            kind: {
                name: thing if isinstance(thing, _Thing) else _Thing(labels=thing)
                for name, thing in things.items()
            }
            for kind, things in items.items()
        }
        self.removed: list[tuple[str, str]] = []
        self.containers = SimpleNamespace(
            list=lambda all, filters: self._list("container", filters)
        )
        self.images = SimpleNamespace(
            list=lambda name=None, filters=None: self._list("image", filters or {}),
            remove=lambda ref, force, noprune: self._remove_image(ref),
        )
        self.volumes = SimpleNamespace(list=lambda filters: self._list("volume", filters))
        self.api = SimpleNamespace(
            stop=lambda ident, timeout: None,
            remove_container=lambda ident, force, v: self._remove("container", ident),
            remove_volume=lambda name, force: self._remove("volume", name),
        )

    def add(self, kind: str, name: str, thing: _Thing) -> None:
        self.items[kind][name] = thing

    def _list(self, kind: str, filters: dict[str, list[str]]) -> list[Any]:
        wanted = dict(label.split("=", 1) for label in filters.get("label", []))
        return [
            SimpleNamespace(
                id=name,
                short_id=name,
                name=name,
                tags=list(thing.tags),
                labels=thing.labels,
                status="running",
                attrs={"Config": {"Labels": thing.labels}, "State": {}, "Image": thing.image},
            )
            for name, thing in self.items[kind].items()
            if wanted.items() <= thing.labels.items()
        ]

    def _remove_image(self, reference: str) -> None:
        if reference in self.items["image"]:
            self._remove("image", reference)
            return
        for thing in self.items["image"].values():
            if reference in thing.tags:
                self.removed.append(("tag", reference))
                thing.tags.remove(reference)
                return
        raise docker.errors.ImageNotFound(reference)

    def _remove(self, kind: str, name: str) -> None:
        self.removed.append((kind, name))
        del self.items[kind][name]


def _run_labels(lesson: str, run: str) -> dict[str, str]:
    return {"org.docker-ml-course.lesson": lesson, "org.docker-ml-course.lesson-run": run}


def test_begin_lesson_removes_earlier_runs_of_this_lesson_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOCKER_ML_COURSE_WORK", str(tmp_path / "work"))
    earlier, other_lesson = _run_labels("02-x", "old1"), _run_labels("03-y", "old2")
    engine = _LabelledEngine(
        {
            "container": {"sleeper-old1": earlier, "web-old2": other_lesson, "mine": {}},
            "image": {"app-old1": earlier, "app-old2": other_lesson},
            "volume": {"data-old1": earlier, "data-now": _run_labels("02-x", "now")},
        }
    )
    (tmp_path / "work" / "02-x-old1").mkdir(parents=True)
    (tmp_path / "work" / "03-y-old2").mkdir()
    work = begin_lesson(engine, "02-x", "now")
    assert work == tmp_path / "work" / "02-x-now"
    assert work.is_dir()
    assert sorted(engine.removed) == [
        ("container", "sleeper-old1"),
        ("image", "app-old1"),
        ("volume", "data-old1"),
    ]
    assert not (tmp_path / "work" / "02-x-old1").exists()
    assert (tmp_path / "work" / "03-y-old2").is_dir()  # another lesson's folder stays
    assert capsys.readouterr().out == (
        "Removed what an earlier run of this lesson left (old1): 1 container, 1 image, "
        "1 volume, 1 work folder.\n"
    )


def test_lesson_prefix_is_the_lessons_number() -> None:
    assert lesson_prefix("01-containers") == "l1-"
    assert lesson_prefix("12-later") == "l12-"
    with pytest.raises(ValueError, match="starts with its number"):
        lesson_prefix("capstone")


def test_begin_lesson_removes_what_the_learner_named_with_the_prefix_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A learner's typed commands carry no labels: the lesson's prefix finds them, in every
    spelling of an image's name the engines use; a name that only contains it stays."""
    monkeypatch.setenv("DOCKER_ML_COURSE_WORK", str(tmp_path / "work"))
    engine = _LabelledEngine(
        {
            "container": {"l3-settings": {}, "l30-other": {}, "my-l3-app": {}, "l4-notes": {}},
            "image": {
                "sha-podman": _Thing(tags=["localhost/l3-greeter:latest"]),
                "sha-containerd": _Thing(tags=["docker.io/library/l3-app:v1"]),
                "sha-shared": _Thing(tags=["l3-app:latest", "myapp:v1"]),
                "sha-theirs": _Thing(tags=["team/l3-tool:1", "python:3.11-slim"]),
            },
            "volume": {"l3-data": {}, "data-l3": {}},
        }
    )
    begin_lesson(engine, "03-running", "now")
    assert sorted(engine.removed) == [
        ("container", "l3-settings"),
        ("image", "sha-containerd"),
        ("image", "sha-podman"),
        ("tag", "l3-app:latest"),  # myapp:v1 is the learner's: only the lesson's tag goes
        ("volume", "l3-data"),
    ]
    assert capsys.readouterr().out == (
        "Removed what an earlier run of this lesson left: 1 container, 3 images, 1 volume.\n"
    )


def test_end_lesson_removes_what_the_run_made_and_lists_what_may_be_the_learners(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Besides labels and the prefix: a container made since the start from one of the
    lesson's images, and an untagged image made since (a rebuild's previous one); a
    container made since from another image is listed and left, and what the engine had at
    the start stays."""
    monkeypatch.setenv("DOCKER_ML_COURSE_WORK", str(tmp_path / "work"))
    run = _run_labels("08-x", "now")
    engine = _LabelledEngine(
        {
            "container": {"old-unnamed": _Thing(image="sha-base"), "keepme": {}},
            "image": {"sha-base": _Thing(tags=["python:3.11-slim"]), "sha-dangling-old": {}},
            "volume": {},
        }
    )
    work = begin_lesson(engine, "08-x", "now")
    assert (work / ".engine-at-start.json").is_file()
    engine.add("image", "sha-broken", _Thing(labels=run, tags=["l8-broken:latest"]))
    engine.add("image", "sha-fixed-v1", _Thing())  # tagged l8-fixed, then rebuilt
    engine.add("image", "sha-fixed", _Thing(tags=["l8-fixed:latest"]))
    engine.add("container", "demo", _Thing(labels=run, image="sha-broken"))
    engine.add("container", "l8-crash", _Thing(image="sha-broken"))
    engine.add("container", "eager_turing", _Thing(image="sha-broken"))
    engine.add("container", "jolly_hopper", _Thing(image="sha-base"))
    engine.add("volume", "l8-cache", _Thing())
    end = end_lesson(engine, "08-x", "now", work)
    assert sorted(engine.removed) == [
        ("container", "demo"),
        ("container", "eager_turing"),
        ("container", "l8-crash"),
        ("image", "sha-broken"),
        ("image", "sha-fixed"),
        ("image", "sha-fixed-v1"),
        ("volume", "l8-cache"),
    ]
    assert not work.exists()
    assert [c.name for c in end.others] == ["jolly_hopper"]
    said = capsys.readouterr().out
    assert said.startswith(
        "Removed everything this lesson run created (3 containers, 3 images, 1 volume, and "
        "its work folder).\nLeft alone: 1 container made since the lesson began"
    )
    assert "`docker rm -f jolly_hopper`" in said


def test_end_lesson_without_its_start_record_still_removes_by_label_and_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOCKER_ML_COURSE_WORK", str(tmp_path / "work"))
    engine = _LabelledEngine(
        {"container": {"l2-x": {}, "stranger": {}}, "image": {"sha-untagged": {}}, "volume": {}}
    )
    work = tmp_path / "work" / "02-y-now"
    work.mkdir(parents=True)
    (work / ".engine-at-start.json").write_text("{not json")
    end_lesson(engine, "02-y", "now", work)
    assert engine.removed == [("container", "l2-x")]  # untagged and unnamed: not known to be ours
    assert capsys.readouterr().out == (
        "Removed everything this lesson run created (1 container, and its work folder).\n"
    )


def test_begin_lesson_on_a_clean_engine_says_nothing_and_works_under_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DOCKER_ML_COURSE_WORK", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    engine = _LabelledEngine({"container": {}, "image": {}, "volume": {}})
    work = begin_lesson(engine, "01-containers", "abc")
    assert work == tmp_path / "docker-ml-course-work" / "01-containers-abc"
    assert work.is_dir()
    assert capsys.readouterr().out == ""
    assert engine.removed == []


def test_a_missing_learners_container_or_volume_fails_the_test_cell_with_what_to_type() -> None:
    def missing(name: str) -> Any:
        raise docker.errors.NotFound(f"No such object: {name}")

    engine = SimpleNamespace(
        containers=SimpleNamespace(get=missing), volumes=SimpleNamespace(get=missing)
    )
    with pytest.raises(AssertionError, match=r"no container named l1-hello .* --name l1-hello"):
        learners_container(engine, "l1-hello")
    with pytest.raises(AssertionError, match="docker volume create l4-notes"):
        learners_volume(engine, "l4-notes")
    found = SimpleNamespace(name="l1-hello")
    engine.containers = SimpleNamespace(get=lambda name: found)
    assert learners_container(engine, "l1-hello") is found


# --- container_health: the engine's verdict, or the health command run by hand ------------

CURL_CHECK = "curl -fs http://127.0.0.1:8000/health || exit 1"
PYTHON_CHECK = ["python", "-c", "import urllib.request; urllib.request.urlopen('http://x')"]


@dataclass
class _HealthEngine:
    """A container's inspect over time (one ``State.Health`` per look, the last repeated)
    and the answers to the commands exec'd in it."""

    healthcheck: dict[str, Any]
    looks: list[dict[str, Any]]
    exec_answers: list[tuple[int, str]] = field(default_factory=list)
    execs: list[list[str]] = field(default_factory=list)

    def inspect(self, client: Any, name: str) -> Any:
        from grader.engine.host import ContainerState

        health = self.looks.pop(0) if len(self.looks) > 1 else self.looks[0]
        return ContainerState(name, name, "running", {}, 0, "", "", health, self.healthcheck)

    def exec(self, client: Any, name: str, command: list[str], *, timeout_s: float) -> Any:
        self.execs.append(command)
        return self.exec_answers.pop(0) if self.exec_answers else (0, "")


@pytest.fixture
def health_engine(monkeypatch: pytest.MonkeyPatch) -> Callable[..., _HealthEngine]:
    from grader import lesson_helpers

    monkeypatch.setattr(lesson_helpers, "HEALTH_GRACE_S", 0.0)

    def make(**kwargs: Any) -> _HealthEngine:
        engine = _HealthEngine(**kwargs)
        monkeypatch.setattr(lesson_helpers.engine_host, "inspect_container", engine.inspect)
        monkeypatch.setattr(lesson_helpers.engine_host, "exec_in_container", engine.exec)
        return engine

    return make


def test_container_health_is_the_engines_verdict_where_it_runs_the_check(
    health_engine: Callable[..., _HealthEngine],
) -> None:
    from grader.lesson_helpers import container_health

    unhealthy = {
        "Status": "unhealthy",
        "FailingStreak": 2,
        "Log": [{"ExitCode": 1, "Output": "/bin/sh: 1: curl: not found\n"}],
    }
    engine = health_engine(
        healthcheck={"Test": ["CMD-SHELL", CURL_CHECK], "Interval": 10**7},
        looks=[{"Status": "starting", "FailingStreak": 0, "Log": None}, unhealthy],
    )
    health = container_health(None, "c", seconds=5)
    assert (health.status, health.exit_code, health.failing_streak) == ("unhealthy", 1, 2)
    assert "curl: not found" in health.output
    assert health.judged_by == "the engine"
    assert engine.execs == []


def test_container_health_runs_the_check_where_the_engine_never_does(
    health_engine: Callable[..., _HealthEngine],
) -> None:
    """Podman without systemd: `starting` with no run recorded past the first one's due
    time. The command is run by hand, up to its retries, and a pass ends it."""
    from grader.lesson_helpers import container_health

    engine = health_engine(
        healthcheck={"Test": ["CMD", *PYTHON_CHECK], "Interval": 10**7, "Retries": 3},
        looks=[{"Status": "starting", "FailingStreak": 0, "Log": None}],
        exec_answers=[(1, "connection refused"), (0, "")],
    )
    health = container_health(None, "c", seconds=5)
    assert health.status == "healthy"
    assert "never ran the health check" in health.judged_by
    assert engine.execs == [PYTHON_CHECK, PYTHON_CHECK]


def test_container_health_runs_the_dockerfiles_check_that_the_image_lost(
    tmp_path: Path, health_engine: Callable[..., _HealthEngine]
) -> None:
    """Podman's `docker build` writes OCI images without the HEALTHCHECK: the Dockerfile's
    own is run, in its shell form, and fails with its output after all its retries."""
    from grader.lesson_helpers import container_health

    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        f"FROM python:3.11-slim\nHEALTHCHECK --interval=10ms --retries=2 CMD {CURL_CHECK}\n"
    )
    engine = health_engine(healthcheck={}, looks=[{}], exec_answers=[(1, "curl: not found")] * 2)
    health = container_health(None, "c", dockerfile=dockerfile, seconds=5)
    assert (health.status, health.exit_code, health.failing_streak) == ("unhealthy", 1, 2)
    assert health.output == "curl: not found"
    assert "keeps no HEALTHCHECK" in health.judged_by
    assert engine.execs == [["/bin/sh", "-c", CURL_CHECK]] * 2


def test_container_health_without_any_health_check_says_so(
    tmp_path: Path, health_engine: Callable[..., _HealthEngine]
) -> None:
    from grader.lesson_helpers import container_health

    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text('FROM python:3.11-slim\nCMD ["python", "serve.py"]\n')
    engine = health_engine(healthcheck={}, looks=[{}])
    assert container_health(None, "c", dockerfile=dockerfile).status == ""
    assert engine.execs == []
