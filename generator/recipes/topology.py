"""The topology a recipe declares: what it builds, in words, for `recipe show` and the docs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


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
