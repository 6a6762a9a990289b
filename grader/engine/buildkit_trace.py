"""Decoding BuildKit's progress messages (``moby.buildkit.trace``) with the protobuf package.

Under BuildKit the Engine API's build stream carries ``{"id": "moby.buildkit.trace",
"aux": "<base64>"}`` messages: each is a ``moby.buildkit.v1.StatusResponse`` from
BuildKit's ``api/services/control/control.proto``. Only the subset read here is
declared, as descriptors built in code (no ``protoc`` step, no generated module);
protobuf skips the fields it does not know, so newer engines decode as well::

    message StatusResponse { repeated Vertex vertexes = 1; repeated VertexStatus statuses = 2;
                             repeated VertexLog logs = 3; repeated VertexWarning warnings = 4; }
    message Vertex { string digest = 1; repeated string inputs = 2; string name = 3;
                     bool cached = 4; Timestamp started = 5; Timestamp completed = 6;
                     string error = 7; }
    message VertexLog { string vertex = 1; Timestamp timestamp = 2; int64 stream = 3;
                        bytes msg = 4; }
    message VertexWarning { string vertex = 1; int64 level = 2; bytes short = 3; }
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from functools import cache
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

__all__ = ["TraceLog", "TraceUpdate", "TraceVertex", "TraceWarning", "decode_trace"]

_PACKAGE = "moby.buildkit.v1"
_F = descriptor_pb2.FieldDescriptorProto


@dataclass(frozen=True)
class TraceVertex:
    """One step of the build graph as BuildKit reports it (sent again on every change)."""

    digest: str
    name: str
    """e.g. ``[2/6] RUN pip install -r requirements.txt`` or ``[builder 3/4] COPY . .``."""
    cached: bool
    started: float | None
    """Seconds since the epoch, None until the vertex starts."""
    completed: float | None
    error: str


@dataclass(frozen=True)
class TraceLog:
    """Output of a running step: ``stream`` 1 is stdout, 2 is stderr."""

    vertex: str
    stream: int
    text: str


@dataclass(frozen=True)
class TraceWarning:
    vertex: str
    text: str


@dataclass(frozen=True)
class TraceUpdate:
    """What one trace message says."""

    vertexes: tuple[TraceVertex, ...] = ()
    logs: tuple[TraceLog, ...] = ()
    warnings: tuple[TraceWarning, ...] = ()


def _field(name: str, number: int, kind: int, *, repeated: bool = False, message: str = "") -> Any:
    field = _F(
        name=name,
        number=number,
        type=kind,
        label=_F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL,
    )
    if message:
        field.type_name = message
    return field


@cache
def _status_response_class() -> Any:
    """The message class of ``StatusResponse``, built once from in-code descriptors."""
    timestamp = descriptor_pb2.FileDescriptorProto(
        name="grader/buildkit/timestamp.proto", package="google.protobuf", syntax="proto3"
    )
    timestamp.message_type.add(
        name="Timestamp",
        field=[
            _field("seconds", 1, _F.TYPE_INT64),
            _field("nanos", 2, _F.TYPE_INT32),
        ],
    )
    control = descriptor_pb2.FileDescriptorProto(
        name="grader/buildkit/control.proto",
        package=_PACKAGE,
        syntax="proto3",
        dependency=[timestamp.name],
    )
    ts = ".google.protobuf.Timestamp"
    control.message_type.add(
        name="Vertex",
        field=[
            _field("digest", 1, _F.TYPE_STRING),
            _field("inputs", 2, _F.TYPE_STRING, repeated=True),
            _field("name", 3, _F.TYPE_STRING),
            _field("cached", 4, _F.TYPE_BOOL),
            _field("started", 5, _F.TYPE_MESSAGE, message=ts),
            _field("completed", 6, _F.TYPE_MESSAGE, message=ts),
            _field("error", 7, _F.TYPE_STRING),
        ],
    )
    control.message_type.add(
        name="VertexLog",
        field=[
            _field("vertex", 1, _F.TYPE_STRING),
            _field("timestamp", 2, _F.TYPE_MESSAGE, message=ts),
            _field("stream", 3, _F.TYPE_INT64),
            _field("msg", 4, _F.TYPE_BYTES),
        ],
    )
    control.message_type.add(
        name="VertexWarning",
        field=[
            _field("vertex", 1, _F.TYPE_STRING),
            _field("level", 2, _F.TYPE_INT64),
            _field("short", 3, _F.TYPE_BYTES),
        ],
    )
    control.message_type.add(
        name="StatusResponse",
        field=[
            _field("vertexes", 1, _F.TYPE_MESSAGE, repeated=True, message=f".{_PACKAGE}.Vertex"),
            _field("logs", 3, _F.TYPE_MESSAGE, repeated=True, message=f".{_PACKAGE}.VertexLog"),
            _field(
                "warnings", 4, _F.TYPE_MESSAGE, repeated=True, message=f".{_PACKAGE}.VertexWarning"
            ),
        ],
    )
    # A private pool: the process-wide default pool may already hold a real Timestamp.
    pool = descriptor_pool.DescriptorPool()
    pool.Add(timestamp)
    pool.Add(control)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.StatusResponse"))


def _seconds(message: Any, field: str) -> float | None:
    if not message.HasField(field):
        return None
    stamp = getattr(message, field)
    return float(stamp.seconds) + stamp.nanos / 1e9


def decode_trace(aux: object) -> TraceUpdate | None:
    """Decode one ``moby.buildkit.trace`` aux value; None when it is not a status message."""
    if not isinstance(aux, str):
        return None
    try:
        raw = base64.b64decode(aux, validate=True)
        status = _status_response_class()()
        status.ParseFromString(raw)
    except (binascii.Error, ValueError, DecodeError):
        return None
    return TraceUpdate(
        vertexes=tuple(
            TraceVertex(
                digest=v.digest,
                name=v.name,
                cached=v.cached,
                started=_seconds(v, "started"),
                completed=_seconds(v, "completed"),
                error=v.error,
            )
            for v in status.vertexes
        ),
        logs=tuple(
            TraceLog(log.vertex, int(log.stream), log.msg.decode("utf-8", errors="replace"))
            for log in status.logs
        ),
        warnings=tuple(
            TraceWarning(w.vertex, w.short.decode("utf-8", errors="replace"))
            for w in status.warnings
        ),
    )
