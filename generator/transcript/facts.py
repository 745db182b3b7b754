"""Who and what ran a lab, as a transcript header records it: host name, user, kernel,
distribution and the versions of iproute2, Docker, busybox and iptables.

The facts are gathered with one command through whatever session runs the lab; this module only
writes that command and reads its output, so reading a transcript never loads a transport.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class HostFacts:
    """Who and what ran a lab: the transcript header records these."""

    host: str = ""
    user: str = ""
    kernel: str = ""
    distribution: str = ""
    iproute2: str = ""
    docker: str = ""
    busybox: str = ""
    iptables: str = ""  # with its back end: "iptables v1.8.11 (nf_tables)" or "(legacy)"

    @property
    def stack(self) -> str:
        """The stack the facts name: `debian-13` for "Debian GNU/Linux 13 (trixie)"; "" when
        the distribution names no release."""
        found = re.match(r"([A-Za-z]+)\D*?(\d+(?:\.\d+)?)", self.distribution)
        return f"{found.group(1).lower()}-{found.group(2)}" if found else ""

    def as_pairs(self) -> list[tuple[str, str]]:
        return [(name, getattr(self, name)) for name in FACT_NAMES]


FACT_NAMES = (
    "host",
    "user",
    "kernel",
    "distribution",
    "iproute2",
    "docker",
    "busybox",
    "iptables",
)

# One command gathers every fact, so it costs one round trip on any transport. Each line is
# `name=value`; a missing tool yields an empty value, never an error.
FACTS_COMMAND = r"""
echo "host=$(hostname 2>/dev/null)"
echo "user=$(id -un 2>/dev/null)"
echo "kernel=$(uname -r 2>/dev/null)"
echo "distribution=$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
echo "iproute2=$(ip -V 2>/dev/null | head -n1)"
echo "docker=$(docker version --format '{{.Server.Version}}' 2>/dev/null || true)"
echo "busybox=$(busybox 2>/dev/null | head -n1)"
echo "iptables=$(iptables -V 2>/dev/null | head -n1)"
""".strip()


def parse_facts(output: str) -> HostFacts:
    values: dict[str, str] = {}
    for line in output.splitlines():
        name, sep, value = line.partition("=")
        if sep and name in FACT_NAMES:
            values[name] = value.strip()
    return HostFacts(**values)


def gather(output_of: Callable[[str], str]) -> HostFacts:
    """The facts of the host behind `output_of` (a shell's stdout-of-a-command)."""
    return parse_facts(output_of(FACTS_COMMAND))
