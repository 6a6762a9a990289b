"""Engine bring-up and the offline base image, in the parts that need no engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.engine import RunId
from grader.errors import SetupError, how_to_get_an_engine
from grader.provision.base_image import debian_mirror, is_stand_in


def test_mirror_is_read_from_deb822_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Is the host's own Debian mirror used, not a hard-coded one?"""
    monkeypatch.delenv("GRADER_DEBIAN_MIRROR", raising=False)
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://security.example/debian-security\nSuites: bookworm-security\n"
        "Components: main\n\nTypes: deb\nURIs: http://mirror.example/debian\n"
        "Suites: bookworm bookworm-updates\nComponents: main\n"
    )
    assert debian_mirror(tmp_path) == "http://mirror.example/debian"


def test_mirror_is_read_from_one_line_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GRADER_DEBIAN_MIRROR", raising=False)
    (tmp_path / "sources.list").write_text(
        "# comment\ndeb [arch=amd64] http://old.example/debian bookworm main\n"
    )
    assert debian_mirror(tmp_path) == "http://old.example/debian"


def test_no_mirror_says_how_to_set_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without apt sources, is the user told about GRADER_DEBIAN_MIRROR?"""
    monkeypatch.delenv("GRADER_DEBIAN_MIRROR", raising=False)
    with pytest.raises(SetupError, match="No Debian bookworm mirror") as caught:
        debian_mirror(tmp_path)
    assert "GRADER_DEBIAN_MIRROR" in caught.value.hint


@pytest.mark.parametrize(
    ("system", "root", "advice"),
    [
        ("Darwin", False, "Docker Desktop"),
        ("Darwin", False, "colima start"),
        ("Windows", False, "WSL 2"),
        ("Linux", False, "sudo systemctl start docker"),
    ],
)
def test_engine_advice_fits_the_platform(system: str, root: bool, advice: str) -> None:
    """Does the message name what to install or start on the user's platform?"""
    assert advice in how_to_get_an_engine(system, is_root=root)


def test_stand_in_is_told_from_the_official_image() -> None:
    """Is the official image (with PYTHON_VERSION) never mistaken for the stand-in?"""
    assert is_stand_in({"Config": {"Env": ["PATH=/usr/bin", "LANG=C.UTF-8"]}})
    assert not is_stand_in({"Config": {"Env": ["PYTHON_VERSION=3.11.9"]}})


def test_run_ids_carry_what_the_sweep_needs() -> None:
    """Can a run id be parsed back, and is a live run not stale while a dead one is?"""
    run = RunId.new()
    assert RunId.parse(str(run)) == run
    assert not run.is_stale(older_than_s=3600)
    dead = RunId(run.host, 2**22 + 12345, run.created, "abc")
    assert dead.is_stale(older_than_s=3600)
    assert RunId.parse("not-a-run-id") is None
