"""The topology a recipe declares in topology.toml.j2: rendered to data, and described in words
for `recipe show` and the docs."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from generator.errors import UserError
from generator.recipes.jinja import render_template
from generator.recipes.params import ParamValue

TOPOLOGY = "topology.toml.j2"


def render_topology(directory: Path, values: Mapping[str, ParamValue]) -> dict[str, Any]:
    """Nodes, links, addresses and rules the lab in `directory` builds; {} without a topology."""
    if not (directory / TOPOLOGY).is_file():
        return {}
    text = render_template(directory, TOPOLOGY, dict(values))
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{directory / TOPOLOGY}: renders to invalid TOML: {exc}") from None


def describe(topology: Mapping[str, Any]) -> Iterator[str]:
    """One line per node, link, address and firewall rule."""
    for node in topology.get("nodes", []):
        extra = f" on {node['on']}" if node.get("on") else ""
        yield f"node     {node['name']} ({node.get('kind', 'host')}){extra}"
    for link in topology.get("links", []):
        yield f"link     {' <-> '.join(link.get('ends', []))} ({link.get('kind', 'link')})"
    for addr in topology.get("addresses", []):
        yield f"address  {addr['node']}:{addr['ifname']} {addr['address']}"
    for rule in topology.get("rules", []):
        yield f"rule     iptables -t {rule.get('table', 'filter')} {rule['rule']}"
