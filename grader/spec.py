"""The exercise spec: everything the grader needs to know about one exercise.

A spec is a TOML file ``exercises/<name>.toml`` beside the starter folder
``exercises/<name>/``. Adding an exercise means writing those two; no grader code
changes. Every field has a default and a one-line description; a spec that does not
validate raises :class:`~grader.errors.SpecError` naming the file and the field.

**The exercise contract** is what the starter project is and what the learner's image
must agree with; the grader's hints name these values, never their defaults:

* every exercise: ``base_image``, ``user``, ``command``, ``dependency_file``,
  ``app_code_file``, ``canary_variable``;
* an HTTP app (``[app]``): ``module``, ``container_port``, ``readiness_path``,
  ``validation_file``, ``served_dirs``, and the requests (``probes``,
  ``invalid_requests``, ``[api_key]``, ``[volume]``) that need it. An exercise without
  ``[app]`` (a batch job: no port, no readiness URL, no requests) cannot list a check that
  needs one (:attr:`~grader.checks.base.Check.needs_app`).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from grader.errors import SpecError

__all__ = [
    "ApiKeyScenario",
    "App",
    "CheckSpec",
    "ExerciseSpec",
    "JobInput",
    "JobScenario",
    "Limits",
    "MalformedInput",
    "Probe",
    "VolumeScenario",
    "course_dir",
    "find_exercise",
    "load_spec",
]

MiB = 1024 * 1024


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Limits(_Strict):
    """Time and resource limits; every one is reported in the feedback when hit."""

    build_timeout_s: float = Field(600, gt=0, description="Wall-clock limit of one build.")
    build_inactivity_s: float = Field(
        120,
        gt=0,
        description="A build that stays silent this long is stopped: no message on its "
        "stream and, with the classic builder, no CPU use by the running step.",
    )
    build_memory_mb: int = Field(
        2048,
        gt=0,
        description="Memory limit of each build step (the classic builder only: BuildKit "
        "takes no memory limit through the Engine API).",
    )
    run_memory_mb: int = Field(512, gt=0, description="Memory limit of the app (no swap).")
    run_cpus: float = Field(1.0, gt=0, description="CPUs the app may use.")
    run_pids: int = Field(256, gt=0, description="Most processes/threads in the app container.")
    readiness_timeout_s: float = Field(60, gt=0, description="Time for the app to become ready.")
    request_timeout_s: float = Field(10, gt=0, description="Time for one HTTP request.")
    total_timeout_s: float = Field(1500, gt=0, description="Wall-clock limit of the whole grade.")
    max_context_mb: float = Field(100, gt=0, description="Largest build context accepted.")
    output_head_lines: int = Field(20, ge=0, description="Lines kept from the start of a log.")
    output_tail_lines: int = Field(40, ge=1, description="Lines kept from the end of a log.")
    image_size_budget_mb: float = Field(1000, gt=0, description="Largest acceptable image.")
    drop_all_capabilities: bool = Field(True, description="Run the app with no capabilities.")


class Probe(_Strict):
    """One HTTP request to the running app and the answer it must give."""

    name: str = Field(description="What the request is, shown in feedback.")
    method: Literal["GET", "POST", "PUT", "DELETE"] = "POST"
    path: str = Field("/predict", pattern=r"^/")
    json_body: Any = Field(None, alias="json", description="The JSON body to send.")
    expect_status: int = Field(200, ge=100, le=599)
    expect_json: dict[str, Any] = Field(
        default_factory=dict,
        description="Fields the response must contain with these values (numbers to 1e-3).",
    )


_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class ApiKeyScenario(_Strict):
    """The app reads a key from the environment and must refuse requests without it."""

    env_var: str = Field(
        "API_KEY",
        pattern=_ENV_NAME,
        description="The variable the container gets the key in (the planted .env's "
        "canary_variable is usually the same name, so a leak looks like the real secret).",
    )
    header: str = Field("X-API-Key", description="The request header that carries the key.")


class VolumeScenario(_Strict):
    """The app writes data under ``data_dir``; it must survive re-creating the container."""

    data_dir: str = Field(
        "/data",
        pattern=r"^/",
        description="The folder the app writes to, where the grader mounts a volume; hints "
        "say to create it and give it to ``user``.",
    )
    count_path: str = Field(
        "/predictions/count", pattern=r"^/", description="GET it for the number of records."
    )
    count_field: str = Field("count", description="The field of that answer with the number.")
    log_status_field: str = Field(
        "prediction_log",
        description="The field of the readiness answer that says whether the app can write "
        "its log (`ok`, or why not); quoted when nothing was logged.",
    )


class App(_Strict):
    """An HTTP app: how it is started and reached. A batch job's spec leaves ``[app]`` out."""

    module: str = Field(
        "app.main:app",
        pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$",
        description="The ASGI target the server imports (`package.module:attribute`); hints "
        "name its package.",
    )
    container_port: int = Field(8000, ge=1, le=65535, description="Port the app listens on.")
    readiness_path: str = Field("/health", pattern=r"^/", description="200 once ready.")
    validation_file: str = Field(
        "app/schemas.py",
        description="The app's file that validates requests, named when invalid ones get in.",
    )
    served_dirs: list[str] = Field(
        default_factory=lambda: ["model/", "app/"],
        min_length=1,
        description="Folders the image must hold unchanged for the expected answers, named "
        "when an answer differs.",
    )

    @property
    def package(self) -> str:
        """The top-level package of :attr:`module` (``app`` for ``app.main:app``)."""
        return self.module.split(":")[0].split(".")[0]

    def server_command(self) -> list[str]:
        """uvicorn serving :attr:`module` on every IPv4 interface at :attr:`container_port`."""
        return ["uvicorn", self.module, "--host", "0.0.0.0", "--port", str(self.container_port)]


class JobInput(_Strict):
    """A file the grader puts in the job's input folder."""

    file: str = Field(pattern=r"^[\w][\w.-]*$", description="Its name in the input folder.")
    text: str = Field(description="Its content (CSV for the batch-scoring exercise).")


class MalformedInput(_Strict):
    """An input the job must refuse: exit non-zero, say why, write no output file."""

    name: str = Field(description="What is wrong with it, shown in feedback.")
    inputs: list[JobInput] = Field(min_length=1)


class JobScenario(_Strict):
    """A batch job (no server): it reads ``input_dir``, writes ``output_file`` into
    ``output_dir`` and exits. The grader mounts the inputs read-only, runs the image with
    ``--network none --read-only --tmpfs /tmp`` under :class:`Limits`' ``run_*`` limits,
    and compares the output with ``expect_rows``."""

    input_dir: str = Field("/input", pattern=r"^/", description="Where the inputs are mounted.")
    output_dir: str = Field("/output", pattern=r"^/", description="Where the job writes.")
    output_file: str = Field("predictions.csv", description="The file it must write there.")
    tmpfs: list[str] = Field(
        default_factory=lambda: ["/tmp"],
        description="Writable in-memory folders beside the read-only root filesystem.",
    )
    timeout_s: float = Field(120, gt=0, description="Time for one run of the job.")
    inputs: list[JobInput] = Field(min_length=1, description="The good input, every file.")
    expect_rows: list[dict[str, Any]] = Field(
        min_length=1,
        description="The output file's rows (CSV with a header), in order: each listed "
        "column must hold this value (numbers to 1e-3).",
    )
    malformed: list[MalformedInput] = Field(
        default_factory=list, description="Inputs the job must refuse."
    )


CheckId = str


class CheckSpec(_Strict):
    """One check the exercise runs: which, for how many points, and whether it must pass."""

    id: CheckId
    points: float = Field(
        ge=0, description="Points for passing; a spec may leave it out for the check's default."
    )
    required: bool = Field(False, description="The exit status is 1 unless this passes.")


class ExerciseSpec(_Strict):
    """An exercise: its starter folder, its contract, how its app is reached, what is checked."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    base_image: str = Field(
        "python:3.11-slim",
        description="The base image the course provides (`make engine` prepares it); hints "
        "suggest `FROM` it.",
    )
    user: str = Field(
        "appuser",
        pattern=r"^[a-z_][a-z0-9_-]*$",
        description="The non-root user hints suggest creating (`useradd`) and switching to.",
    )
    command: list[str] | None = Field(
        None,
        min_length=1,
        description="The start command (exec form) hints suggest for CMD; left out, an "
        "[app]'s is uvicorn serving app.module on 0.0.0.0 at app.container_port.",
    )
    dependency_file: str = Field("requirements.txt", description="The file listing dependencies.")
    app_code_file: str = Field(
        "app/main.py", description="A file of app code the cache proof edits."
    )
    canary_variable: str = Field(
        "API_KEY",
        pattern=_ENV_NAME,
        description="The variable of the .env the grader plants with a unique value that "
        "must reach no layer (name it like the app's real secret, e.g. api_key.env_var).",
    )
    app: App | None = Field(
        None, description="The HTTP app and how it is reached; left out for a batch job."
    )
    learner_files: list[str] = Field(
        default_factory=lambda: ["Dockerfile", ".dockerignore", "Makefile", "*.sh"],
        description="Files the learner writes (glob patterns); any other change is reported.",
    )
    builder: Literal["auto", "buildkit", "classic"] = Field(
        "auto",
        description="The builder to grade with: BuildKit wherever the engine offers it "
        "(auto), or one of them; `grader check --builder` overrides it.",
    )
    limits: Limits = Field(default_factory=Limits)
    probes: list[Probe] = Field(default_factory=list, description="Requests that must succeed.")
    invalid_requests: list[Probe] = Field(
        default_factory=list, description="Bad requests and the status they must get."
    )
    api_key: ApiKeyScenario | None = Field(
        None, description="The app's API key, from the environment (needs [app])."
    )
    volume: VolumeScenario | None = Field(
        None, description="The app's data folder, which must survive re-creating the container."
    )
    job: JobScenario | None = Field(
        None, description="For a batch job instead of a server: how it is run and judged."
    )
    checks: list[CheckSpec] = Field(min_length=1)
    extra_checks: str | None = Field(
        None,
        description="A pytest file beside the spec with the exercise's own checks "
        "(see grader/extra_checks.py).",
    )

    # Set by load_spec: where the spec and the starter live.
    spec_path: Path | None = Field(None, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _default_points(cls, data: Any) -> Any:
        """A check listed without points gets the check's own default."""
        from grader.checks import CHECKS

        if not isinstance(data, dict) or not isinstance(data.get("checks"), list):
            return data
        checks = [
            {**c, "points": CHECKS[c["id"]].points}
            if isinstance(c, dict) and "points" not in c and c.get("id") in CHECKS
            else c
            for c in data["checks"]
        ]
        return {**data, "checks": checks}

    @model_validator(mode="after")
    def _known_unique_checks(self) -> ExerciseSpec:
        from grader.checks import CHECKS, Needs

        seen: set[str] = set()
        for check in self.checks:
            if check.id not in CHECKS:
                known = ", ".join(sorted(CHECKS))
                raise ValueError(f"unknown check id {check.id!r}; known ids: {known}")
            if check.id in seen:
                raise ValueError(f"check id {check.id!r} is listed twice")
            seen.add(check.id)
        job_checks = [c.id for c in self.checks if CHECKS[c.id].needs is Needs.JOB]
        if job_checks and self.job is None:
            raise ValueError(
                f"{', '.join(job_checks)} judge a batch job: the spec needs a [job] section "
                "(its inputs and expected rows)"
            )
        return self

    @model_validator(mode="after")
    def _app_parts_need_an_app(self) -> ExerciseSpec:
        from grader.checks import CHECKS

        if self.app is not None:
            return self
        app_parts = {
            "probes": self.probes,
            "invalid_requests": self.invalid_requests,
            "api_key": self.api_key,
            "volume": self.volume,
        }
        for name, value in app_parts.items():
            if value is not None and value != []:
                raise ValueError(f"{name} needs an [app] section (the app's port and readiness)")
        for check in self.checks:
            if CHECKS[check.id].needs_app:
                raise ValueError(
                    f"check {check.id!r} needs an [app] section (the app's port and readiness)"
                )
        return self

    def require_app(self) -> App:
        """The ``[app]`` section, for code that runs only for app exercises (a spec without
        one lists none of its checks: see ``_app_parts_need_an_app``)."""
        if self.app is None:
            raise SpecError(f"Exercise {self.name} has no [app] section, but a check needs one.")
        return self.app

    @property
    def start_command(self) -> list[str] | None:
        """The CMD hints suggest: :attr:`command`, else the [app]'s server command."""
        if self.command is not None:
            return self.command
        return self.app.server_command() if self.app is not None else None

    @property
    def starter_dir(self) -> Path:
        assert self.spec_path is not None
        return self.spec_path.with_suffix("")

    @property
    def extra_checks_path(self) -> Path | None:
        if self.extra_checks is None or self.spec_path is None:
            return None
        return self.spec_path.parent / self.extra_checks

    @property
    def max_score(self) -> float:
        return sum(check.points for check in self.checks)

    def check(self, check_id: str) -> CheckSpec | None:
        return next((c for c in self.checks if c.id == check_id), None)


def course_dir() -> Path:
    """The course folder holding ``exercises/``: $GRADER_COURSE_DIR or the installed one."""
    if env := os.environ.get("GRADER_COURSE_DIR"):
        return Path(env)
    return Path(__file__).resolve().parent.parent


def load_spec(path: Path) -> ExerciseSpec:
    """Read and validate a spec file; raise SpecError naming the file and the field."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SpecError(f"Exercise spec {path} does not exist.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"Exercise spec {path} cannot be read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"Exercise spec {path} is not valid TOML: {exc}") from exc
    try:
        spec = ExerciseSpec.model_validate({**data, "spec_path": path})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(top level)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise SpecError(
            f"Exercise spec {path} is invalid: {problems}",
            hint="Fix the fields named above; grader/spec.py documents each one.",
        ) from exc
    if not spec.starter_dir.is_dir():
        raise SpecError(f"Exercise spec {path} has no starter folder {spec.starter_dir}.")
    return spec


def find_exercise(name: str | None, submission: Path, course: Path | None = None) -> ExerciseSpec:
    """The spec for ``name``, or guessed from the submission folder's name."""
    exercises = (course or course_dir()) / "exercises"
    available = sorted(p.stem for p in exercises.glob("*.toml"))
    if name is None:
        guess = submission.resolve().name
        # By the folder's name, else by the starter's code it holds (a learner's copy).
        holding = [
            stem
            for stem in available
            if (submission / load_spec(exercises / f"{stem}.toml").app_code_file).is_file()
        ]
        if guess in available:
            name = guess
        elif len(available) == 1 or len(holding) == 1:
            name = available[0] if len(available) == 1 else holding[0]
        else:
            raise SpecError(
                f"Cannot tell which exercise {submission} is.",
                hint=f"Pass --exercise with one of: {', '.join(available) or '(none found)'}.",
            )
    if name not in available:
        raise SpecError(
            f"No exercise named {name!r} in {exercises}.",
            hint=f"Known exercises: {', '.join(available) or '(none)'}.",
        )
    return load_spec(exercises / f"{name}.toml")
