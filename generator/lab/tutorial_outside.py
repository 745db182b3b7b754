"""Which of a tutorial's commands would send a packet or a DNS query off this machine.

The rule (docs/tutorials.md): a command runs only when every destination it names lies inside
the lab. A public name (`example.com`), a public address, a package manager or `docker pull` is
skipped before it runs. A private address is checked when the step comes, against the routes of
that moment (tutorial_run.py); a name is inside when the tutorial itself created it (a container's
`--name`, `--hostname`, `--network-alias`, a `--link` alias) or it is localhost.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Iterable
from functools import lru_cache

from generator.tutorial.console import shell_words

_FETCHERS = {
    "apk": {"add", "update", "upgrade", "fetch"},
    "apt": {"install", "update", "upgrade", "download"},
    "apt-get": {"install", "update", "upgrade", "download", "source"},
    "yum": {"install", "update", "upgrade"},
    "dnf": {"install", "update", "upgrade"},
    "pip": {"install", "download"},
    "pip3": {"install", "download"},
    "npm": {"install", "i", "ci"},
    "git": {"clone", "pull", "fetch", "push"},
    "docker": {"pull", "push", "login", "search", "build", "compose", "plugin", "stack"},
    "podman": {"pull", "push", "login", "search", "build"},
    "docker-compose": {"up", "pull", "build", "run", "create"},
}
# Options of each probe whose next word is a value, not a destination.
_PING = "-c -W -w -i -I -s -t -l -p -Q -S -M -m -F -T"
_VALUE_OPTIONS: dict[str, frozenset[str]] = {
    program: frozenset(options.split())
    for programs, options in (
        ("ping ping6 arping", _PING),
        ("traceroute traceroute6 tracepath mtr", "-m -f -q -w -p -i -s -g -z -N -t -c"),
        ("nc ncat netcat", "-p -s -w -i -q -x -X -e -c"),
        ("telnet", "-l -b -e -n"),
        (
            "curl",
            "-o -H -X -d -u -A -x -e -m -T -F -b -c -K --data --header --output "
            "--user-agent --interface --connect-timeout --max-time --resolve --proxy",
        ),
        ("wget", "-O -o -U -t -T -P -e --header --output-document --user-agent"),
        ("dig host nslookup", "-p -b -t -c -q -y -k -W -R"),
        ("ssh scp", "-p -P -i -l -o -F -J -L -R -D -b -c -E -m -S -W -w"),
        ("http https", ""),
    )
    for program in programs.split()
}
# A command can send something out only if it names a probe or a fetcher (or --dns) somewhere:
# most of a page's commands are ruled out by this one search, without splitting them into words.
_MENTIONS = re.compile(
    r"(?<![\w-])(" + "|".join(map(re.escape, sorted({*_VALUE_OPTIONS, *_FETCHERS}))) + r")\b"
    r"|--dns|--net"
)
_PREFIXES = frozenset({"sudo", "time", "exec", "!", "env", "nohup", "command", "stdbuf"})
_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh"})
_NAME_OPTIONS = ("--name", "--hostname", "-h", "--network-alias", "--alias", "--link")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?$")


def lab_names(commands: Iterable[str]) -> frozenset[str]:
    """The names a tutorial gives its containers: they resolve inside the lab."""
    names = {"localhost", "ip6-localhost"}
    for command in commands:
        if not any(option in command for option in _NAME_OPTIONS):
            continue
        words = _words(command)
        for i, word in enumerate(words[:-1]):
            option, _, inline = word.partition("=")
            if option in _NAME_OPTIONS:
                value = inline or words[i + 1]
                names.update(part for part in value.split(":") if part)
    return frozenset(names)


def destinations(command: str) -> tuple[list[str], list[str]]:
    """(names, addresses) a command would send packets to; ([], []) when it names none."""
    names: list[str] = []
    addresses: list[str] = []
    if not _MENTIONS.search(command):
        return names, addresses
    for words in _simple_commands(command):
        program = words[0].rsplit("/", 1)[-1] if words else ""
        options = _VALUE_OPTIONS.get(program)
        if options is None:
            continue
        skip = False
        for word in words[1:]:
            if skip:
                skip = False
                continue
            if word.startswith("-"):
                skip = word in options
                continue
            host = _host_of(word)
            if host is None:
                continue
            (addresses if _is_address(host) else names).append(host)
    return names, addresses


def needs_internet(command: str, known: frozenset[str]) -> str | None:
    """Why the command is skipped before it runs, or None when it may run."""
    if not _MENTIONS.search(command):
        return None
    for words in _simple_commands(command):
        program = words[0].rsplit("/", 1)[-1] if words else ""
        verbs = _FETCHERS.get(program)
        if verbs and any(word in verbs for word in words[1:3]):
            return f"{program} {next(w for w in words[1:3] if w in verbs)} needs the internet"
    for words in _simple_commands(command):
        for i, word in enumerate(words[:-1]):
            option, _, inline = word.partition("=")
            value = inline or words[i + 1]
            if option == "--dns" and _is_address(value) and ipaddress.ip_address(value).is_global:
                return f"--dns {value} sends the container's name lookups off this machine"
            if option == "--pull" and value == "always" and words[0] == "docker":
                return "--pull always asks a registry"
            if option == "--platform" and words[0] == "docker":
                return f"--platform {value} asks a registry for that platform's image"
            if option in ("--network", "--net") and value == "host" and words[0] == "docker":
                return "a container on the host's network is beyond the egress guard"
    names, addresses = destinations(command)
    for name in names:
        if name not in known:
            return f"{name} is not a name in the lab"
    for address in addresses:
        if ipaddress.ip_address(address).is_global:
            return f"{address} is a public address"
    return None


def _host_of(word: str) -> str | None:
    """The host in a destination word: `10.0.0.2`, `web:80`, `http://web/x`, `user@host`."""
    word = re.sub(r"^[a-z][a-z0-9+.-]*://", "", word).split("/", 1)[0]
    word = word.rsplit("@", 1)[-1]
    if word.startswith("[") and "]" in word:
        word = word[1 : word.index("]")]
    elif word.count(":") == 1:
        word = word.split(":", 1)[0]
    if _is_address(word):
        return word
    if word.isdigit() or not _HOSTNAME.match(word):
        return None  # a count, a port, a file name with a slash: no destination
    return word


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _words(command: str) -> list[str]:
    split = shell_words(command)
    return list(split) if split is not None else command.split()


def _simple_commands(command: str, depth: int = 0) -> list[list[str]]:
    return [list(words) for words in _simple_cached(command, depth)]


@lru_cache(maxsize=4096)  # a command is read at load and again when its step comes
def _simple_cached(command: str, depth: int) -> tuple[tuple[str, ...], ...]:
    """The command's simple commands, split at `;`, `&&`, `||`, `|` and newlines, with what a
    wrapper runs taken out of it: `sudo`, `timeout 5`, `ip netns exec red`, `docker exec c`,
    `docker run image`, `sh -c '...'`, `... -- command`."""
    out = []
    for part in re.split(r"&&|\|\||[;|\n]", command):
        words = _words(part)
        while words:
            if words[0] in _PREFIXES or "=" in words[0]:
                words = words[1:]
            elif words[0] in ("timeout", "watch", "chroot") and len(words) > 2:
                words = [w for w in words[1:] if not w.startswith("-")][1:]
            else:
                break
        if not words:
            continue
        out.append(words)
        if depth < 3:
            out += _inner(words, depth + 1)
    return tuple(tuple(words) for words in out)


def _inner(words: list[str], depth: int) -> list[list[str]]:
    """The commands a wrapper runs in a namespace, a container or a shell."""
    program = words[0].rsplit("/", 1)[-1]
    if program in ("sh", "bash", "ash", "dash", "zsh") and "-c" in words[:-1]:
        return _simple_commands(words[words.index("-c") + 1], depth)
    if "--" in words[:-1]:
        return _simple_commands(shlex.join(words[words.index("--") + 1 :]), depth)
    if words[:3] == ["ip", "netns", "exec"] and len(words) > 4:
        return _simple_commands(shlex.join(words[4:]), depth)
    if program in ("docker", "podman", "nsenter", "unshare"):
        # The container's command starts at the first word a probe or a fetcher is named by.
        for i, word in enumerate(words[1:], start=1):
            name = word.rsplit("/", 1)[-1]
            if words[i - 1] in _NAME_OPTIONS:  # `--name ping` names a container
                continue
            if name in _VALUE_OPTIONS or name in _FETCHERS or name in _SHELLS:
                return _simple_commands(shlex.join(words[i:]), depth)
    return []
