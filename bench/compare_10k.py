"""Benchmark: compare a 10,000-step transcript with another run of it, with no execution.

The steps repeat a lab shaped like veth-pair and docker-bridge: many steps print nothing, some
print `ip link`/`ip addr` tables, ping runs and `docker network inspect` JSON. Every volatile
value (MACs, interface indexes, veth names, IDs, RTTs, timestamps) differs between the two
runs, so normalization does all its work, and the comparison must find no drift.

Target (issue 5): under 0.5 s. Prints the time and the ratio to the target, for the comparison
alone (both transcripts in memory) and end to end as `recipe diff` does it (reading and
normalizing both files, the second in a forked child when there are two cores), and end to end
with the two files one after the other, for reference.

    python bench/compare_10k.py [--steps N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator import transcript as tr
from generator.compare import sidebyside
from generator.compare.runs import CompareOptions, compare, compare_runs
from generator.transcript.expectation import Expectation
from generator.transcript.facts import HostFacts

TARGET = 0.5


def _mac(rng: random.Random) -> str:
    return ":".join(f"{rng.randrange(256):02x}" for _ in range(6))


def _inspect(lab: int, netid: str, mac: str) -> str:
    """`docker network inspect` of the lab's network, with its volatile IDs and MAC."""
    return (
        json.dumps(
            [
                {
                    "Name": f"net{lab}",
                    "Id": netid,
                    "Created": "2026-11-29T04:36:50.710778456Z",
                    "Driver": "bridge",
                    "IPAM": {"Config": [{"Subnet": f"172.{18 + lab % 10}.0.0/16"}]},
                    "Containers": {
                        netid: {
                            "Name": f"c{lab}",
                            "MacAddress": mac,
                            "IPv4Address": f"172.{18 + lab % 10}.0.2/16",
                        }
                    },
                    "Options": {"com.docker.network.bridge.name": f"br-{netid[:12]}"},
                }
            ],
            indent=4,
        )
        + "\n"
    )


def _lab(rng: random.Random, lab: int, base: int) -> list[tuple[str, str]]:
    """(command, stdout) for one repetition of the lab; names fixed, volatile values drawn."""
    ns1, ns2, a, b = f"ns{lab}a", f"ns{lab}b", base, base + 1
    mac1, mac2 = _mac(rng), _mac(rng)
    ll = "fe80::" + ":".join(f"{rng.randrange(65536):x}" for _ in range(4))
    veth = "veth" + "".join(rng.choice("0123456789abcdef") for _ in range(7))
    netid = "".join(rng.choice("0123456789abcdef") for _ in range(64))
    rtts = [f"{rng.uniform(0.02, 0.9):.3f}" for _ in range(3)]
    link = (
        "1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000\n"
        "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"
        f"{a}: v{lab}a@if{b}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP "
        "mode DEFAULT group default qlen 1000\n"
        f"    link/ether {mac1} brd ff:ff:ff:ff:ff:ff link-netns {ns2}\n"
    )
    addr = link + (
        f"    inet 10.{lab % 250}.0.1/24 scope global v{lab}a\n"
        "       valid_lft forever preferred_lft forever\n"
        f"    inet6 {ll}/64 scope link\n"
        "       valid_lft forever preferred_lft forever\n"
    )
    ping = (
        f"PING 10.{lab % 250}.0.2 (10.{lab % 250}.0.2) 56(84) bytes of data.\n"
        + "".join(
            f"64 bytes from 10.{lab % 250}.0.2: icmp_seq={i + 1} ttl=64 time={r} ms\n"
            for i, r in enumerate(rtts)
        )
        + f"\n--- 10.{lab % 250}.0.2 ping statistics ---\n"
        f"3 packets transmitted, 3 received, 0% packet loss, time {rng.randrange(400, 420)}ms\n"
        f"rtt min/avg/max/mdev = {min(rtts)}/{rtts[1]}/{max(rtts)}/0.031 ms\n"
    )
    inspect = _inspect(lab, netid, mac2)
    bridge = (
        f"{b + 7}: {veth}@if{b + 6}: <BROADCAST,UP,LOWER_UP> mtu 1500 master docker0 state UP\n"
    )
    return [
        (f"ip netns add {ns1}", ""),
        (f"ip netns add {ns2}", ""),
        (
            f"ip netns exec {ns1} ip link",
            link.split("\n", 2)[0] + "\n" + link.split("\n")[1] + "\n",
        ),
        (f"ip link add v{lab}a type veth peer name v{lab}b", ""),
        (f"ip link set v{lab}a netns {ns1}", ""),
        (f"ip link set v{lab}b netns {ns2}", ""),
        (f"ip netns exec {ns1} ip link", link),
        (f"ip netns exec {ns1} ip addr add 10.{lab % 250}.0.1/24 dev v{lab}a", ""),
        (f"ip netns exec {ns1} ip link set dev v{lab}a up", ""),
        (f"ip netns exec {ns1} ip a", addr),
        (f"ip netns exec {ns1} ping -c 3 10.{lab % 250}.0.2", ping),
        (f"docker network inspect net{lab}", inspect),
        ("ip link show master docker0", bridge),
        (f"ip netns delete {ns1}", ""),
        (f"ip netns delete {ns2}", ""),
    ]


def make(steps: int, seed: int) -> tr.Transcript:
    rng = random.Random(seed)
    records: list[tr.StepRecord] = []
    lab = base = 0
    while len(records) < steps:
        base += rng.randrange(10, 20)  # the kernel hands out ever higher indexes
        for command, stdout in _lab(rng, lab, base):
            records.append(
                tr.StepRecord(
                    index=len(records) + 1,
                    phase="main",
                    command=command,
                    expect=Expectation(),
                    exit=0,
                    duration=rng.uniform(0.001, 0.01),
                    verdict="ok",
                    stdout=stdout,
                )
            )
        lab += 1
    header = tr.Header(
        recipe=None,
        params={},
        script_sha256="0" * 64,
        source="bench",
        target="local",
        facts=HostFacts(),
        started="2026-11-29T04:00:00Z",
        recorder="bench",
    )
    return tr.Transcript(header, tuple(records[:steps]), None)


def best_of(runs: int, work: Callable[[], object]) -> tuple[float, float]:
    """Best wall time and best CPU time; CPU time shows the work when other jobs share the cores."""
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    old, new = make(args.steps, 1), make(args.steps, 2)
    result = compare(old.steps, new.steps)
    if not result.ok:
        first = result.drifts[0]
        raise SystemExit(
            f"benchmark data drifts at step {first.index}: {first.reasons}\n"
            + "\n".join(first.diffs[0].lines if first.diffs else [])
        )
    size = sum(len(s.stdout) for s in old.steps) / 1e6
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp, "a.transcript"), Path(tmp, "b.transcript")
        a.write_text(tr.format_transcript(old))
        b.write_text(tr.format_transcript(new))

        def from_files(parallel: bool) -> object:
            tr.read_header(a)
            first, second = sidebyside.load_both(a, b, CompareOptions(), parallel=parallel)
            return compare_runs(first.run, second.run)

        alone = best_of(args.runs, lambda: compare(old.steps, new.steps))
        both = best_of(args.runs, lambda: from_files(len(os.sched_getaffinity(0)) > 1))
        serial = best_of(args.runs, lambda: from_files(False))
    print(
        f"compare {args.steps} steps ({size:.1f} MB of output per side), best of {args.runs}, "
        f"{len(os.sched_getaffinity(0))} cores:"
    )
    for label, (wall, cpu) in (
        ("comparison alone", alone),
        ("recipe diff: read both files + compare", both),
        ("the same, one file after the other", serial),
    ):
        print(
            f"  {label}: {wall:.3f} s wall ({cpu:.3f} s CPU) = {wall / TARGET:.2f}x the "
            f"{TARGET} s target"
        )


if __name__ == "__main__":
    main()
