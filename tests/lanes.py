"""The engine lanes the test suite runs on, and what each lane's engine does (see conftest)."""

from __future__ import annotations

LANES = ("host", "modern", "modern-containerd", "podman")
"""``--engine`` values: the host's engine, or a nested engine brought up for the session."""

LANE_BUILDER = {
    "host": "buildkit",
    "modern": "buildkit",
    # Engine 26 with the containerd store cannot read an uploaded context with BuildKit
    # (moby/moby#47717): `auto` grades with the classic builder there.
    "modern-containerd": "classic",
    # Podman builds with buildah behind its Docker-compatible API (its v1 build endpoint).
    "podman": "buildah",
}
"""The builder ``--builder auto`` picks on each lane."""


def builder_kind(lane: str) -> str:
    """The grader's builder kind on the lane: buildah sits behind the classic build API."""
    return "classic" if LANE_BUILDER[lane] == "buildah" else LANE_BUILDER[lane]
