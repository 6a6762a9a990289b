"""The catalogue of checks: ids, titles, and the verdict type stages return.

A stage returns a :class:`Verdict` per check id; the pipeline turns verdicts into
:class:`~grader.results.CheckResult` with the points the exercise spec gives.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.results import CheckStatus, Finding

__all__ = ["CHECK_TITLES", "KNOWN_CHECKS", "Verdict"]

CHECK_TITLES: dict[str, str] = {
    # static
    "dockerfile_valid": "The Dockerfile can be read and parsed",
    "base_image_pinned": "The base image is slim and has a version tag",
    "deps_from_requirements": "Dependencies are installed from requirements.txt",
    "requirements_before_app": "requirements.txt is installed before the app code is copied",
    "pip_no_cache_dir": "pip does not keep its download cache in the image",
    "apt_best_practices": "apt-get is used the image-friendly way",
    "exec_form_cmd": "CMD/ENTRYPOINT use the exec (JSON) form",
    "binds_all_interfaces": "The server listens on 0.0.0.0 inside the container",
    "expose_matches_port": "EXPOSE matches the port the app listens on",
    "no_secrets_in_dockerfile": "No secrets are written into the Dockerfile",
    "non_root_user": "The app runs as a non-root user",
    "healthcheck": "The image declares a HEALTHCHECK",
    "dockerignore": ".dockerignore keeps secrets, VCS and caches out of the build",
    "hadolint_clean": "hadolint has no further warnings",
    "starter_unchanged": "Only the files you were meant to write were changed",
    # engine
    "builds": "The image builds",
    "serves_predict": "POST /predict answers correctly from the host",
    "rejects_invalid_input": "Invalid requests get 422",
    "api_key_enforced": "The API key from the environment is enforced",
    "data_survives_recreate": "Data in the volume survives re-creating the container",
    "cache_app_edit": "Editing the app code reuses the cached dependency layer",
    "cache_requirements_edit": "Editing requirements.txt reinstalls the dependencies",
    "secret_not_in_image": "The .env file does not end up in the image",
    "image_size": "The image stays within its size budget",
}
KNOWN_CHECKS = frozenset(CHECK_TITLES)


@dataclass(frozen=True)
class Verdict:
    """What a stage concluded about one check (points are added by the pipeline)."""

    status: CheckStatus
    message: str
    hint: str = ""
    line: int | None = None
    file: str = "Dockerfile"
    findings: tuple[Finding, ...] = ()
    details: str = ""

    @classmethod
    def passed(
        cls, message: str, *, findings: tuple[Finding, ...] = (), details: str = ""
    ) -> Verdict:
        return cls(CheckStatus.PASSED, message, findings=findings, details=details)

    @classmethod
    def failed(
        cls,
        message: str,
        hint: str,
        *,
        line: int | None = None,
        file: str = "Dockerfile",
        findings: tuple[Finding, ...] = (),
        details: str = "",
    ) -> Verdict:
        if line is not None and not findings:
            findings = (Finding(message, line, file),)
        return cls(CheckStatus.FAILED, message, hint, line, file, findings, details)

    @classmethod
    def error(cls, message: str, hint: str = "", *, details: str = "") -> Verdict:
        return cls(CheckStatus.ERROR, message, hint, details=details)

    @classmethod
    def skipped(cls, message: str) -> Verdict:
        return cls(CheckStatus.SKIPPED, message)
