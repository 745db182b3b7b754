"""The stacks: userlands a virtual node can run on this machine's kernel.

A stack is Docker, iproute2, iptables or nft and busybox as one Debian release ships them. Its
root is made once by mmdebstrap and cached (generator/hosts/stack_root.py); a node of the
stack runs its daemons and shells chrooted into an overlay of that root. The stack that is this
machine's own userland needs no root: its nodes run the host's programs, as docker-node1/2 do.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from generator.errors import UserError

CACHE_ENV = "RECIPE_STACK_CACHE"
DEFAULT_CACHE = Path("/var/cache/recipe/stacks")
MIRROR_ENV = "RECIPE_STACK_MIRROR"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
# Bump when generator/hosts/stack_root.py builds roots differently (its mmdebstrap options):
# every cached root is then rebuilt.
BUILD = 1
MAX_NODES = 9  # per stack: the port block and the names stay short

# What a node needs inside its root: the lab tools, the engine, the node's own daemons (sshd
# for the tool's shell, dnsmasq that knows no names), and what tutorials pipe output through
# (`| python3 -m json.tool`, `| jq`, `curl` to a container).
PACKAGES = (
    "bash",
    "bridge-utils",
    "busybox-static",
    "curl",
    "dnsmasq-base",
    "docker-cli",
    "docker.io",
    "iproute2",
    "iptables",
    "iputils-ping",
    "jq",
    "openssh-server",
    "procps",
    "python3",
    "tcpdump",
)


@dataclass(frozen=True)
class Stack:
    name: str  # the word on the command line: debian-13
    title: str  # what pages say: Debian 13
    suite: str  # the Debian suite mmdebstrap fetches: trixie
    version_id: str  # VERSION_ID in /etc/os-release

    @property
    def packages(self) -> tuple[str, ...]:
        return PACKAGES

    @property
    def stamp(self) -> str:
        """Changes whenever what the root is built from changes, so a stale root is rebuilt."""
        text = "\n".join([f"build {BUILD}", self.suite, mirror(), *self.packages])
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def is_host(self) -> bool:
        """True when this machine's own userland is this stack: its nodes need no root."""
        return host_release() == ("debian", self.version_id)


STACKS = {
    stack.name: stack
    for stack in (
        Stack("debian-12", "Debian 12", "bookworm", "12"),
        Stack("debian-13", "Debian 13", "trixie", "13"),
    )
}


def names() -> list[str]:
    return list(STACKS)


def get(name: str) -> Stack:
    """The stack of that name; anything else is one line naming the stacks there are."""
    try:
        return STACKS[name]
    except KeyError:
        raise UserError(
            f"unknown stack {name!r}; the stacks are {', '.join(STACKS)}", exit_code=2
        ) from None


def cache_dir() -> Path:
    """Where stack roots are kept; $RECIPE_STACK_CACHE moves it (tests use their own)."""
    path = Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE)
    return overlay_safe(path, CACHE_ENV)


def overlay_safe(path: Path, setting: str) -> Path:
    """PATH, if it can stand in an overlay's mount options: absolute, and free of the commas
    and colons that would add options or folders there."""
    if not path.is_absolute() or set(str(path)) & set(",:\n"):
        raise UserError(
            f"{setting}={str(path)!r} must be an absolute path without ',' or ':'; "
            "choose another folder",
            exit_code=2,
        )
    return path


# A mirror is one http(s) URL: no spaces, commas or brackets, so it is never read as an option
# or as a sources line (`deb [trusted=yes] ...` would turn off the signature check).
_MIRROR = re.compile(r"https?://[A-Za-z0-9._~%/+@:=-]+")


def mirror() -> str:
    value = os.environ.get(MIRROR_ENV) or DEFAULT_MIRROR
    if not _MIRROR.fullmatch(value):
        raise UserError(
            f"{MIRROR_ENV}={value!r} is not a mirror URL; give one like {DEFAULT_MIRROR}",
            exit_code=2,
        )
    return value


@cache
def host_release() -> tuple[str, str]:
    """(ID, VERSION_ID) of this machine's /etc/os-release."""
    values: dict[str, str] = {}
    try:
        text = Path("/etc/os-release").read_text(encoding="utf-8")
    except OSError:
        return ("", "")
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key] = value.strip().strip('"')
    return (values.get("ID", ""), values.get("VERSION_ID", ""))
