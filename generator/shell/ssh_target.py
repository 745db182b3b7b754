"""Where `--host NAME` leads: address, port, user, keys and the known_hosts file to check against.

Looked up in this order (the first that knows NAME wins):
1. the project's inventory, written by `recipe hosts up`;
2. `vagrant ssh-config NAME`, when vagrant is installed and the Vagrantfile defines NAME;
3. ~/.ssh/config, parsed with paramiko.SSHConfig;
4. NAME itself, read as `[user@]host[:port]`.

The user's ~/.ssh is only ever read. New host keys go to the tool's own known_hosts file.

Host-key checking, the first that says wins: the command line (--strict-host-key), then the
user's ~/.ssh/config for the host (`StrictHostKeyChecking yes` or `ask`: unknown keys are refused,
recipe asks nobody; `accept-new`, `no` or `off`: accept-new, since recipe always checks a known
key), then the default, accept-new. `UserKnownHostsFile` there replaces ~/.ssh/known_hosts as
the user's file(s) to read. Hosts from the inventory or Vagrant keep their own settings.
"""

from __future__ import annotations

import getpass
import os
import re
import shlex
import shutil
import stat
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import UserError
from generator.hosts import inventory

KNOWN_HOSTS_ENV = "RECIPE_KNOWN_HOSTS"
VAGRANTFILE = "Vagrantfile"
USER_KNOWN_HOSTS = "~/.ssh/known_hosts"
USER_CONFIG = "~/.ssh/config"
# What vagrant says when it has no provider to run any machine with: the Vagrantfile's machines
# cannot be running, so its advice (`vagrant up`) would lead nowhere.
_NO_PROVIDER = ("No usable default provider", "isn't usable on this system")
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
    # The user's known_hosts files, read only ("~" is the user's home at connect time); the
    # user's ~/.ssh/config `UserKnownHostsFile` replaces the default.
    user_known_hosts: tuple[str, ...] = (USER_KNOWN_HOSTS,)
    strict_by: str = ""  # why unknown keys are refused without --strict-host-key, e.g. the config

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
        refuse_stopped_virtual_node(name)
        target = _with_host_key_settings(_from_address(name, hosts))
    if identity:
        target = _replace(target, identities=(check_identity(identity), *target.identities))
    return target


def check_identity(identity: str, what: str = "--identity") -> str:
    """The key file's path, when only its owner can read it; else a UserError, as OpenSSH refuses
    a private key that others may read ("UNPROTECTED PRIVATE KEY FILE")."""
    path = Path(identity).expanduser()
    try:
        mode = path.stat().st_mode
    except OSError:
        mode = 0
    if not stat.S_ISREG(mode):
        raise UserError(f"{what} {identity}: no such key file")
    if mode & 0o077:
        raise UserError(
            f"{what} {identity}: UNPROTECTED PRIVATE KEY FILE: mode {stat.S_IMODE(mode):04o} lets "
            "other users read it, so it is not used; make it private: "
            f"chmod 600 {shlex.quote(str(path))}"
        )
    return str(path)


def _virtual_node_names() -> tuple[str, ...]:
    from generator.hosts.nodes import NODES  # the names `recipe hosts up` makes

    return tuple(node.name for node in NODES)


def _nodes_down(name: str) -> str:
    return (
        f"{name} is one of recipe's virtual nodes, and they are down: run `recipe hosts up` first"
    )


def refuse_stopped_virtual_node(name: str) -> None:
    """A virtual node's name outside the inventory means the nodes are down: read as an address,
    it would only end in a DNS error."""
    if name in _virtual_node_names():
        raise UserError(_nodes_down(name))


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
        ["vagrant", "ssh-config", name],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        # No version check with HashiCorp: looking a name up sends nothing off the machine.
        env={**os.environ, "VAGRANT_CHECKPOINT_DISABLE": "1"},
    )
    if done.returncode == 0:
        return from_ssh_config_text(name, done.stdout, source="vagrant")
    reason = " ".join(done.stderr.strip().split("\n\n")[0].split()) or "no output"
    own_node = name in _virtual_node_names()
    if any(text in done.stderr for text in _NO_PROVIDER):
        if own_node:
            return None  # no Vagrant machine can be running here: only recipe's nodes matter
        raise UserError(
            f"the Vagrantfile defines {name}, but vagrant cannot run machines here: {reason}"
        )
    if own_node:
        raise UserError(
            f"{_nodes_down(name)}; or, for the Vagrant machine of that name: `vagrant up {name}` "
            f"(`vagrant ssh-config {name}` said: {reason})"
        )
    raise UserError(
        f"the Vagrantfile defines {name}, but `vagrant ssh-config {name}` failed: {reason} "
        f"(is it running? `vagrant up {name}`)"
    )


def from_ssh_config_text(name: str, text: str, source: str) -> SSHTarget:
    """A target from ssh_config text, such as what `vagrant ssh-config` prints."""
    import paramiko

    found = paramiko.SSHConfig.from_text(text).lookup(name)
    notes = []
    if (
        found.get("stricthostkeychecking", "").lower() == "no"
        or found.get("userknownhostsfile", "") == "/dev/null"
    ):
        notes.append(
            f"{source} says StrictHostKeyChecking no; recipe still checks the host key "
            f"(accept-new into {tool_known_hosts()})"
        )
    target = SSHTarget(
        name=name,
        hostname=found.get("hostname", name),
        port=_port(found.get("port", "22"), name, source),
        user=found.get("user", getpass.getuser()),
        identities=_identities(found.get("identityfile", []), source),
        source=source,
        notes=tuple(notes),
    )
    if source == "ssh-config":
        return _host_key_settings(target, found)
    return target  # Vagrant's own settings turn checking off: recipe keeps its default


def _port(value: str, name: str, source: str) -> int:
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= 65535:
        raise UserError(f"{source} gives {name} port {value!r}; a port is 1 to 65535")
    return int(value)


def _identities(paths: str | list[str], source: str) -> tuple[str, ...]:
    """IdentityFile keys; each one that exists must be private to its owner (a missing one is
    skipped at connect time, as OpenSSH skips it)."""
    # paramiko gives a list for identityfile; its type says a value may also be one string.
    found = [Path(p).expanduser() for p in ([paths] if isinstance(paths, str) else paths)]
    return tuple(
        check_identity(str(p), f"IdentityFile in {source}") if p.exists() else str(p) for p in found
    )


def _host_key_settings(target: SSHTarget, found: Mapping[str, object]) -> SSHTarget:
    """StrictHostKeyChecking and UserKnownHostsFile from the user's ~/.ssh/config."""
    checking = str(found.get("stricthostkeychecking", "")).lower()
    changes: dict[str, object] = {}
    if checking in ("yes", "ask"):
        changes["strict_by"] = f"StrictHostKeyChecking {checking} in {USER_CONFIG}"
    files = str(found.get("userknownhostsfile", ""))
    if files:
        changes["user_known_hosts"] = _known_hosts_files(files, target)
    return _replace(target, **changes) if changes else target


def _known_hosts_files(value: str, target: SSHTarget) -> tuple[str, ...]:
    """UserKnownHostsFile's paths, with the tokens OpenSSH expands in them."""
    tokens = {
        "%%": "%",
        "%d": str(Path.home()),
        "%u": getpass.getuser(),
        "%h": target.hostname,
        "%n": target.name,
        "%p": str(target.port),
        "%r": target.user,
    }
    try:
        words = shlex.split(value)
    except ValueError:
        raise UserError(
            f"UserKnownHostsFile {value!r} in {USER_CONFIG}: unbalanced quotes"
        ) from None
    paths = []
    for word in words:
        unknown = sorted({t for t in re.findall(r"%.", word) if t not in tokens})
        if unknown:
            raise UserError(
                f"UserKnownHostsFile {word!r} in {USER_CONFIG}: recipe does not expand "
                f"{', '.join(unknown)}; write the path out"
            )
        paths.append(re.sub(r"%.", lambda m: tokens[m.group(0)], word))
    return tuple(paths)


def _user_config(name: str) -> dict[str, object]:
    """What ~/.ssh/config says for NAME (`Host *` included); {} without a readable file."""
    path = Path(USER_CONFIG).expanduser()
    if not path.is_file():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    import paramiko

    try:
        return dict(paramiko.SSHConfig.from_text(text).lookup(name))
    except Exception as exc:  # noqa: BLE001 - paramiko's parser raises several kinds
        raise UserError(f"{path}: cannot read it: {exc}; fix the file or remove the line") from None


def _with_host_key_settings(target: SSHTarget) -> SSHTarget:
    """An address still takes the user's host-key settings (`Host *` or a pattern such as
    `Host 10.*`), as `ssh ADDRESS` would."""
    return _host_key_settings(target, _user_config(target.hostname))


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
