"""HTTP probes of the running app: one round of requests feeds the three checks.

The requests and their verdicts are in :mod:`grader.probes`.
"""

from __future__ import annotations

from grader.checks.base import EngineContext, Needs, Verdict, check
from grader.probes import ProbeResults, run_probes


def probe_results(ctx: EngineContext) -> ProbeResults:
    """The one round of probes (the volume check counts its predictions)."""
    assert ctx.container is not None
    return run_probes(ctx.container.base_url, ctx.spec, ctx.api_key)


@check("serves_predict", "POST /predict answers correctly from the host", Needs.CONTAINER, 12)
def serves_predict(ctx: EngineContext) -> Verdict:
    return ctx.once(probe_results).serves_predict


@check("rejects_invalid_input", "Invalid requests get 422", Needs.CONTAINER, 4)
def rejects_invalid_input(ctx: EngineContext) -> Verdict:
    return ctx.once(probe_results).rejects_invalid_input


@check("api_key_enforced", "The API key from the environment is enforced", Needs.CONTAINER, 5)
def api_key_enforced(ctx: EngineContext) -> Verdict:
    return ctx.once(probe_results).api_key_enforced
