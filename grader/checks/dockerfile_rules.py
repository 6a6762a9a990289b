"""Static checks: what can be judged from the files alone, without an engine.

hadolint covers the general Dockerfile rules; the course's own rules (the order of
the dependency install, requirements.txt, the listening address …) live here. Each
rule is a check on :class:`StaticContext`, declared with ``@check``; a rule that
judges some of hadolint's codes itself names them, and ``hadolint_clean`` reports
the rest.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.checks.base import FilesContext, Needs, StaticContext, Verdict, check
from grader.dockerfile import Dockerfile, DockerfileProblem, Instruction
from grader.dockerignore import ContextMatcher, read_dockerignore
from grader.effective_command import Reach, listen_address
from grader.errors import SubmissionError
from grader.hadolint import HadolintFinding
from grader.results import Finding

__all__ = ["StaticContext", "dependency_install_step", "pip_installs"]


_SECRET_NAME = re.compile(r"(key|secret|token|passw(or)?d|pwd|credential)", re.IGNORECASE)

# An install command in any spelling learners use: pip, pip3, pip3.11, /opt/venv/bin/pip,
# python -m pip, python3.11 -m pip, /opt/venv/bin/python -m pip, uv pip. Global options
# may stand between the tool and `install` (`pip --disable-pip-version-check install`).
_PIP_INSTALL = re.compile(
    r"(?:^|(?<=[\s;&|(`]))"
    r"(?P<tool>(?:\S*/)?uv\s+pip"
    r"|(?:\S*/)?python(?:3(?:\.\d+)?)?\s+(?:-[A-Za-z]+\s+)*-m\s*pip"
    r"|(?:\S*/)?pip(?:3(?:\.\d+)?)?)"
    r"(?:\s+-\S+)*\s+install\b"
)
_COMMAND_SEPARATOR = re.compile(r"&&|\|\||;|\||\n")

TOOLING = frozenset({"pip", "setuptools", "wheel", "uv"})
"""Installing or upgrading these is tooling, not a dependency named in the Dockerfile."""

# Every value pip accepts for PIP_NO_CACHE_DIR turns the cache off, "0" and "off" too
# (pip's strtobool, kept for backwards compatibility; measured with pip 23.0.1). hadolint
# 2.15.1 only believes truthy ones.
_PIP_NO_CACHE_VALUES = frozenset(
    {"y", "yes", "t", "true", "on", "1", "n", "no", "f", "false", "off", "0"}
)
_TRUTHY = frozenset({"y", "yes", "t", "true", "on", "1"})


@dataclass(frozen=True)
class _Install:
    """One install command inside a RUN."""

    instruction: Instruction
    tool: str
    """``pip`` or ``uv``."""
    words: tuple[str, ...]
    """The words after ``install``."""
    command: tuple[str, ...]
    """The whole command's words (global options before ``install`` included)."""
    inline_env: dict[str, str]
    """``NAME=value`` assignments in front of the command."""


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text, comments=False)
    except ValueError:
        return text.split()


def _installs_in(instruction: Instruction) -> list[_Install]:
    installs = []
    text = instruction.command().replace("\\\n", " ")
    if instruction.is_exec_form:
        text = shlex.join(instruction.words())  # RUN ["pip", "install", …]
    for command in _COMMAND_SEPARATOR.split(text):
        match = _PIP_INSTALL.search(command)
        if match is None:
            continue
        prefix = _split(command[: match.start()])
        inline_env = dict(
            word.split("=", 1) for word in prefix if re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", word)
        )
        tool = "uv" if match.group("tool").split()[0].endswith("uv") else "pip"
        installs.append(
            _Install(
                instruction,
                tool,
                tuple(_split(command[match.end() :])),
                tuple(_split(command[match.start() :])),
                inline_env,
            )
        )
    return installs


def _installs(dockerfile: Dockerfile) -> list[_Install]:
    """Install commands of the stages that feed the final image, in file order."""
    feeding = set(dockerfile.stages_feeding_final())
    return [
        install
        for instruction in dockerfile.instructions
        if instruction.keyword == "RUN" and instruction.stage in feeding
        for install in _installs_in(instruction)
    ]


def pip_installs(dockerfile: Dockerfile) -> list[Instruction]:
    """RUN instructions that install Python packages, in every stage the final image
    depends on (a builder stage whose venv is copied counts)."""
    return list(dict.fromkeys(install.instruction for install in _installs(dockerfile)))


def _requirement_files(words: Sequence[str]) -> list[str]:
    files = []
    for index, word in enumerate(words):
        if word in {"-r", "--requirement"} and index + 1 < len(words):
            files.append(words[index + 1])
        elif word.startswith("--requirement="):
            files.append(word.split("=", 1)[1])
        elif word.startswith("-r") and not word.startswith("--") and len(word) > 2:
            files.append(word[2:])
    return files


_TAKES_VALUE = frozenset(
    {
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
        "--cache-dir",
        "--src",
        "--upgrade-strategy",
        "--platform",
        "--python-version",
        "--implementation",
        "--abi",
        "--no-binary",
        "--only-binary",
        "--trusted-host",
        "--progress-bar",
        "--log",
        "--timeout",
        "--retries",
        "--proxy",
        "-C",
        "--config-settings",
        "-e",
        "--editable",
        "--python",
        "-p",
    }
)


def _named_packages(words: Sequence[str]) -> list[str]:
    """Package names given on the command line rather than in a file (local paths, such as
    built wheels, are not names)."""
    names, skip = [], False
    for word in words:
        if skip:
            skip = False
            continue
        if word in _TAKES_VALUE:
            skip = True
            continue
        if word.startswith("-") or word in {".", "./"}:
            continue
        if word.startswith(("/", "./", "../", "$")) or word.endswith((".whl", ".tar.gz")):
            continue
        names.append(word)
    return names


def _package_name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[@]", requirement, maxsplit=1)[0].lower()


def _earlier(dockerfile: Dockerfile, instruction: Instruction) -> list[Instruction]:
    """What an instruction builds on: the stages its stage is built FROM, then its own
    stage up to it (ARGs before the first FROM are not visible inside a stage)."""
    chain = [instruction.stage]
    while (base := dockerfile.stage_base(chain[-1])) is not None and base not in chain:
        chain.append(base)
    first_from = next(i.line for i in dockerfile.instructions if i.keyword == "FROM")
    earlier = []
    for stage in reversed(chain):
        for candidate in dockerfile.stage(stage):
            if stage == instruction.stage and candidate.line >= instruction.line:
                break
            if candidate.line >= first_from:
                earlier.append(candidate)
    return earlier


def _environment(earlier: list[Instruction]) -> dict[str, str]:
    """ENV values and ARG defaults in force (both are environment variables in a RUN)."""
    env: dict[str, str] = {}
    for instruction in earlier:
        words = instruction.words()
        if instruction.keyword == "ENV" and words and "=" not in words[0]:
            env[words[0]] = " ".join(words[1:])  # the legacy `ENV NAME value` form
        elif instruction.keyword in {"ENV", "ARG"}:
            for word in words:
                name, equals, value = word.partition("=")
                if equals:
                    env[name] = value
    return env


def _workdir(earlier: list[Instruction]) -> str:
    workdir = "/"
    for instruction in earlier:
        if instruction.keyword == "WORKDIR" and instruction.words():
            workdir = posixpath.join(workdir, instruction.words()[0])
    return workdir


def _home(earlier: list[Instruction], env: dict[str, str]) -> str:
    if env.get("HOME"):
        return env["HOME"]
    users = [i for i in earlier if i.keyword == "USER"]
    user = users[-1].value.split(":")[0].strip() if users else "root"
    return "/root" if user in {"root", "0", ""} else f"/home/{user}"


def _resolve(path: str, workdir: str, home: str) -> str:
    path = re.sub(r"^~(?=/|$)|\$\{HOME\}|\$HOME\b", home, path)
    return posixpath.normpath(posixpath.join(workdir, path))


def _read_files(dockerfile: Dockerfile, install: _Install) -> list[str]:
    """The files an install reads requirements from, as context paths when a bind mount
    brings them in (``--mount=type=bind,source=requirements.txt,target=/tmp/req.txt``)."""
    earlier = _earlier(dockerfile, install.instruction)
    env = _environment(earlier)
    workdir, home = _workdir(earlier), _home(earlier, env)
    files = []
    for name in _requirement_files(install.words):
        path = _resolve(name, workdir, home)
        found = name
        for mount in install.instruction.mounts():
            if mount["type"] != "bind" or mount.get("from") or "target" not in mount:
                continue
            target = _resolve(mount["target"], workdir, home)
            source = mount.get("source", ".")
            if path == target:
                found = source
            elif path.startswith(target.rstrip("/") + "/"):
                found = posixpath.join(source, path[len(target.rstrip("/")) + 1 :])
        files.append(posixpath.normpath(found))
    return files


def _reads(dockerfile: Dockerfile, install: _Install, dependency_file: str) -> bool:
    wanted = Path(dependency_file).name
    return any(Path(f).name == wanted for f in _read_files(dockerfile, install))


def dependency_install_step(dockerfile: Dockerfile, dependency_file: str) -> Instruction | None:
    """The RUN that installs from the dependency file, else the first pip install (in the
    stages that feed the final image)."""
    installs = _installs(dockerfile)
    for install in installs:
        if _reads(dockerfile, install, dependency_file):
            return install.instruction
    return installs[0].instruction if installs else None


def _cache_kept_away(dockerfile: Dockerfile, run: Instruction, install: _Install | None) -> bool:
    """Does the tool's download cache stay out of the layer? (``--no-cache-dir``, a
    ``PIP_NO_CACHE_DIR`` that pip accepts, or a cache mount over the cache folder.)"""
    earlier = _earlier(dockerfile, run)
    env = {**_environment(earlier), **(install.inline_env if install else {})}
    tool = install.tool if install else "pip"
    if tool == "uv":
        if install and {"--no-cache", "-n"} & set(install.command):
            return True
        if env.get("UV_NO_CACHE", "").lower() in _TRUTHY:
            return True
    else:
        if install and "--no-cache-dir" in install.command:
            return True
        if env.get("PIP_NO_CACHE_DIR", "").lower() in _PIP_NO_CACHE_VALUES:
            return True
    workdir, home = _workdir(earlier), _home(earlier, env)
    own = env.get(f"{tool.upper()}_CACHE_DIR")
    base = env.get("XDG_CACHE_HOME") or f"{home}/.cache"
    cache = _resolve(own or f"{base}/{tool}", workdir, home)
    for mount in run.mounts():
        if mount["type"] == "cache" and "target" in mount:
            target = _resolve(mount["target"], workdir, home)
            if cache == target or cache.startswith(target.rstrip("/") + "/"):
                return True
    return False


def _hadolint(ctx: StaticContext, *codes: str) -> list[HadolintFinding]:
    return [f for f in ctx.hadolint if f.code in codes]


def _as_findings(found: list[HadolintFinding], level: str = "error") -> tuple[Finding, ...]:
    return tuple(Finding(f"{f.code}: {f.message}", f.line, level=level, code=f.code) for f in found)


# --- the rules ---------------------------------------------------------------------------


@check("dockerfile_valid", "The Dockerfile can be read and parsed", Needs.FILES, 0)
def dockerfile_valid(ctx: FilesContext) -> Verdict:
    parsed = ctx.dockerfile
    if isinstance(parsed, DockerfileProblem):
        return Verdict.failed(parsed.message, parsed.hint, line=parsed.line)
    warnings = tuple(Finding(m, line, level="warning") for m, line in parsed.warnings)
    return Verdict.passed(
        f"{len(parsed.instructions)} instructions parsed"
        + (f" ({'; '.join(m for m, _ in parsed.warnings)})" if parsed.warnings else "."),
        findings=warnings,
    )


@check(
    "base_image_pinned",
    "The base image is slim and has a version tag",
    Needs.STATIC,
    1,
    hadolint_codes=("DL3006", "DL3007"),
)
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
                f"Name the version, e.g. `FROM {ctx.spec.base_image}`: builds stay reproducible.",
                line=instruction.line,
            )
        if name.endswith("python") and not any(s in tag for s in ("slim", "alpine")):
            return Verdict.failed(
                f"`FROM {image}` is the full Python image (about 1 GB).",
                f"Use the slim variant, `FROM {ctx.spec.base_image}`: the app needs nothing more.",
                line=instruction.line,
            )
    return Verdict.passed("Every FROM names a tagged, slim image.")


@check(
    "deps_from_requirements", "Dependencies are installed from requirements.txt", Needs.STATIC, 6
)
def deps_from_requirements(ctx: StaticContext) -> Verdict:
    dependency_file = ctx.spec.dependency_file
    installs = _installs(ctx.dockerfile)
    if not installs:
        return Verdict.failed(
            "No RUN instruction installs the Python dependencies.",
            f"Add `COPY {dependency_file} .` and `RUN pip install --no-cache-dir -r "
            f"{dependency_file}` before copying the app code.",
        )
    for install in installs:
        named = [n for n in _named_packages(install.words) if _package_name(n) not in TOOLING]
        if named:
            instruction = install.instruction
            return Verdict.failed(
                f"Line {instruction.line} installs packages named in the Dockerfile "
                f"({', '.join(named[:4])}) instead of from {dependency_file}.",
                f"Keep every dependency (with its pinned version) in {dependency_file} and "
                f"install with `pip install --no-cache-dir -r {dependency_file}`.",
                line=instruction.line,
            )
    if not any(_reads(ctx.dockerfile, install, dependency_file) for install in installs):
        return Verdict.failed(
            f"No pip install reads {dependency_file}.",
            f"Install with `pip install --no-cache-dir -r {dependency_file}`.",
            line=installs[0].instruction.line,
        )
    return Verdict.passed(f"Dependencies come from {dependency_file}.")


def _context_mounts(instruction: Instruction) -> list[dict[str, str]]:
    """Bind mounts of the build context (not of another stage or image)."""
    return [m for m in instruction.mounts() if m["type"] == "bind" and not m.get("from")]


@check(
    "requirements_before_app",
    "requirements.txt is installed before the app code is copied",
    Needs.STATIC,
    6,
)
def requirements_before_app(ctx: StaticContext) -> Verdict:
    dependency_file = Path(ctx.spec.dependency_file).name
    install = dependency_install_step(ctx.dockerfile, dependency_file)
    if install is None:
        return Verdict.failed(
            "There is no dependency install step to order.",
            f"Copy {dependency_file}, run `pip install -r {dependency_file}`, then copy the app.",
        )
    # Judged in the install's own stage (and the stages it is built FROM): app code copied
    # into another stage does not touch this step's cache. `COPY --from=…` brings files
    # built elsewhere, not the learner's code.
    before = [
        i
        for i in _earlier(ctx.dockerfile, install)
        if i.keyword in {"COPY", "ADD"} and not any(n.lower() == "from" for n, _ in i.flags())
    ]
    app_copy = next(
        (c for c in before if any(Path(s).name != dependency_file for s in c.copy_sources())),
        None,
    )
    if app_copy is not None:
        return Verdict.failed(
            f"Line {app_copy.line} (`{app_copy.keyword} {app_copy.head}`) copies app code before "
            f"the dependencies are installed on line {install.line}: every edit to the app "
            "invalidates the cache and reinstalls every package.",
            f"Copy only {dependency_file} first (`COPY {dependency_file} .`), install, and copy "
            "the rest of the code after the install.",
            line=app_copy.line,
        )
    # A bind mount is part of the step's cache key, like a COPY before it.
    mounts = _context_mounts(install)
    app_mount = next(
        (m for m in mounts if Path(m.get("source", ".")).name != dependency_file), None
    )
    if app_mount is not None:
        source = app_mount.get("source", ".")
        return Verdict.failed(
            f"Line {install.line} mounts `{source}` from the build context into the install: "
            "every edit to the app changes the mount and reinstalls every package.",
            f"Mount only {dependency_file}: `--mount=type=bind,source={dependency_file},"
            f"target={dependency_file}`.",
            line=install.line,
        )
    mounted = any(Path(m.get("source", ".")).name == dependency_file for m in mounts)
    copied = any(dependency_file in (Path(s).name for s in c.copy_sources()) for c in before)
    if not (mounted or copied):
        return Verdict.failed(
            f"{dependency_file} is not copied into the image before the install on line "
            f"{install.line}.",
            f"Add `COPY {dependency_file} .` just before the install.",
            line=install.line,
        )
    how = "mounted into" if mounted and not copied else "copied before"
    return Verdict.passed(f"{dependency_file} is {how} the install, and the app code comes after.")


@check(
    "pip_no_cache_dir",
    "pip does not keep its download cache in the image",
    Needs.STATIC,
    3,
    hadolint_codes=("DL3042",),
)
def pip_no_cache_dir(ctx: StaticContext) -> Verdict:
    dockerfile = ctx.dockerfile
    # Only the final stage and the stages it is built FROM leave layers in the image: a
    # builder stage whose venv is copied out keeps its cache to itself.
    in_image = set(dockerfile.final_image_chain())
    runs = {i.line: i for i in dockerfile.instructions if i.keyword == "RUN"}
    found: list[Finding] = []
    for finding in _hadolint(ctx, "DL3042"):
        run = runs.get(finding.line)
        if run is not None and (
            run.stage not in in_image or _cache_kept_away(dockerfile, run, None)
        ):
            continue  # a pip cache mount or PIP_NO_CACHE_DIR: the cache is not in a layer
        found += _as_findings([finding])
    flagged = {f.line: "pip" for f in found}
    # hadolint misses some spellings (/opt/venv/bin/pip, uv pip): judged here as well.
    for install in _installs(dockerfile):
        run = install.instruction
        if (
            run.stage in in_image
            and run.line not in flagged
            and not _cache_kept_away(dockerfile, run, install)
        ):
            flagged[run.line] = install.tool
            found.append(
                Finding(
                    f"`{' '.join(install.command[:3])} …` keeps its download cache in the layer.",
                    run.line,
                    code="pip-cache-kept",
                )
            )
    if found:
        first = min(found, key=lambda f: f.line or 0)
        tool = flagged.get(first.line or 0, "pip")
        hint = (
            "Add `--no-cache-dir` to `pip install` (the image gets tens of MB smaller), or "
            "keep the cache out of the image with `RUN --mount=type=cache,"
            "target=/root/.cache/pip …`."
        )
        if "uv" in flagged.values():
            hint += " For `uv pip install`, add `--no-cache`."
        return Verdict.failed(
            f"Line {first.line}: {tool} keeps its download cache in the image layer.",
            hint,
            line=first.line,
            findings=tuple(sorted(found, key=lambda f: f.line or 0)),
        )
    return Verdict.passed("pip installs without keeping a cache.")


@check(
    "apt_best_practices",
    "apt-get is used the image-friendly way",
    Needs.STATIC,
    2,
    hadolint_codes=("DL3009", "DL3015", "DL3014", "DL3027"),
)
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


@check(
    "exec_form_cmd",
    "CMD/ENTRYPOINT use the exec (JSON) form",
    Needs.STATIC,
    3,
    hadolint_codes=("DL3025",),
)
def exec_form_cmd(ctx: StaticContext) -> Verdict:
    start = ctx.dockerfile.last("CMD", "ENTRYPOINT")
    if start is None:
        command = ctx.spec.start_command
        return Verdict.failed(
            "The image has no CMD or ENTRYPOINT: the container does not know what to run.",
            f"Add `CMD {json.dumps(command)}`."
            if command
            else 'Add a CMD in exec form that starts the program: `CMD ["program", "arg"]`.',
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
            "and `docker stop` signals never reach the program.",
            _exec_form_hint(bad, ctx.spec.start_command),
            line=bad.line,
        )
    return Verdict.passed(f"{start.keyword} uses the exec form.")


# Words that only mean something to a shell: in exec form they reach the program as text.
_SHELL_WORDS = re.compile(r"^(\|\||&&|;|\||&|[0-9]*>>?(&[0-9])?|<|\$.*)$")


def _exec_form_hint(instruction: Instruction, suggested: list[str] | None) -> str:
    words = instruction.words()
    if not any(_SHELL_WORDS.match(word) for word in words):
        return f"Write it as a JSON array: `{instruction.keyword} {json.dumps(words)}`."
    example = (
        f"`{instruction.keyword} {json.dumps(suggested)}`"
        if suggested
        else f'`{instruction.keyword} ["program", "arg"]`'
    )
    return (
        f"Write it as a JSON array of the program and its arguments, e.g. {example}: `||`, "
        "`&&`, `;`, pipes, redirections and `$VARIABLES` need a shell, and in exec form "
        "would reach the program as plain words."
    )


@check(
    "binds_all_interfaces",
    "The server listens on 0.0.0.0 inside the container",
    Needs.STATIC,
    3,
    reads_app=True,
)
def binds_all_interfaces(ctx: StaticContext) -> Verdict:
    # The command the container really runs (ENTRYPOINT + CMD, through `sh -c`, with ENV
    # expanded), in the server's own syntax: not a search of the Dockerfile's text.
    address = listen_address(ctx.dockerfile)
    answers = address.reach.published_port_answers
    if answers is None:
        return Verdict.passed(f"{address.reason} The run stage checks where it really listens.")
    if answers:
        return Verdict.passed(address.reason)
    port = ctx.spec.require_app().container_port
    fix = address.host_fix(port)
    if address.reach is Reach.INVALID:
        # Say which of the two to change; the exec form hands `$PORT` over as it is.
        wanted = address.port_fix(port) if address.invalid_part == "port" else fix
        hint = f"Use {wanted}."
        if "$" in address.reason:
            hint += " The exec form replaces no variables: use the shell form if it must."
    elif address.reach is Reach.UNIX_SOCKET:
        hint = f"Listen on TCP instead: {fix}."
    else:
        hint = f"Make the server listen on every IPv4 interface: {fix}."
    return Verdict.failed(address.reason, hint, line=address.source_line)


@check(
    "expose_matches_port",
    "EXPOSE matches the port the app listens on",
    Needs.STATIC,
    2,
    reads_app=True,
)
def expose_matches_port(ctx: StaticContext) -> Verdict:
    port = ctx.spec.require_app().container_port
    address = listen_address(ctx.dockerfile)
    if address.port is not None and address.port != port:
        return Verdict.failed(
            f"The server listens on port {address.port}, but this exercise expects {port}: "
            f"{address.reason}",
            f"Use {address.port_fix(port)}.",
            line=address.source_line,
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


@check(
    "no_secrets_in_dockerfile",
    "No secrets are written into the Dockerfile",
    Needs.STATIC,
    4,
    hadolint_codes=("DL3064",),
)
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


@check(
    "non_root_user", "The app runs as a non-root user", Needs.STATIC, 3, hadolint_codes=("DL3002",)
)
def non_root_user(ctx: StaticContext) -> Verdict:
    user = ctx.dockerfile.last("USER")
    if user is None:
        wanted = ctx.spec.user
        return Verdict.failed(
            "The app runs as root: a flaw in it would give root inside the container.",
            f"Create a user and switch to it before CMD: `RUN useradd --create-home {wanted}` "
            f"then `USER {wanted}`.",
        )
    name = user.value.split(":")[0].strip()
    if name in {"root", "0"}:
        return Verdict.failed(
            f"Line {user.line}: the last USER is {name}.",
            "Switch to an unprivileged user after the steps that need root.",
            line=user.line,
        )
    return Verdict.passed(f"The app runs as `{name}`.")


DOCKERIGNORE_MUST_EXCLUDE = (".env", ".git", "__pycache__")


@check(
    "dockerignore", ".dockerignore keeps secrets, VCS and caches out of the build", Needs.STATIC, 4
)
def dockerignore(ctx: StaticContext) -> Verdict:
    path = ctx.workspace / ".dockerignore"
    if not path.is_file():
        return Verdict.failed(
            "There is no .dockerignore: `COPY . .` would send .env, .git and caches to the builder.",
            "Create .dockerignore with at least the lines `.env`, `.git` and `__pycache__/`.",
            file=".dockerignore",
        )
    # Read and matched exactly as the build context is made (a BOM, CRLF, Go's rules).
    try:
        matcher = ContextMatcher(read_dockerignore(path))
    except SubmissionError as exc:
        return Verdict.failed(exc.message, exc.hint, file=".dockerignore", line=1)
    missing = [name for name in DOCKERIGNORE_MUST_EXCLUDE if matcher.sends(name)]
    if missing:
        return Verdict.failed(
            f".dockerignore does not exclude {', '.join(missing)}.",
            "Add " + ", ".join(f"`{m}`" for m in missing) + " (one per line) to .dockerignore.",
            file=".dockerignore",
            line=1,
        )
    return Verdict.passed(".dockerignore excludes .env, .git and caches.")


def _tooling_only_lines(dockerfile: Dockerfile) -> set[int]:
    """RUNs whose only packages named on the command line are pip/setuptools/wheel/uv."""
    lines = set()
    for instruction in dockerfile.find("RUN", final_stage=False):
        named = [n for i in _installs_in(instruction) for n in _named_packages(i.words)]
        if named and all(_package_name(n) in TOOLING for n in named):
            lines.add(instruction.line)
    return lines


@check("hadolint_clean", "hadolint has no further warnings", Needs.STATIC, 0)
def hadolint_clean(ctx: StaticContext) -> Verdict:
    # DL3013 (unpinned pip packages) on `pip install --upgrade pip`: tooling, allowed.
    tooling = _tooling_only_lines(ctx.dockerfile)
    rest = [
        f
        for f in ctx.hadolint
        if f.code not in _judged_elsewhere() and not (f.code == "DL3013" and f.line in tooling)
    ]
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


def _judged_elsewhere() -> set[str]:
    """hadolint codes that a check of their own reports (e.g. DL3042, pip's cache)."""
    from grader.checks.registry import CHECKS

    return {code for c in CHECKS.values() for code in c.hadolint_codes}
