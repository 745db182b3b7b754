"""Addresses in a range Docker picked, named by their place in it (`IP(my-net+2)`).

`docker network create NAME` without --subnet takes the next free range of Docker's pools, so
after other labs the same lab's network is 172.25.0.0/16 instead of 172.18.0.0/16, or
192.168.96.0/20 once the /16s are used. Every address a step prints in it moves with it. The
run's snapshot knows each lab-made network's range (state_names.Names.subnets), so an address
in one reads as the network and the offset, its prefix as the network's, and the broadcast as
such: the same on every run, and a container on another place still drifts.
"""

from __future__ import annotations

import ipaddress
import re

from generator.transcript.state_names import Names

# An IPv4 address, perhaps with a prefix, that is no part of a longer dotted run.
_IPV4 = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d{1,3}){3})(?:/(\d{1,2}))?(?!\.?\d)")


class DockerRanges:
    def __init__(self, subnets: dict[ipaddress.IPv4Network, str]) -> None:
        self.subnets = subnets

    def sub(self, text: str) -> str:
        return _IPV4.sub(self._named, text) if "." in text else text

    def _named(self, match: re.Match[str]) -> str:
        try:
            address = ipaddress.IPv4Address(match[1])
        except ValueError:
            return match.group()
        for network, name in self.subnets.items():
            if address in network:
                if address == network.broadcast_address:
                    found = f"IP({name} broadcast)"
                else:
                    found = f"IP({name}+{int(address) - int(network.network_address)})"
                if match[2] is not None:
                    same = int(match[2]) == network.prefixlen
                    found += f"/PREFIX({name})" if same else f"/{match[2]}"
                return found
        return match.group()


def docker_ranges(names: Names | None) -> DockerRanges | None:
    """The ranges to name by, or a falsy value when the run made no Docker network."""
    found: dict[ipaddress.IPv4Network, str] = {}
    for subnet, name in (names.subnets if names else {}).items():
        try:
            found[ipaddress.IPv4Network(subnet, strict=False)] = name
        except ValueError:
            continue
    return DockerRanges(found) if found else None
