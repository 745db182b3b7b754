"""Where `--host NAME` leads: address, port, user, keys and the known_hosts file to check against.

Looked up in this order (the first that knows NAME wins):
1. the project's inventory, written by `recipe hosts up`;
2. `vagrant ssh-config NAME`, when vagrant is installed and the Vagrantfile defines NAME;
3. ~/.ssh/config, parsed with paramiko.SSHConfig;
4. NAME itself, read as `[user@]host[:port]`.

The user's ~/.ssh is only ever read. New host keys go to the tool's own known_hosts file.
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from generator import inventory
from generator.errors import UserError

KNOWN_HOSTS_ENV = "RECIPE_KNOWN_HOSTS"
VAGRANTFILE = "Vagrantfile"
_LITERAL = re.compile(r"(?:(?P<user>[^@\s]+)@)?(?P<host>\[[^\]]+\]|[^:\s@]+)(?::(?P<port>[0-9]+))?")


def tool_known_hosts() -> Path:
    """The tool's own known_hosts: $RECIPE_KNOWN_HOSTS, else $XDG_STATE_HOME/recipe/known_hosts."""
    if os.environ.get(KNOWN_HOSTS_ENV):
        return Path(os.environ[KNOWN_HOSTS_ENV])
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "recipe" / "known_hosts"


@dataclass(frozen=True)
class SSHTarget:
    name: str  # what the user wrote after --host
    hostname: str
    port: int
    user: str
    identities: tuple[str, ...] = ()
    known_hosts: Path = field(default_factory=tool_known_hosts)
    trust_user_known_hosts: bool = True  # also read (never write) ~/.ssh/known_hosts
    source: str = "address"  # inventory, vagrant, ssh-config or address
    netns: str = ""  # connect from inside this network namespace (the virtual nodes' switch)
    notes: tuple[str, ...] = ()  # things the user should know, e.g. an ignored setting

    @property
    def label(self) -> str:
        port = "" if self.port == 22 else f":{self.port}"
        return f"{self.user}@{self.hostname}{port}"


def resolve(name: str, identity: str | None = None, vagrant_dir: Path | None = None) -> SSHTarget:
    """Find NAME in the inventory, Vagrant, ~/.ssh/config, or read it as an address."""
    hosts = inventory.load()  # read once: names first, then addresses of the virtual nodes
    target = (
        _from_inventory(name, hosts)
        or _from_vagrant(name, vagrant_dir or Path.cwd())
        or _from_ssh_config(name)
    )
    if target is None:
        target = _from_address(name, hosts)
    if identity:
        path = Path(identity).expanduser()
        if not path.is_file():
            raise UserError(f"--identity {identity}: no such key file")
        target = _replace(target, identities=(str(path), *target.identities))
    return target


def _replace(target: SSHTarget, **changes: object) -> SSHTarget:
    from dataclasses import replace

    return replace(target, **changes)  # type: ignore[arg-type]


def _from_inventory(name: str, hosts: dict[str, inventory.HostEntry]) -> SSHTarget | None:
    entry = hosts.get(name)
    if entry is None:
        return None
    return SSHTarget(
        name=name,
        hostname=entry.address,
        port=entry.port,
        user=entry.user,
        identities=(entry.identity,) if entry.identity else (),
        known_hosts=Path(entry.known_hosts) if entry.known_hosts else tool_known_hosts(),
        # The inventory's known_hosts is authoritative: an old VM's key for the same address in
        # ~/.ssh/known_hosts must not make the tool's own nodes look "changed".
        trust_user_known_hosts=False,
        source="inventory",
        netns=entry.netns,
    )


def vagrant_defines(name: str, directory: Path) -> bool:
    """Whether the Vagrantfile here names machine NAME (a cheap look before running vagrant)."""
    path = directory / VAGRANTFILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return False
    return re.search(r"""["':]""" + re.escape(name) + r"""["'\s,]""", text) is not None


def _from_vagrant(name: str, directory: Path) -> SSHTarget | None:
    if shutil.which("vagrant") is None or not vagrant_defines(name, directory):
        return None
    done = subprocess.run(
        ["vagrant", "ssh-config", name], cwd=directory, capture_output=True, text=True,
        timeout=120, check=False,
    )
    if done.returncode != 0:
        reason = " ".join(done.stderr.strip().split("\n\n")[0].split()) or "no output"
        raise UserError(
            f"the Vagrantfile defines {name}, but `vagrant ssh-config {name}` failed: {reason} "
            f"(is it running? `vagrant up {name}`)"
        )
    return from_ssh_config_text(name, done.stdout, source="vagrant")


def from_ssh_config_text(name: str, text: str, source: str) -> SSHTarget:
    """A target from ssh_config text, such as what `vagrant ssh-config` prints."""
    import paramiko

    found = paramiko.SSHConfig.from_text(text).lookup(name)
    notes = []
    if found.get("stricthostkeychecking", "").lower() == "no" or found.get(
        "userknownhostsfile", ""
    ) == "/dev/null":
        notes.append(
            f"{source} says StrictHostKeyChecking no; recipe still checks the host key "
            f"(accept-new into {tool_known_hosts()})"
        )
    return SSHTarget(
        name=name,
        hostname=found.get("hostname", name),
        port=int(found.get("port", 22)),
        user=found.get("user", getpass.getuser()),
        identities=tuple(str(Path(p).expanduser()) for p in found.get("identityfile", [])),
        source=source,
        notes=tuple(notes),
    )


def _from_ssh_config(name: str) -> SSHTarget | None:
    path = Path.home() / ".ssh" / "config"
    if not path.is_file() or not _LITERAL.fullmatch(name) or "@" in name or ":" in name:
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    import paramiko

    config = paramiko.SSHConfig.from_text(text)
    patterns = {p for p in config.get_hostnames() if p != "*"}
    if not any(_matches(name, pattern) for pattern in patterns):
        return None
    return from_ssh_config_text(name, text, source="ssh-config")


def _matches(name: str, pattern: str) -> bool:
    import fnmatch

    return not pattern.startswith("!") and fnmatch.fnmatch(name, pattern)


def _from_address(name: str, hosts: dict[str, inventory.HostEntry]) -> SSHTarget:
    found = _LITERAL.fullmatch(name.strip())
    if not found:
        raise UserError(
            f"--host {name!r}: not in the inventory, Vagrant or ~/.ssh/config, and not of the "
            "form [user@]host[:port]"
        )
    port = int(found.group("port") or 22)
    if not 1 <= port <= 65535:
        raise UserError(f"--host {name!r}: port {port} is out of range")
    hostname = found.group("host").strip("[]")
    return SSHTarget(
        name=name,
        hostname=hostname,
        port=port,
        user=found.group("user") or getpass.getuser(),
        # A virtual node named by its address is reached, as by its name, from its switch: this
        # machine has no route there, and a packet sent without one would leave the machine.
        netns=next((e.netns for e in hosts.values() if e.address == hostname), ""),
    )
