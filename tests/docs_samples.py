"""A small transcript in the real format, written by the real writer, for the docs tests.

It holds what a page must cope with: a plain step, an expected failure, an interactive step,
output with backticks and markup, a failed step, and a teardown.
"""

from __future__ import annotations

from pathlib import Path

from generator.transcript import Header, Outcome, StepRecord, Transcript, format_transcript
from generator.transcript.expectation import Expectation
from generator.transcript.facts import HostFacts

FACTS = HostFacts(
    host="labhost",
    user="root",
    kernel="6.1.0-28-amd64",
    distribution="Debian GNU/Linux 12 (bookworm)",
    iproute2="ip utility, iproute2-6.1.0, libbpf 1.1.0",
    docker="20.10.24+dfsg1",
    busybox="BusyBox v1.35.0 (Debian 1:1.35.0-4+b3) multi-call binary.",
)

PING_OUT = (
    "PING 192.168.88.2 (192.168.88.2) 56(84) bytes of data.\n"
    "64 bytes from 192.168.88.2: icmp_seq=1 ttl=64 time=0.051 ms\n"
    "\n--- 192.168.88.2 ping statistics ---\n"
    "1 packets transmitted, 1 received, 0% packet loss, time 0ms\n"
    "rtt min/avg/max/mdev = 0.051/0.051/0.051/0.000 ms\n"
)


def steps() -> tuple[StepRecord, ...]:
    return (
        StepRecord(
            1,
            "main",
            "ip netns add test1",
            Expectation(),
            0,
            0.01,
            "ok",
            explanation="Create a namespace.\nIt starts empty.",
        ),
        StepRecord(
            2,
            "main",
            "ip link show dev veth-test1",
            Expectation(output=("veth-test1",)),
            0,
            0.02,
            "ok",
            stdout="9: veth-test1@if8: <BROADCAST,MULTICAST> mtu 1500 qdisc noop\n"
            "    link/ether 6a:1f:0c:3e:9d:01 brd ff:ff:ff:ff:ff:ff\n",
            explanation="Look at one end of the pair.",
        ),
        StepRecord(
            3,
            "main",
            "ip netns exec test1 \\\n  ping -c 1 192.168.88.2",
            Expectation(output=(" 0% packet loss",)),
            0,
            0.05,
            "ok",
            stdout=PING_OUT,
            explanation="Ping across.",
        ),
        StepRecord(
            4,
            "main",
            "telnet 127.0.0.1 9",
            Expectation(exit="nonzero"),
            1,
            0.01,
            "expected-failure",
            stderr="telnet: Unable to connect to remote host: Connection refused\n",
            explanation="Nothing listens on port 9.",
        ),
        StepRecord(
            5,
            "main",
            "ping test1",
            Expectation(exit=0),
            0,
            1.2,
            "ok",
            stdout="/ # ping -c 1 test1\nPING test1 (172.18.0.2): 56 data bytes\n"
            "64 bytes from 172.18.0.2: seq=0 ttl=64 time=0.090 ms\n/ # exit\n",
            interactive="docker exec -it test3 /bin/sh",
            explanation="Enter test3 and ping test1 by name.",
        ),
        StepRecord(
            6,
            "main",
            "printf '```<b>|x|</b>'",
            Expectation(),
            0,
            0.0,
            "ok",
            stdout="```<b>|x|</b>",
            explanation="Output with `backticks` and <markup>.",
        ),
        StepRecord(
            7,
            "main",
            "grep test1 /etc/hosts",
            Expectation(output=("test1",)),
            1,
            0.0,
            "FAIL",
            problems=("output lacks 'test1'",),
            explanation="A step that failed.",
        ),
        StepRecord(
            8,
            "teardown",
            "ip netns delete test1 2>/dev/null",
            Expectation(exit="any"),
            0,
            0.01,
            "ok",
        ),
    )


def transcript(path: Path, recipe: str | None = "veth-pair", complete: bool = True) -> Path:
    header = Header(
        recipe=recipe,
        params={"ns1": "test1", "count": "1"} if recipe else {},
        script_sha256="0" * 64,
        source="recipes/veth-pair/lab.sh.j2" if recipe else "/tmp/lab.sh",
        target="local",
        facts=FACTS,
        started="2026-11-29T04:00:00Z",
        recorder="recipe 0.1.0",
    )
    outcome = Outcome("failed", True, "2026-11-29T04:00:02Z", 1.5) if complete else None
    path.write_text(format_transcript(Transcript(header, steps(), outcome)), encoding="utf-8")
    return path
