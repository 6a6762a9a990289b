"""The engine boundary: the one package that talks to the Docker engine.

``session`` owns containers, images, volumes and their cleanup; ``builders`` runs
builds with BuildKit or the classic builder and turns their streams into one
build log; ``image_layers`` reads an image's layers from ``docker save``.
"""

from grader.engine.session import (
    BASE_IMAGE,
    ENGINE_FAULTS,
    LABEL_PREFIX,
    LABEL_RUN,
    ContainerLimits,
    EngineSession,
    RunId,
    RunningContainer,
    SweepReport,
    as_engine_error,
    connect,
    missing_program,
    remove_by_label,
    run_to_completion,
    server_version_or_none,
    sweep,
)

__all__ = [
    "BASE_IMAGE",
    "ENGINE_FAULTS",
    "LABEL_PREFIX",
    "LABEL_RUN",
    "ContainerLimits",
    "EngineSession",
    "RunId",
    "RunningContainer",
    "SweepReport",
    "as_engine_error",
    "connect",
    "missing_program",
    "remove_by_label",
    "run_to_completion",
    "server_version_or_none",
    "sweep",
]
