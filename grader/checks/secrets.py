"""The planted secret: the canary in the build context's ``.env`` must be in no layer.

The scan itself (every layer, traced back to the Dockerfile line that made it) is in
:mod:`grader.secret_scan`. The canary exists only in the workspace's ``.env``: when the
build context (read as ``docker build`` reads ``.dockerignore``) leaves that file out,
the engine never had the secret and the image's layers need no scan.
"""

from __future__ import annotations

from grader.checks.base import EngineContext, Needs, Verdict, check
from grader.dockerignore import context_files
from grader.secret_scan import scan_for_canary
from grader.workspace import CANARY_FILE


@check(
    "secret_not_in_image",
    "The .env file does not end up in the image",
    Needs.IMAGE,
    5,
    announce="Looking for the planted secret in the image",
    timing="secrets",
)
def secret_not_in_image(ctx: EngineContext) -> Verdict:
    assert ctx.image is not None
    return scan_for_canary(
        ctx.session,
        ctx.image,
        ctx.workspace.canary,
        dockerfile=ctx.dockerfile,
        # The image the final stage starts from, through `FROM <stage>` and `FROM $ARG`.
        base_image=ctx.dockerfile.base_image(ctx.dockerfile.final_image_chain()[0]) or None,
        canary_sent=CANARY_FILE in context_files(ctx.workspace.path),
    )
