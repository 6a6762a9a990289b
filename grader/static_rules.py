"""Static checks: what can be judged from the files alone, without an engine.

hadolint covers the general Dockerfile rules; the course's own rules (the order of
the dependency install, requirements.txt, the listening address …) live here. Each
rule is a function from :class:`StaticContext` to a :class:`Verdict`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from docker.utils.build import PatternMatcher

from grader.checks import Verdict
from grader.dockerfile import Dockerfile, Instruction
from grader.hadolint import HadolintFinding
from grader.results import Finding
from grader.spec import ExerciseSpec

__all__ = ["RULES", "StaticContext", "dependency_install_step", "pip_installs"]


@dataclass(frozen=True)
class StaticContext:
    dockerfile: Dockerfile
    hadolint: tuple[HadolintFinding, ...]
    spec: ExerciseSpec
    workspace: Path


_PIP_INSTALL = re.compile(r"\b(?:pip3?|python3?\s+-m\s+pip|uv\s+pip)\s+install\b")
_SECRET_NAME = re.compile(r"(key|secret|token|passw(or)?d|pwd|credential)", re.IGNORECASE)


def pip_installs(dockerfile: Dockerfile) -> list[Instruction]:
    """RUN instructions of the final stage that install Python packages with pip."""
    return [i for i in dockerfile.find("RUN") if _PIP_INSTALL.search(i.value)]


def _install_segments(instruction: Instruction) -> list[list[str]]:
    """The words after ``pip install`` in each pip command of a RUN."""
    segments = []
    for command in re.split(r"&&|;|\|\|", instruction.value):
        match = _PIP_INSTALL.search(command)
        if match:
            segments.append(command[match.end() :].replace("\\\n", " ").split())
    return segments


def _requirement_files(words: list[str]) -> list[str]:
    files = []
    for index, word in enumerate(words):
        if word in {"-r", "--requirement"} and index + 1 < len(words):
            files.append(words[index + 1])
        elif word.startswith(("--requirement=", "-r")) and len(word) > 2:
            files.append(word.split("=", 1)[-1].removeprefix("-r"))
    return files


def _named_packages(words: list[str]) -> list[str]:
    """Package names given on the command line rather than in a file."""
    takes_value = {
        "-r",
        "--requirement",
        "-c",
        "--constraint",
        "-i",
        "--index-url",
        "-t",
        "--target",
        "--extra-index-url",
        "-f",
        "--find-links",
        "--prefix",
        "--root",
    }
    names, skip = [], False
    for word in words:
        if skip:
            skip = False
            continue
        if word in takes_value:
            skip = True
            continue
        if word.startswith("-") or word in {".", "./"}:
            continue
        names.append(word)
    return names


def dependency_install_step(dockerfile: Dockerfile, dependency_file: str) -> Instruction | None:
    """The RUN that installs from the dependency file, else the first pip install."""
    installs = pip_installs(dockerfile)
    for instruction in installs:
        for words in _install_segments(instruction):
            if any(Path(f).name == Path(dependency_file).name for f in _requirement_files(words)):
                return instruction
    return installs[0] if installs else None


def _hadolint(ctx: StaticContext, *codes: str) -> list[HadolintFinding]:
    return [f for f in ctx.hadolint if f.code in codes]


def _as_findings(found: list[HadolintFinding], level: str = "error") -> tuple[Finding, ...]:
    return tuple(Finding(f"{f.code}: {f.message}", f.line, level=level, code=f.code) for f in found)


# --- the rules ---------------------------------------------------------------------------


def base_image_pinned(ctx: StaticContext) -> Verdict:
    stage_names: set[str] = set()
    for instruction in ctx.dockerfile.find("FROM", final_stage=False):
        words = [w for w in instruction.words() if not w.startswith("--")]
        image = words[0] if words else ""
        if len(words) >= 3 and words[1].upper() == "AS":
            stage_names.add(words[2].lower())
        if "@" in image or image == "scratch" or image.lower() in stage_names or "$" in image:
            continue  # pinned by digest, empty, an earlier stage, or from an ARG
        name, _, tag = image.rsplit("/", 1)[-1].partition(":")
        if not tag or tag == "latest":
            return Verdict.failed(
                f"`FROM {image}` has no version tag, so it means whatever `latest` is today.",
                "Name the version, e.g. `FROM python:3.11-slim`: builds stay reproducible.",
                line=instruction.line,
            )
        if name.endswith("python") and not any(s in tag for s in ("slim", "alpine")):
            return Verdict.failed(
                f"`FROM {image}` is the full Python image (about 1 GB).",
                "Use the slim variant, `FROM python:3.11-slim`: the app needs nothing more.",
                line=instruction.line,
            )
    return Verdict.passed("Every FROM names a tagged, slim image.")


def deps_from_requirements(ctx: StaticContext) -> Verdict:
    dependency_file = ctx.spec.dependency_file
    installs = pip_installs(ctx.dockerfile)
    if not installs:
        return Verdict.failed(
            "No RUN instruction installs the Python dependencies.",
            f"Add `COPY {dependency_file} .` and `RUN pip install --no-cache-dir -r "
            f"{dependency_file}` before copying the app code.",
        )
    for instruction in installs:
        for words in _install_segments(instruction):
            named = _named_packages(words)
            if named:
                return Verdict.failed(
                    f"Line {instruction.line} installs packages named in the Dockerfile "
                    f"({', '.join(named[:4])}) instead of from {dependency_file}.",
                    f"Keep every dependency (with its pinned version) in {dependency_file} and "
                    f"install with `pip install --no-cache-dir -r {dependency_file}`.",
                    line=instruction.line,
                )
    if not any(
        Path(f).name == Path(dependency_file).name
        for instruction in installs
        for words in _install_segments(instruction)
        for f in _requirement_files(words)
    ):
        return Verdict.failed(
            f"No pip install reads {dependency_file}.",
            f"Install with `pip install --no-cache-dir -r {dependency_file}`.",
            line=installs[0].line,
        )
    return Verdict.passed(f"Dependencies come from {dependency_file}.")


def requirements_before_app(ctx: StaticContext) -> Verdict:
    dependency_file = Path(ctx.spec.dependency_file).name
    install = dependency_install_step(ctx.dockerfile, dependency_file)
    if install is None:
        return Verdict.failed(
            "There is no dependency install step to order.",
            f"Copy {dependency_file}, run `pip install -r {dependency_file}`, then copy the app.",
        )
    copies = [i for i in ctx.dockerfile.final_stage if i.keyword in {"COPY", "ADD"}]
    copies = [c for c in copies if not any(w.startswith("--from") for w in c.words())]
    before = [c for c in copies if c.line < install.line]
    app_copy = next(
        (c for c in before if any(Path(s).name != dependency_file for s in c.copy_sources())),
        None,
    )
    if app_copy is not None:
        return Verdict.failed(
            f"Line {app_copy.line} (`{app_copy.keyword} {app_copy.value}`) copies app code before "
            f"the dependencies are installed on line {install.line}: every edit to the app "
            "invalidates the cache and reinstalls every package.",
            f"Copy only {dependency_file} first (`COPY {dependency_file} .`), install, and copy "
            "the rest of the code after the install.",
            line=app_copy.line,
        )
    if not any(dependency_file in (Path(s).name for s in c.copy_sources()) for c in before):
        return Verdict.failed(
            f"{dependency_file} is not copied into the image before the install on line "
            f"{install.line}.",
            f"Add `COPY {dependency_file} .` just before the install.",
            line=install.line,
        )
    return Verdict.passed(f"{dependency_file} is copied and installed before the app code.")


def pip_no_cache_dir(ctx: StaticContext) -> Verdict:
    found = _hadolint(ctx, "DL3042")
    if found:
        return Verdict.failed(
            f"Line {found[0].line}: pip keeps its download cache in the image layer.",
            "Add `--no-cache-dir` to `pip install` (the image gets tens of MB smaller).",
            line=found[0].line,
            findings=_as_findings(found),
        )
    return Verdict.passed("pip installs without keeping a cache.")


def apt_best_practices(ctx: StaticContext) -> Verdict:
    problems: list[Finding] = []
    for instruction in ctx.dockerfile.find("RUN", final_stage=False):
        if re.search(r"apt(-get)?\s+update", instruction.value) and not re.search(
            r"apt(-get)?\s+(-\S+\s+)*install", instruction.value
        ):
            problems.append(
                Finding(
                    "`apt-get update` alone in a RUN: its cached layer goes stale, and a later "
                    "install uses old package lists.",
                    instruction.line,
                    code="apt-update-alone",
                )
            )
    problems += _as_findings(_hadolint(ctx, "DL3009", "DL3015", "DL3014", "DL3027"))
    if problems:
        first = min(problems, key=lambda f: f.line or 0)
        return Verdict.failed(
            f"Line {first.line}: {first.message}",
            "Use one RUN: `apt-get update && apt-get install -y --no-install-recommends PKG "
            "&& rm -rf /var/lib/apt/lists/*`.",
            line=first.line,
            findings=tuple(problems),
        )
    return Verdict.passed("No apt-get problems.")


def exec_form_cmd(ctx: StaticContext) -> Verdict:
    start = ctx.dockerfile.last("CMD", "ENTRYPOINT")
    if start is None:
        return Verdict.failed(
            "The image has no CMD or ENTRYPOINT: the container does not know what to run.",
            'Add `CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]`.',
        )
    shell_form = [
        i
        for i in ctx.dockerfile.final_stage
        if i.keyword in {"CMD", "ENTRYPOINT"} and not i.is_exec_form
    ]
    if shell_form:
        bad = shell_form[-1]
        return Verdict.failed(
            f"Line {bad.line}: `{bad.keyword} {bad.value}` is in shell form: /bin/sh becomes PID 1 "
            "and `docker stop` signals never reach the server.",
            f"Write it as a JSON array: `{bad.keyword} {_exec_form(bad)}`.",
            line=bad.line,
        )
    return Verdict.passed(f"{start.keyword} uses the exec form.")


def _exec_form(instruction: Instruction) -> str:
    words = instruction.words()
    return "[" + ", ".join(f'"{w}"' for w in words) + "]"


def _start_command(dockerfile: Dockerfile) -> tuple[list[str], Instruction | None]:
    entrypoint = dockerfile.last("ENTRYPOINT")
    cmd = dockerfile.last("CMD")
    words = (entrypoint.words() if entrypoint else []) + (cmd.words() if cmd else [])
    return words, cmd or entrypoint


def _option(words: list[str], *names: str) -> str | None:
    for index, word in enumerate(words):
        for name in names:
            if word == name and index + 1 < len(words):
                return words[index + 1]
            if word.startswith(name + "="):
                return word.split("=", 1)[1]
    return None


def binds_all_interfaces(ctx: StaticContext) -> Verdict:
    words, instruction = _start_command(ctx.dockerfile)
    line = instruction.line if instruction else None
    joined = " ".join(words)
    if "uvicorn" in joined:
        host = _option(words, "--host")
        if host in {"0.0.0.0", "::", "[::]"}:
            return Verdict.passed(f"uvicorn listens on {host}.")
        said = f"`--host {host}`" if host else "no `--host`, so uvicorn's default 127.0.0.1"
        return Verdict.failed(
            f"The server starts with {said}: inside a container that address is reachable only "
            "from the container itself, so published ports get no answer.",
            "Add `--host 0.0.0.0` to the uvicorn command.",
            line=line,
        )
    if "gunicorn" in joined:
        bind = _option(words, "--bind", "-b") or ""
        if bind.startswith("0.0.0.0") or bind.startswith("[::]"):
            return Verdict.passed(f"gunicorn binds {bind}.")
        return Verdict.failed(
            "gunicorn is not bound to 0.0.0.0.",
            "Add `--bind 0.0.0.0:8000`.",
            line=line,
        )
    return Verdict.passed(
        "The start command is not uvicorn or gunicorn; the run stage checks the address."
    )


def expose_matches_port(ctx: StaticContext) -> Verdict:
    port = ctx.spec.container_port
    words, instruction = _start_command(ctx.dockerfile)
    listen = _option(words, "--port")
    if listen is not None and listen != str(port):
        return Verdict.failed(
            f"The server listens on port {listen}, but this exercise expects {port}.",
            f"Use `--port {port}`.",
            line=instruction.line if instruction else None,
        )
    exposes = ctx.dockerfile.find("EXPOSE")
    exposed = {w.split("/")[0] for i in exposes for w in i.words()}
    if not exposes:
        return Verdict.failed(
            "The Dockerfile has no EXPOSE: readers and tools cannot tell which port the app uses.",
            f"Add `EXPOSE {port}`.",
        )
    if str(port) not in exposed:
        return Verdict.failed(
            f"EXPOSE says {', '.join(sorted(exposed))}, but the app listens on {port}.",
            f"Change it to `EXPOSE {port}`.",
            line=exposes[-1].line,
        )
    return Verdict.passed(f"EXPOSE {port} matches the app's port.")


def no_secrets_in_dockerfile(ctx: StaticContext) -> Verdict:
    findings: list[Finding] = []
    for instruction in ctx.dockerfile.find("ENV", final_stage=False) + ctx.dockerfile.find(
        "ARG", final_stage=False
    ):
        for word in instruction.words():
            name, equals, value = word.partition("=")
            if equals and value and _SECRET_NAME.search(name):
                findings.append(
                    Finding(
                        f"`{instruction.keyword} {name}=…` bakes a secret into the image, where "
                        "`docker history` and `docker inspect` show it to anyone.",
                        instruction.line,
                    )
                )
    for instruction in ctx.dockerfile.find("COPY", final_stage=False) + ctx.dockerfile.find(
        "ADD", final_stage=False
    ):
        if any(Path(s).name.startswith(".env") for s in instruction.copy_sources()):
            findings.append(
                Finding(
                    f"Line {instruction.line} copies a .env file into the image.", instruction.line
                )
            )
    if findings:
        return Verdict.failed(
            findings[0].message,
            "Remove it from the Dockerfile; pass secrets when the container starts: "
            "`docker run --env-file .env …`.",
            line=findings[0].line,
            findings=tuple(findings),
        )
    return Verdict.passed("No secrets in ENV, ARG or COPY.")


def non_root_user(ctx: StaticContext) -> Verdict:
    user = ctx.dockerfile.last("USER")
    if user is None:
        return Verdict.failed(
            "The app runs as root: a flaw in it would give root inside the container.",
            "Create a user and switch to it before CMD: `RUN useradd --create-home appuser` "
            "then `USER appuser`.",
        )
    name = user.value.split(":")[0].strip()
    if name in {"root", "0"}:
        return Verdict.failed(
            f"Line {user.line}: the last USER is {name}.",
            "Switch to an unprivileged user after the steps that need root.",
            line=user.line,
        )
    return Verdict.passed(f"The app runs as `{name}`.")


def healthcheck(ctx: StaticContext) -> Verdict:
    check = ctx.dockerfile.last("HEALTHCHECK")
    if check is None or check.value.strip().upper() == "NONE":
        return Verdict.failed(
            "The image has no HEALTHCHECK, so `docker ps` cannot tell a stuck app from a healthy one.",
            f"Add a HEALTHCHECK that requests {ctx.spec.readiness_path}, e.g. "
            '`HEALTHCHECK CMD ["python", "-c", "import urllib.request; '
            f"urllib.request.urlopen('http://127.0.0.1:{ctx.spec.container_port}"
            f"{ctx.spec.readiness_path}')\"]`.",
        )
    return Verdict.passed("The image declares a HEALTHCHECK.")


DOCKERIGNORE_MUST_EXCLUDE = (".env", ".git", "__pycache__")


def dockerignore(ctx: StaticContext) -> Verdict:
    path = ctx.workspace / ".dockerignore"
    if not path.is_file():
        return Verdict.failed(
            "There is no .dockerignore: `COPY . .` would send .env, .git and caches to the builder.",
            "Create .dockerignore with at least the lines `.env`, `.git` and `__pycache__/`.",
            file=".dockerignore",
        )
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    matcher = PatternMatcher(patterns)
    missing = [name for name in DOCKERIGNORE_MUST_EXCLUDE if not matcher.matches(name)]
    if missing:
        return Verdict.failed(
            f".dockerignore does not exclude {', '.join(missing)}.",
            "Add " + ", ".join(f"`{m}`" for m in missing) + " (one per line) to .dockerignore.",
            file=".dockerignore",
            line=1,
        )
    return Verdict.passed(".dockerignore excludes .env, .git and caches.")


_MAPPED_CODES = {
    "DL3042",
    "DL3009",
    "DL3015",
    "DL3014",
    "DL3027",
    "DL3025",
    "DL3002",
    "DL3064",
    "DL3006",
    "DL3007",
}


def hadolint_clean(ctx: StaticContext) -> Verdict:
    rest = [f for f in ctx.hadolint if f.code not in _MAPPED_CODES]
    serious = [f for f in rest if f.level in {"error", "warning"}]
    advice = _as_findings(rest, level="warning")
    if serious:
        first = serious[0]
        return Verdict.failed(
            f"hadolint: line {first.line}: {first.code} {first.message}"
            + (f" (and {len(serious) - 1} more)" if len(serious) > 1 else ""),
            f"See https://github.com/hadolint/hadolint/wiki/{first.code}.",
            line=first.line,
            findings=advice,
        )
    note = f" ({len(rest)} style notes)" if rest else ""
    return Verdict.passed(f"hadolint has no further warnings{note}.", findings=advice)


RULES: dict[str, Callable[[StaticContext], Verdict]] = {
    "base_image_pinned": base_image_pinned,
    "deps_from_requirements": deps_from_requirements,
    "requirements_before_app": requirements_before_app,
    "pip_no_cache_dir": pip_no_cache_dir,
    "apt_best_practices": apt_best_practices,
    "exec_form_cmd": exec_form_cmd,
    "binds_all_interfaces": binds_all_interfaces,
    "expose_matches_port": expose_matches_port,
    "no_secrets_in_dockerfile": no_secrets_in_dockerfile,
    "non_root_user": non_root_user,
    "healthcheck": healthcheck,
    "dockerignore": dockerignore,
    "hadolint_clean": hadolint_clean,
}
