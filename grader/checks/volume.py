"""The volume scenario: data the app writes under its data folder survives re-creating
the container on the same volume. Runs last among the container checks: it stops the
container the others probe and starts a second one, which it leaves running as the
stage's container (the exercise's own checks use it; the stage stops it)."""

from __future__ import annotations

from grader.checks.base import EngineContext, Needs, Verdict, check
from grader.checks.runtime_probes import probe_results
from grader.probes import count_records
from grader.run import start_and_wait
from grader.spec import ExerciseSpec


@check(
    "data_survives_recreate",
    "Data in the volume survives re-creating the container",
    Needs.CONTAINER,
    6,
)
def data_survives_recreate(ctx: EngineContext) -> Verdict:
    spec, session, first = ctx.spec, ctx.session, ctx.container
    assert first is not None
    assert ctx.image is not None
    if spec.volume is None:
        return Verdict.skipped("Skipped: the exercise's spec has no [volume] scenario.")
    sent = ctx.once(probe_results).successful_predictions
    count_before, note = count_records(first.base_url, spec)
    session.stop_container(first)
    ctx.container = None  # gone: a check after this one must not use it
    # A new container on the same volume is the point of the check: the data must
    # outlive the container that wrote it.
    second = start_and_wait(
        session,
        ctx.image,
        spec,
        ctx.workspace,
        purpose="app-again",
        environment=ctx.environment,
        volumes=ctx.volumes,
        dockerfile=ctx.dockerfile,
    )
    if second.container is None:
        assert second.failure is not None
        return second.failure
    ctx.container = second.container
    count_after, _ = count_records(second.container.base_url, spec)
    return _volume_verdict(spec, sent, count_before, count_after, note)


def _volume_verdict(
    spec: ExerciseSpec, sent: int, before: int | None, after: int | None, note: str
) -> Verdict:
    assert spec.volume is not None
    data_dir = spec.volume.data_dir
    if not before:
        return Verdict.failed(
            f"After {sent} predictions the app had logged none"
            + (f" ({note})" if note and note != "ok" else "")
            + f": it cannot write to {data_dir}.",
            f"Create {data_dir} in the image and give it to the app's user before USER, e.g. "
            f"`RUN mkdir -p {data_dir} && chown {spec.user} {data_dir}`.",
        )
    if after != before:
        return Verdict.failed(
            f"A new container on the same volume (mounted at {data_dir}) sees {after} logged "
            f"predictions instead of {before}: the data was written outside the volume.",
            f"Leave DATA_DIR at {data_dir} (do not set it to another folder) and declare "
            f"`VOLUME {data_dir}`.",
        )
    return Verdict.passed(
        f"{before} logged predictions survived re-creating the container on a volume at {data_dir}."
    )
