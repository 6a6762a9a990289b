"""The planted secret: the canary in the build context's ``.env`` must be in no layer.

The scan itself (every layer, traced back to the Dockerfile line that made it) is in
:mod:`grader.secret_scan`.
"""

from __future__ import annotations

from grader.checks.base import EngineContext, Needs, Verdict, check
from grader.dockerfile import Dockerfile
from grader.secret_scan import scan_for_canary


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
        base_image=final_base_image(ctx.dockerfile),
    )


def final_base_image(dockerfile: Dockerfile) -> str | None:
    """The image the final stage starts from, following ``FROM <earlier stage>``."""
    froms = dockerfile.find("FROM", final_stage=False)
    names: dict[str, str] = {}
    image: str | None = None
    for instruction in froms:
        words = [w for w in instruction.words() if not w.startswith("--")]
        image = words[0] if words else None
        if image is not None and image.lower() in names:
            image = names[image.lower()]
        if len(words) >= 3 and words[1].upper() == "AS" and image is not None:
            names[words[2].lower()] = image
    return image
