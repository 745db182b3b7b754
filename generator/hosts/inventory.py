"""The project's inventory: the hosts `recipe hosts up` made, with everything SSH needs to reach
them.

It is the first place `--host NAME` is looked up. A small TOML file, one table per host:

    [hosts.docker-node1]
    address = "192.168.205.10"
    user = "root"
    port = 22
    identity = "/var/lib/recipe/hosts/id_ed25519"
    known_hosts = "/var/lib/recipe/hosts/known_hosts"
    netns = "/run/recipe-hosts/switch.net"   # optional: connect from inside this namespace
    stack = "debian-13"                      # optional: a node of `recipe hosts up --stack`
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from generator import atomicfile
from generator.errors import UserError

STATE_ENV = "RECIPE_HOSTS_STATE"
DEFAULT_STATE = Path("/var/lib/recipe/hosts")


def state_dir() -> Path:
    """Where `recipe hosts` keeps keys, configs and the inventory; $RECIPE_HOSTS_STATE moves it."""
    return Path(os.environ.get(STATE_ENV) or DEFAULT_STATE)


def inventory_path() -> Path:
    return state_dir() / "inventory.toml"


@dataclass(frozen=True)
class HostEntry:
    name: str
    address: str
    user: str
    port: int
    identity: str
    known_hosts: str
    netns: str = ""  # where the host's network is: the virtual nodes' switch namespace
    stack: str = ""  # a node of `recipe hosts up --stack`: the stack it runs


def load(path: Path | None = None) -> dict[str, HostEntry]:
    """Every host in the inventory; a missing file is an empty inventory, a broken one an error."""
    path = path or inventory_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UserError(f"cannot read the host inventory {path}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text)
        return {
            name: HostEntry(
                name=name,
                address=str(table["address"]),
                user=str(table.get("user", "root")),
                port=int(table.get("port", 22)),
                identity=str(table.get("identity", "")),
                known_hosts=str(table.get("known_hosts", "")),
                netns=str(table.get("netns", "")),
                stack=str(table.get("stack", "")),
            )
            for name, table in data.get("hosts", {}).items()
        }
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UserError(
            f"host inventory {path} is damaged ({exc}); `recipe hosts up` rewrites it"
        ) from None


def write(entries: list[HostEntry], path: Path | None = None) -> None:
    """Replace the inventory atomically, so a reader never sees half a file."""
    path = path or inventory_path()
    lines = ["# Written by `recipe hosts up`; removed by `recipe hosts down`.", ""]
    for entry in entries:
        lines.append(f"[hosts.{json.dumps(entry.name)}]")
        lines.append(f"address = {json.dumps(entry.address)}")
        lines.append(f"user = {json.dumps(entry.user)}")
        lines.append(f"port = {entry.port}")
        lines.append(f"identity = {json.dumps(entry.identity)}")
        lines.append(f"known_hosts = {json.dumps(entry.known_hosts)}")
        if entry.netns:
            lines.append(f"netns = {json.dumps(entry.netns)}")
        if entry.stack:
            lines.append(f"stack = {json.dumps(entry.stack)}")
        lines.append("")
    atomicfile.write_text(path, "\n".join(lines))
