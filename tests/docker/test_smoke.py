"""The whole chain on the smallest image: base image, pip from requirements.txt, run, clean up."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.build_stream import BuildLog
from grader.engine import LABEL_RUN, EngineSession
from grader.engine.builders import BuilderKind


@pytest.mark.parametrize("builder", list(BuilderKind))
def test_tiny_image_pip_installs_a_pinned_package_and_runs(
    tmp_path: Path, docker_client, builder: BuilderKind
) -> None:
    """Can an image FROM python:3.11-slim install from requirements.txt and run it?"""
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.11-slim\n"
        "COPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
        'CMD ["python", "-c", "import six; print(\'six\', six.__version__)"]\n'
    )
    with EngineSession.open() as session:
        tag = f"{session.name('smoke')}:test"
        log = BuildLog(builder=builder.value)
        for chunk in session.build(tmp_path, tag=tag, memory_bytes=1024**3, builder=builder):
            log.feed(chunk)
        assert log.succeeded, log.error or log.output.text()
        container = session.client.containers.run(
            tag, labels=session.labels, detach=True, network_mode="none"
        )
        assert container.wait(timeout=60)["StatusCode"] == 0
        assert container.logs().decode().strip() == "six 1.16.0"
        run_label = f"{LABEL_RUN}={session.run}"
    assert docker_client.containers.list(all=True, filters={"label": run_label}) == []
    assert docker_client.images.list(filters={"label": run_label}) == []
