"""The engine boundary: the one package that talks to the Docker engine.

``session`` owns containers, images, volumes and their cleanup, and translates the
docker SDK's exceptions into the grader's own (:func:`as_engine_error`); ``builders``
runs builds with BuildKit or the classic builder and turns their streams into one
build log; ``image_layers`` reads an image's layers from ``docker save``; ``host`` has
the operations of code that holds a client rather than a grading session (the engine
bring-up in :mod:`grader.provision`, the lessons' helpers).

Importing it changes no environment variable and starts nothing: testcontainers' Ryuk
reaper is switched off in its config object when a connection is made.
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
    disable_ryuk,
    engine_errors,
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
    "disable_ryuk",
    "engine_errors",
    "missing_program",
    "remove_by_label",
    "run_to_completion",
    "server_version_or_none",
    "sweep",
]
