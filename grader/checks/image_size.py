"""The image size against the exercise's budget, naming the largest layers when over it."""

from __future__ import annotations

from grader.checks.base import EngineContext, Needs, Verdict, check
from grader.spec import MiB


@check("image_size", "The image stays within its size budget", Needs.IMAGE, 2)
def image_size(ctx: EngineContext) -> Verdict:
    assert ctx.image is not None
    session, image = ctx.session, ctx.image
    size_mb = session.image_attrs(image).get("Size", 0) / MiB
    budget = ctx.spec.limits.image_size_budget_mb
    if size_mb <= budget:
        return Verdict.passed(f"The image is {size_mb:.0f} MB (budget {budget:.0f} MB).")
    layers = sorted(session.image_history(image), key=lambda layer: -int(layer.get("Size", 0)))
    largest = "; ".join(
        f"{int(layer.get('Size', 0)) / MiB:.0f} MB from `{_short(layer.get('CreatedBy', ''))}`"
        for layer in layers[:3]
    )
    return Verdict.failed(
        f"The image is {size_mb:.0f} MB, over its budget of {budget:.0f} MB. Largest layers: {largest}.",
        "Use a slim base image, `pip install --no-cache-dir`, clean apt lists in the same RUN, "
        "and keep data and caches out with .dockerignore.",
    )


def _short(created_by: str) -> str:
    text = created_by.replace("/bin/sh -c #(nop) ", "").replace("/bin/sh -c ", "RUN ").strip()
    return text[:80]
