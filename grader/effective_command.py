"""The command a container really runs, and where its server listens, read from the Dockerfile.

Docker's rules (BuildKit's and the classic builder's dispatchers agree): a shell-form CMD or
ENTRYPOINT runs as SHELL + its text (``/bin/sh -c``); ENTRYPOINT clears the CMD it inherits
unless its own stage set one before it; a shell-form ENTRYPOINT hands CMD to its script as
``$0 …``, unread. The builder expands no variable in CMD/ENTRYPOINT and keeps no ARG in the
image: a ``sh -c`` at run time sees ENV values only, an exec-form ``$HOST`` stays literal.

Servers, read in their sources (uvicorn 0.54.0 in the venv, gunicorn ``util.py``/``sock.py``/
``config.py``, hypercorn ``config.py``, fastapi-cli ``cli.py``): all default to
127.0.0.1:8000 but ``fastapi run`` (0.0.0.0). One uvicorn process binds through asyncio,
which sets IPV6_V6ONLY on ``::`` (measured: IPv4 refused); uvicorn with workers or reload,
gunicorn and hypercorn bind plain sockets that leave it off (measured with uvicorn: IPv4
accepted). uvicorn reads ``UVICORN_<OPTION>`` and ``WEB_CONCURRENCY``; gunicorn
``GUNICORN_CMD_ARGS``, ``PORT`` (then its default is ``0.0.0.0:$PORT``) and a
``gunicorn.conf.py`` in its working directory. The base image's own config is not known.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, NamedTuple

from grader.dockerfile import Dockerfile

__all__ = [
    "EffectiveCommand",
    "Expansion",
    "ListenAddress",
    "Reach",
    "Variable",
    "effective_command",
    "listen_address",
]

SERVER_DEFAULT_PORT = 8000
"""The port uvicorn, gunicorn, hypercorn and fastapi-cli listen on when told none: the
servers' own default (their sources, above), not an exercise's port (``[app]`` in the spec)."""

Source = Literal["ENV", "ARG", "script", "default", "unset", "shell"]
"""An ENV line, an ARG line (build time only), the start script, a ``${NAME:-default}``,
nowhere in the Dockerfile, or the running shell (``$(…)``, ``$1``)."""


class Reach(StrEnum):
    """Who can connect to a listening address."""

    ALL_IPV4 = "all-ipv4"
    """0.0.0.0 or an empty host: every IPv4 interface, which published ports reach."""
    DUAL_STACK = "dual-stack"
    """``::`` on a socket that leaves IPV6_V6ONLY off: IPv4 connections arrive too."""
    IPV6_ONLY = "ipv6-only"
    """``::`` with IPV6_V6ONLY on: Docker's default IPv4 port publishing gets no answer."""
    LOOPBACK = "loopback"
    SPECIFIC = "specific"
    """One interface's address or a host name: reachable only if it is the container's."""
    UNIX_SOCKET = "unix-socket"
    INVALID = "invalid"
    """Not bindable (uvicorn's ``[::]``, an exec-form ``$HOST``): the server exits."""
    UNKNOWN = "unknown"
    """Cannot tell statically: the caller must not fail anyone on it."""

    @property
    def published_port_answers(self) -> bool | None:
        """Does a port published the default way reach the server? None: cannot tell."""
        if self in {Reach.SPECIFIC, Reach.UNKNOWN}:
            return None
        return self in {Reach.ALL_IPV4, Reach.DUAL_STACK}


@dataclass(frozen=True)
class Variable:
    """A variable as the Dockerfile or the start script sets it."""

    value: str
    source: Source
    line: int | None
    exported: bool = True
    """False for an ARG or a script's bare ``NAME=value``: the server does not see it."""


@dataclass(frozen=True)
class Expansion:
    """One ``$NAME`` of the start command, and what it is at run time."""

    name: str
    value: str | None
    """None when it cannot be told (an ARG, a name never set, ``$(…)``)."""
    source: Source
    line: int | None
    """The line that sets it."""

    def describe(self) -> str:
        if self.source == "shell":
            return f"`{self.name}` is known only to the shell when the container runs"
        if self.source == "ARG":
            return (
                f"`${self.name}` is an ARG (line {self.line}): build time only, unset at run time"
            )
        where = f" ({self.source}, line {self.line})" if self.line else ""
        if self.value is not None:
            return f"`${self.name}` is `{self.value}`{where}"
        return f"`${self.name}` is not set in the Dockerfile"


@dataclass(frozen=True)
class EffectiveCommand:
    """What the runtime executes: the final image's Entrypoint, then its Cmd."""

    argv: tuple[str, ...]
    """Shell forms as ``SHELL + [text]``; empty when the base image's own command runs."""
    lines: tuple[int, ...]
    """The Dockerfile line of each word of ``argv``."""
    entrypoint_line: int | None
    cmd_line: int | None
    """None when no CMD is in effect (never set, or cleared by a later ENTRYPOINT)."""
    cmd_ignored: bool
    """A shell-form ENTRYPOINT: CMD only becomes ``$0 …`` of its script."""
    env: Mapping[str, Variable]
    """The image's ENV (expanded at build time): the command's environment."""
    build_args: Mapping[str, Variable]
    """The final stage's ARG values: seen by the build, gone when the container runs."""


@dataclass(frozen=True)
class ListenAddress:
    """Where the container's server listens, as far as the Dockerfile tells."""

    host: str | None
    port: int | None
    server: str | None
    """``uvicorn``, ``gunicorn``, ``fastapi run`` …, or the program it does not know."""
    reach: Reach
    source_line: int | None
    """The line that sets the address, or names the server when a default applies."""
    certain: bool
    reason: str
    """What listens where, and why, in a sentence or two for the learner."""
    expansions: tuple[Expansion, ...] = ()
    invalid_part: Literal["host", "port", ""] = ""
    """For :attr:`Reach.INVALID`: which of the two the server cannot use."""

    def host_fix(self, port: int) -> str:
        """The option that makes this server listen on every IPv4 interface, in its syntax."""
        if _server_program(self.server) in _BIND_SERVERS:
            return f"`--bind 0.0.0.0:{port}`"
        if self.server == "fastapi dev":
            return "`fastapi run` (it listens on 0.0.0.0; `fastapi dev` is for your own machine)"
        return "`--host 0.0.0.0`"

    def port_fix(self, port: int) -> str:
        """The option that makes this server listen on ``port``, in its syntax."""
        if _server_program(self.server) in _BIND_SERVERS:
            return f"`--bind 0.0.0.0:{port}`"
        return f"`--port {port}`"


# The servers whose address and port are one option: `-b/--bind HOST:PORT`.
_BIND_SERVERS = frozenset({"gunicorn", "hypercorn"})


def _server_program(server: str | None) -> str:
    return (server or "").split(" ", 1)[0]


_VARIABLE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_]\w*)(?:(?P<op>:?[-=])(?P<word>[^}]*))?\}|(?P<plain>[A-Za-z_]\w*))"
)


def _substitute(text: str, values: Mapping[str, Variable]) -> str:
    """The builder's expansion of an ENV or ARG value: unset names become empty."""

    def replace(match: re.Match[str]) -> str:
        found = values.get(match["braced"] or match["plain"])
        value = found.value if found else None
        if match["op"] and (value is None or (not value and match["op"][0] == ":")):
            return match["word"]
        return value or ""

    return _VARIABLE.sub(replace, text)


def effective_command(dockerfile: Dockerfile) -> EffectiveCommand:
    """Entrypoint + Cmd of the final image, with the ENV and ARG values in force there."""
    first_from = next(i.line for i in dockerfile.instructions if i.keyword == "FROM")
    global_args = {
        name: default
        for i in dockerfile.instructions
        if i.keyword == "ARG" and i.line < first_from
        for name, _, default in (word.partition("=") for word in i.words())
    }
    shell: list[str] = ["/bin/sh", "-c"]
    entrypoint: list[tuple[str, int]] = []
    cmd: list[tuple[str, int]] = []
    entry_exec, cmd_line, entry_line = True, None, None
    env: dict[str, Variable] = {}
    args: dict[str, Variable] = {}
    for stage in dockerfile.final_image_chain():
        # ARGs end with their stage; ENV, SHELL, CMD and ENTRYPOINT pass on to `FROM <stage>`.
        args, cmd_set_here = {}, False
        for instruction in (i for i in dockerfile.stage(stage) if i.line >= first_from):
            keyword, words, at = instruction.keyword, instruction.words(), instruction.line
            known = {**args, **env}
            if keyword == "ARG":
                for name, equals, default in (word.partition("=") for word in words):
                    value = _substitute(default, known) if equals else global_args.get(name, "")
                    args[name] = Variable(value, "ARG", at, exported=False)
            elif keyword == "ENV" and words and "=" not in words[0]:  # legacy `ENV NAME value`
                env[words[0]] = Variable(_substitute(" ".join(words[1:]), known), "ENV", at)
            elif keyword == "ENV":
                for name, _, value in (word.partition("=") for word in words):
                    env[name] = Variable(_substitute(value, known), "ENV", at)
            elif keyword == "SHELL" and instruction.is_exec_form:
                shell = words
            elif keyword in {"CMD", "ENTRYPOINT"}:
                argv = words if instruction.is_exec_form else [*shell, instruction.value]
                if keyword == "CMD":
                    cmd, cmd_line, cmd_set_here = [(w, at) for w in argv], at, True
                else:
                    entrypoint, entry_line = [(w, at) for w in argv], at
                    entry_exec = instruction.is_exec_form
                    if not cmd_set_here:
                        cmd, cmd_line = [], None
    pairs = entrypoint + cmd
    return EffectiveCommand(
        argv=tuple(word for word, _ in pairs),
        lines=tuple(line for _, line in pairs),
        entrypoint_line=entry_line,
        cmd_line=cmd_line,
        cmd_ignored=bool(cmd and not entry_exec),
        env=env,
        build_args=args,
    )


class _Word(NamedTuple):
    text: str
    line: int
    expansions: tuple[Expansion, ...] = ()

    @property
    def unresolved(self) -> bool:
        return any(e.value is None for e in self.expansions)


_Scope = Mapping[str, Variable]


def _expand(token: str, scope: _Scope, line: int) -> _Word:
    """The shell's expansion at run time, where only ENV and the script's own values exist.
    (Quotes are gone by now: a single-quoted ``'$X'`` is expanded too, a rare miss.)"""
    found: list[Expansion] = []

    def replace(match: re.Match[str]) -> str:
        name, op = match["braced"] or match["plain"], match["op"]
        variable = scope.get(name)
        if (
            variable is not None
            and variable.source in {"ENV", "script"}
            and (variable.value or not (op and op[0] == ":"))  # `:-` takes "" as unset
        ):
            found.append(Expansion(name, variable.value, variable.source, variable.line))
            return variable.value
        if op:
            found.append(Expansion(name, match["word"], "default", line))
            return match["word"]
        source: Source = variable.source if variable else "unset"
        found.append(Expansion(name, None, source, variable.line if variable else None))
        return ""

    text = _VARIABLE.sub(replace, token)
    if "$" in _VARIABLE.sub("", token) or "`" in token:
        found.append(Expansion(token, None, "shell", None))  # `$(…)`, `$1`, `${#X}`
    if any(e.value is None for e in found):
        text = token
    return _Word(text, line, tuple(found))


_SEPARATORS = frozenset({"&&", "||", ";", "|", "&", "(", ")", ";;"})
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh"})
_ASSIGNMENT = re.compile(r"[A-Za-z_]\w*=")


def _simple_commands(script: str) -> list[list[str]]:
    """The words of each simple command of a ``sh -c`` script; ValueError if it does not
    parse. ``$(`` is split apart by the lexer: a word ending in ``$`` is unresolvable."""
    lexer = shlex.shlex(script.replace("\n", ";"), posix=True, punctuation_chars=True)
    lexer.whitespace_split, lexer.commenters = True, ""
    commands: list[list[str]] = [[]]
    redirect = False
    for token in list(lexer):
        if redirect:
            redirect = False  # the target of `>`, `<`, `2>&`
        elif token in _SEPARATORS:
            commands.append([])
        elif token.startswith(("<", ">")):
            redirect = True
        else:
            commands[-1].append(token)
    return [command for command in commands if command]


def _unwrap(words: list[_Word], scope: _Scope, *, in_shell: bool) -> tuple[list[_Word], _Scope]:
    """Drop what only launches the program: ``exec``, a shell's ``NAME=value`` prefixes,
    ``env``, ``tini``, ``dumb-init`` (with their options), ``uv``/``poetry``/``pipenv run``."""
    scope = dict(scope)
    while words:
        first, program = words[0], posixpath.basename(words[0].text)
        if in_shell and (first.text == "exec" or _ASSIGNMENT.match(first.text)):
            words = words[1:]
        elif program in {"env", "tini", "dumb-init"}:
            words = words[1:]
            while words and (words[0].text.startswith("-") or _ASSIGNMENT.match(words[0].text)):
                first, words = words[0], words[1:]
                if _ASSIGNMENT.match(first.text):
                    scope[first.text.split("=")[0]] = _assigned(first, exported=True)
            continue
        elif program in {"uv", "poetry", "pipenv"} and len(words) > 1 and words[1].text == "run":
            words = words[2:]
            while words and words[0].text.startswith("-"):
                words = words[1:]
        else:
            return words, scope
        if _ASSIGNMENT.match(first.text):  # `HOST=0.0.0.0 uvicorn …`: in uvicorn's environment
            scope[first.text.split("=")[0]] = _assigned(first, exported=True)
    return words, scope


def _assigned(word: _Word, *, exported: bool) -> Variable:
    value = word.text.partition("=")[2]
    return Variable(value, "unset" if word.unresolved else "script", word.line, exported)


def _script_of(words: list[_Word]) -> _Word | None:
    """SCRIPT of ``sh -c SCRIPT`` (``bash -lc``, ``sh -e -c`` …); later words are ``$0 …``."""
    has_c, rest = False, words[1:]
    while rest and rest[0].text.startswith(("-", "+")) and rest[0].text != "--":
        has_c = has_c or "c" in rest[0].text[1:]
        rest = rest[2:] if rest[0].text in {"-o", "+o"} else rest[1:]
    return rest[0] if has_c and rest else None


def listen_address(dockerfile: Dockerfile) -> ListenAddress:
    """Where the final image's server listens; UNKNOWN when the Dockerfile cannot tell."""
    command = effective_command(dockerfile)
    if not command.argv:
        return _unknown(None, None, "The image sets no CMD or ENTRYPOINT: the base image's runs.")
    words = [_Word(text, line) for text, line in zip(command.argv, command.lines, strict=True)]
    return _judge(words, {**command.build_args, **command.env}, in_shell=False)


def _unknown(server: str | None, line: int | None, reason: str, *why: Expansion) -> ListenAddress:
    return ListenAddress(None, None, server, Reach.UNKNOWN, line, False, reason, why)


def _judge(words: list[_Word], scope: _Scope, *, in_shell: bool) -> ListenAddress:
    words, scope = _unwrap(words, scope, in_shell=in_shell)
    if not words:
        return _unknown(None, None, "The start command runs no program.")
    script = _script_of(words) if posixpath.basename(words[0].text) in _SHELLS else None
    if script is not None:
        return _judge_script(script, scope)
    server, rest = _program(words)
    if server not in _SERVERS:
        shown = shlex.join(w.text for w in words[:3])
        return _unknown(
            server,
            words[0].line,
            f"`{shown}` is not a server this check knows: it picks its own address, so only "
            "running it tells where it listens.",
        )
    return _SERVERS[server](server, words[0], rest, scope)


def _judge_script(script: _Word, scope: _Scope) -> ListenAddress:
    try:
        commands = _simple_commands(script.text)
    except ValueError:
        return _unknown(None, script.line, "The shell command does not parse (an open quote?).")
    scope, last = dict(scope), None
    for raw in commands:
        words = [_expand(token, scope, script.line) for token in raw]
        # An unquoted expansion that comes out empty is no word at all.
        words = [
            w for w, token in zip(words, raw, strict=True) if w.text or not token.startswith("$")
        ]
        export = bool(words) and words[0].text in {"export", "readonly"}
        if words and all(_ASSIGNMENT.match(w.text) for w in words[export:]):
            for word in words[export:]:
                scope[word.text.split("=")[0]] = _assigned(word, exported=export)
        elif words:
            last = _judge(words, scope, in_shell=True)
            if last.server in _SERVER_NAMES:
                return last  # what runs before the server (migrations, cd) does not listen
    return last or _unknown(None, script.line, "The shell command starts no program.")


def _program(words: list[_Word]) -> tuple[str, list[_Word]]:
    """The program's name (``python -m X`` is X, ``fastapi run`` is one) and its arguments."""
    name, rest = posixpath.basename(words[0].text), words[1:]
    if re.fullmatch(r"python[\d.]*", name):
        for index, word in enumerate(rest):
            if word.text == "-m" and index + 1 < len(rest):
                return _program(rest[index + 1 :])
            if word.text.startswith("-m") and len(word.text) > 2:
                return _program([word._replace(text=word.text[2:]), *rest[index + 1 :]])
            if not word.text.startswith("-") or word.text == "-c":
                break  # `python app.py`, `python -c CODE`: the app picks its own address
    sub = next((w for w in rest if not w.text.startswith("-")), None)
    if name == "fastapi" and sub is not None and sub.text in {"run", "dev"}:
        return f"fastapi {sub.text}", [w for w in rest if w is not sub]
    return name, rest


def _values(words: list[_Word], long: str, short: str = "") -> list[_Word]:
    """Each value given as ``--long X``, ``--long=X``, ``-s X`` or ``-sX``, in order."""
    found = []
    for index, word in enumerate(words):
        if word.text in {long, short} and index + 1 < len(words):
            found.append(words[index + 1])
        elif word.text.startswith(long + "="):
            found.append(word._replace(text=word.text.split("=", 1)[1]))
        elif short and word.text.startswith(short) and word.text[:2] != "--" and word.text[2:]:
            found.append(word._replace(text=word.text[2:]))
    return found


def _env(scope: _Scope, name: str) -> _Word | None:
    """A variable in the server's environment, as a word from the line that sets it."""
    found = scope.get(name)
    if found is None or found.source not in {"ENV", "script"} or not found.exported:
        return None
    line = found.line or 0
    return _Word(found.value, line, (Expansion(name, found.value, found.source, line),))


def _reach(host: str, unspecified_v6: Reach) -> Reach:
    if host in {"", "0.0.0.0"}:
        return Reach.ALL_IPV4
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if host.lower() == "localhost":
            return Reach.LOOPBACK
        # uvicorn looks `[::]` up as a name: "Name or service not known" (measured).
        return (
            Reach.INVALID if host[:1] == "-" or any(c in host for c in "[]/ ") else Reach.SPECIFIC
        )
    if address.is_unspecified:
        return unspecified_v6 if address.version == 6 else Reach.ALL_IPV4
    return Reach.LOOPBACK if address.is_loopback else Reach.SPECIFIC


_MEANS = {
    Reach.ALL_IPV4: "every IPv4 interface, which Docker's published ports reach",
    Reach.DUAL_STACK: "IPv6 and, on the same socket, IPv4",
    Reach.IPV6_ONLY: "IPv6 only, and Docker publishes ports over IPv4, so they get no answer",
    Reach.LOOPBACK: "the loopback interface, so only the container itself can connect",
    Reach.SPECIFIC: "that one address, reachable from outside only if it is the container's",
}


def _address(
    server: str,
    program: _Word,
    host: _Word | None,
    port: _Word | None,
    *,
    default_host: str = "127.0.0.1",
    unspecified_v6: Reach = Reach.DUAL_STACK,
    socket_note: str = "",
    doubt: str = "",
) -> ListenAddress:
    """Judge a TCP address from the words that set it (None: the server's default)."""
    given = [w for w in (host, port) if w is not None]
    why = tuple(dict.fromkeys(e for w in given for e in w.expansions))
    for word in given:
        if word.unresolved:
            said = "; ".join(e.describe() for e in word.expansions if e.value is None)
            return _unknown(
                server, word.line, f"Where {server} listens is not known: {said}.", *why
            )
        if "$" in word.text or not (word is host or word.text.isdigit()):
            reason = (
                f"{server} gets `{word.text}` as it is (line {word.line}): the exec form runs no "
                "shell to replace variables, so the server cannot start."
                if "$" in word.text
                else f"{server} cannot read `{word.text}` as a port number, so it exits at start."
            )
            reason += "".join(f" {e.describe()}." for e in why)
            part: Literal["host", "port"] = "host" if word is host else "port"
            return ListenAddress(
                None, None, server, Reach.INVALID, word.line, True, reason, why, part
            )
    host_text = host.text if host else default_host
    number = int(port.text) if port else SERVER_DEFAULT_PORT
    reach = _reach(host_text, unspecified_v6)
    origin = f"line {host.line}" if host else f"{server}'s default host"
    if reach is Reach.INVALID:
        reason = f"{server} cannot bind `{host_text}` ({origin}), so it exits at start."
    else:
        shown = f"[{host_text}]" if ":" in host_text else host_text or "0.0.0.0"
        reason = f"{server} listens on {shown}:{number} ({origin}): {_MEANS[reach]}"
        reason += f" ({socket_note})." if reach in {Reach.DUAL_STACK, Reach.IPV6_ONLY} else "."
    reason += "".join(f" {e.describe()}." for e in why) + doubt
    # A host name, or a socket that relies on the kernel's IPV6_V6ONLY default: likely only.
    certain = not doubt and reach is not Reach.DUAL_STACK
    certain = certain and (reach is not Reach.SPECIFIC or _is_ip(host_text))
    line = (host or port or program).line
    return ListenAddress(host_text, number, server, reach, line, certain, reason, why)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _uvicorn(server: str, program: _Word, rest: list[_Word], scope: _Scope) -> ListenAddress:
    """uvicorn, and fastapi-cli, which runs ``uvicorn.run`` (and reads no variables)."""
    cli = server.startswith("fastapi")

    def setting(option: str) -> _Word | None:
        given = _values(rest, f"--{option}")
        # uvicorn's click command reads UVICORN_<OPTION> for an option not given.
        return given[-1] if given else (None if cli else _env(scope, f"UVICORN_{option.upper()}"))

    if (uds := setting("uds")) is not None:
        reason = f"{server} listens on the unix socket `{uds.text}`: no TCP port to publish."
        return ListenAddress(
            None, None, server, Reach.UNIX_SOCKET, uds.line, not uds.unresolved, reason
        )
    if (fd := setting("fd")) is not None:
        return _unknown(server, fd.line, f"{server} serves a socket it is handed (`--fd`).")
    texts = {w.text for w in rest}
    reload = "--reload" in texts or (server == "fastapi dev" and "--no-reload" not in texts)
    flag = None if cli else _env(scope, "UVICORN_RELOAD")
    reload = reload or (flag is not None and flag.text.lower() in {"1", "true", "yes", "on"})
    workers = setting("workers") or (None if cli else _env(scope, "WEB_CONCURRENCY"))
    several = reload or (workers is not None and workers.text.isdigit() and int(workers.text) > 1)
    return _address(
        server,
        program,
        setting("host"),
        setting("port"),
        default_host="0.0.0.0" if server == "fastapi run" else "127.0.0.1",
        unspecified_v6=Reach.DUAL_STACK if several else Reach.IPV6_ONLY,
        socket_note="with workers or reload, uvicorn binds a plain socket, IPV6_V6ONLY off"
        if several
        else "one uvicorn process binds through asyncio, which sets IPV6_V6ONLY",
    )


def _one_bind(server: str, program: _Word, bind: _Word, doubt: str) -> ListenAddress:
    """One ``--bind``, split the way each server splits it (gunicorn ``parse_address``,
    hypercorn ``_create_sockets``); ``:8000`` leaves the host empty, which is INADDR_ANY."""
    text = bind.text
    if not bind.unresolved and text.startswith(("unix:", "fd://")):
        reach = Reach.UNIX_SOCKET if text.startswith("unix:") else Reach.UNKNOWN
        reason = f"{server} binds `{text}` (line {bind.line}): no TCP port to publish."
        return ListenAddress(None, None, server, reach, bind.line, True, reason)
    if bind.unresolved:
        host, port = text, str(SERVER_DEFAULT_PORT)
    elif server.startswith("gunicorn"):
        text, host = text.removeprefix("tcp://"), text.removeprefix("tcp://")
        port = str(SERVER_DEFAULT_PORT)
        if "[" in text and "]" in text:
            host, port = text.split("]")[0][1:], [*text.split("]:"), port][1]
        elif ":" in text:
            host, port = [*text.split(":"), port][:2]
    else:
        text = text.replace("[", "").replace("]", "")
        host, _, port = text.rpartition(":")
        host, port = (host, port) if port.isdigit() else (text, str(SERVER_DEFAULT_PORT))
    note = f"{server.split()[0]} binds a plain socket, IPV6_V6ONLY off"
    words = bind._replace(text=host), bind._replace(text=port)
    return _address(server, program, *words, socket_note=note, doubt=doubt)


def _bound(server: str, program: _Word, rest: list[_Word], scope: _Scope) -> ListenAddress:
    """gunicorn and hypercorn: ``-b``/``--bind`` (repeatable), or a config file."""
    gunicorn = server == "gunicorn"
    binds, configs = _values(rest, "--bind", "-b"), _values(rest, "--config", "-c")
    if gunicorn and any("uvicorn" in w.text for w in _values(rest, "--worker-class", "-k")):
        server = "gunicorn (uvicorn workers)"
    if gunicorn and not binds and (cmd_args := _env(scope, "GUNICORN_CMD_ARGS")) is not None:
        words = [cmd_args._replace(text=t) for t in shlex.split(cmd_args.text)]
        binds, configs = _values(words, "--bind", "-b"), configs + _values(words, "--config", "-c")
    if not binds and configs:
        return _unknown(server, configs[-1].line, f"{server} reads its bind from a config file.")
    doubt = ""
    if not binds and gunicorn:
        doubt = " A gunicorn.conf.py in the working directory would override it with its `bind`."
        if (port := _env(scope, "PORT")) is not None:  # then gunicorn's default is 0.0.0.0:$PORT
            binds = [port._replace(text=f"0.0.0.0:{port.text}")]
    found = [_one_bind(server, program, bind, doubt) for bind in binds]
    found = found or [_address(server, program, None, None, doubt=doubt)]
    # Several binds: the one a published port reaches, if any, is what counts.
    return next((a for a in found if a.reach.published_port_answers), found[0])


_SERVERS: dict[str, Callable[[str, _Word, list[_Word], _Scope], ListenAddress]] = {
    "uvicorn": _uvicorn,
    "fastapi run": _uvicorn,
    "fastapi dev": _uvicorn,
    "gunicorn": _bound,
    "hypercorn": _bound,
}
_SERVER_NAMES = frozenset({*_SERVERS, "gunicorn (uvicorn workers)"})
