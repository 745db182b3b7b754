"""Comparing two runs: meaningful changes are drift, volatile ones are not, relationships count."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from generator.compare import jsondata
from generator.compare.driftreport import TranscriptReport, as_json, text_lines
from generator.compare.runs import CompareOptions, compare
from generator.transcript import StepRecord
from generator.transcript.expectation import Expectation


def step(
    index: int, command: str, stdout: str, exit_status: int = 0, stderr: str = ""
) -> StepRecord:
    return StepRecord(
        index=index,
        phase="main",
        command=command,
        expect=Expectation(),
        exit=exit_status,
        duration=0.01,
        verdict="ok",
        stdout=stdout,
        stderr=stderr,
    )


def lab(mac: str, veth: str, host_if: int, peer_if: int, rtt: str, netid: str) -> list[StepRecord]:
    """A docker0 lab as recorded: the container's eth0 pairs with a veth on docker0."""
    return [
        step(1, "docker run -d --name test1 busybox sleep 3000", netid + "\n"),
        step(
            2,
            "ip link show master docker0",
            f"{host_if}: {veth}@if{peer_if}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 "
            "master docker0 state UP\n"
            f"    link/ether {mac} brd ff:ff:ff:ff:ff:ff link-netnsid 0\n",
        ),
        step(
            3,
            "docker exec test1 ip link show eth0",
            f"{peer_if}: eth0@if{host_if}: <BROADCAST,MULTICAST,UP,LOWER_UP> "
            "mtu 1500 qdisc noqueue\n"
            "    link/ether 02:42:ac:11:00:02 brd ff:ff:ff:ff:ff:ff\n",
        ),
        step(
            4,
            "ip route",
            "default via 192.168.88.1 dev veth-test1\n"
            "192.168.88.0/24 dev veth-test1 proto kernel\n",
        ),
        step(
            5,
            "docker exec test1 ping -c 2 172.17.0.1",
            "PING 172.17.0.1 (172.17.0.1): 56 data bytes\n"
            f"64 bytes from 172.17.0.1: seq=0 ttl=64 time={rtt} ms\n"
            f"64 bytes from 172.17.0.1: seq=1 ttl=64 time={rtt} ms\n\n"
            "--- 172.17.0.1 ping statistics ---\n"
            "2 packets transmitted, 2 received, 0% packet loss\n"
            f"round-trip min/avg/max = {rtt}/{rtt}/{rtt} ms\n",
        ),
        step(
            6,
            "docker exec test2 nslookup test1",
            "Server:\t\t127.0.0.11\nAddress:\t127.0.0.11:53\n\nName:\ttest1\nAddress: 172.18.0.2\n",
        ),
        step(7, "docker ps --format '{{.ID}} {{.Status}}'", f"{netid[:12]} Up 3 seconds\n"),
    ]


RECORDED = lab(
    "be:48:4b:cd:50:ec",
    "vethe125f42",
    12,
    11,
    "0.065",
    "3f4e9a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7",
)
# Another run: every volatile value is different, every relationship the same.
VOLATILE = lab(
    "0a:3b:89:62:28:8c",
    "veth9f00a1b",
    27,
    26,
    "0.412",
    "9c0ffee1234567890abcdef1234567890abcdef1234567890abcdef123456789",
)


def edit(steps: list[StepRecord], index: int, **changes: object) -> list[StepRecord]:
    return [replace(s, **changes) if s.index == index else s for s in steps]  # type: ignore[arg-type]


def test_only_volatile_values_changed_is_no_drift() -> None:
    result = compare(RECORDED, VOLATILE)
    assert result.ok, [d.reasons for d in result.drifts]
    assert result.compared == 7


@pytest.mark.parametrize(
    ("index", "old", "new", "shows"),
    [
        (
            5,
            "2 received, 0% packet loss",
            "0 received, 100% packet loss",
            "+2 packets transmitted, 0 received, 100% packet loss",
        ),
        (
            4,
            "default via 192.168.88.1 dev veth-test1\n",
            "",
            "-default via 192.168.88.1 dev veth-test1",
        ),
        (
            6,
            "Name:\ttest1\nAddress: 172.18.0.2\n",
            "** server can't find test1: NXDOMAIN\n",
            "+** server can't find test1: NXDOMAIN",
        ),
    ],
    ids=["packet-loss", "route-missing", "name-no-longer-resolves"],
)
def test_one_meaningful_change_is_caught(index: int, old: str, new: str, shows: str) -> None:
    changed = VOLATILE[index - 1].stdout.replace(old, new)
    assert changed != VOLATILE[index - 1].stdout
    result = compare(RECORDED, edit(VOLATILE, index, stdout=changed))
    assert [d.index for d in result.drifts] == [index]
    assert shows in result.drifts[0].diffs[0].lines


def test_exit_status_and_command_changes_are_drift() -> None:
    result = compare(
        RECORDED, edit(VOLATILE, 6, exit=1, command="docker exec test2 nslookup test9")
    )
    assert result.drifts[0].reasons == ("the command differs", "exit status 0 is now 1")


def test_a_broken_relationship_is_caught_and_named() -> None:
    # The container's eth0 now pairs with index 30, not with the veth on docker0 (index 27).
    broken = edit(VOLATILE, 3, stdout=VOLATILE[2].stdout.replace("eth0@if27", "eth0@if30"))
    result = compare(RECORDED, broken)
    assert [d.index for d in result.drifts] == [3]
    drift = result.drifts[0]
    assert (
        "-IF#2: eth0@IF#1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue"
        in drift.diffs[0].lines
    )
    described = [b.describe() for b in drift.bindings]
    assert described == ["IF#1 (recorded 12) is now IF#3 (replayed 30)"]


def test_missing_and_extra_steps_are_drift() -> None:
    assert [d.reasons for d in compare(RECORDED, VOLATILE[:5]).drifts] == [
        ("the step did not run in the replay",),
        ("the step did not run in the replay",),
    ]
    extra = VOLATILE + [step(8, "true", "")]
    assert compare(RECORDED, extra).drifts[0].reasons == ("a step the recording does not have",)


INSPECT: list[dict[str, object]] = [
    {
        "Name": "net1",
        "Id": "a043cce41274afbb13a78ff418520517d7c100f51eb4034cc55d08127b1f7a5c",
        "Created": "2026-11-29T04:36:50.710778456Z",
        "Containers": {
            "3f4e9a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7": {
                "Name": "test1",
                "MacAddress": "02:42:ac:12:00:02",
                "IPv4Address": "172.18.0.2/16",
            },
            "9c0ffee1234567890abcdef1234567890abcdef1234567890abcdef123456789": {
                "Name": "test2",
                "MacAddress": "02:42:ac:12:00:03",
                "IPv4Address": "172.18.0.3/16",
            },
        },
        "Options": {"com.docker.network.bridge.name": "br-a043cce41274"},
    }
]


def _swap_ids(doc: list[dict[str, object]]) -> list[dict[str, object]]:
    """The same network in another run: new IDs, and the containers' IDs sort the other way."""
    text = json.dumps(doc)
    for old, new in (
        ("a043cce41274afbb", "77aa00bb11cc22dd"),
        ("a043cce41274", "77aa00bb11cc"),
        ("3f4e9a1b2c3d", "ffff9a1b2c3d"),
        ("9c0ffee12345", "00000ee12345"),
    ):
        text = text.replace(old, new)
    return list(json.loads(text))


def test_json_is_compared_as_data_whatever_the_key_order_and_ids() -> None:
    old = [step(1, "docker network inspect net1", json.dumps(INSPECT, indent=4) + "\n")]
    new_doc = _swap_ids(INSPECT)
    new_doc[0] = dict(reversed(list(new_doc[0].items())))
    new = [step(1, "docker network inspect net1", json.dumps(new_doc) + "\n")]
    assert compare(old, new).ok


def test_json_change_shows_as_a_line_diff_and_ignored_paths_do_not_count() -> None:
    doc = _swap_ids(INSPECT)
    doc[0]["Options"] = {"com.docker.network.bridge.name": "docker1"}
    old = [step(1, "docker network inspect net1", json.dumps(INSPECT))]
    new = [step(1, "docker network inspect net1", json.dumps(doc))]
    drift = compare(old, new).drifts[0]
    assert '+      "com.docker.network.bridge.name": "docker1"' in drift.diffs[0].lines
    ignore = (jsondata.parse_path('[*].Options["com.docker.network.bridge.name"]'),)
    assert compare(old, new, CompareOptions(ignore=ignore)).ok


def _bridge(name: str, gateway: str | None, default: bool) -> str:
    config: dict[str, str] = {"Subnet": "172.17.0.0/16"}
    if gateway:
        config["Gateway"] = gateway
    options = {"com.docker.network.bridge.default_bridge": "true"} if default else {}
    return json.dumps(
        [{"Name": name, "IPAM": {"Driver": "default", "Config": [config]}, "Options": options}]
    )


def test_default_bridge_gateway_depends_on_daemon_restarts_and_does_not_count() -> None:
    # dockerd reports it only when docker0 had an address at start: absent on a fresh machine.
    fresh = [step(1, "docker network inspect bridge", _bridge("bridge", None, True))]
    restarted = [step(1, "docker network inspect bridge", _bridge("bridge", "172.17.0.1", True))]
    assert compare(fresh, restarted).ok


def test_gateway_of_a_user_defined_network_still_counts() -> None:
    old = [step(1, "docker network inspect my-bridge", _bridge("my-bridge", "172.17.0.1", False))]
    new = [step(1, "docker network inspect my-bridge", _bridge("my-bridge", None, False))]
    moved = [
        step(1, "docker network inspect my-bridge", _bridge("my-bridge", "172.17.0.254", False))
    ]
    assert not compare(old, new).ok
    assert not compare(old, moved).ok


def test_ip_json_binds_interface_indexes_given_as_numbers() -> None:
    def ip_j(index: int, peer: int) -> str:
        return json.dumps(
            [
                {"ifindex": index, "link_index": peer, "ifname": "eth0"},
                {"ifindex": peer, "ifname": "veth0"},
            ]
        )

    assert compare([step(1, "ip -j link", ip_j(11, 12))], [step(1, "ip -j link", ip_j(40, 41))]).ok
    broken = compare([step(1, "ip -j link", ip_j(11, 12))], [step(1, "ip -j link", ip_j(40, 40))])
    assert not broken.ok


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("[*].Id", [{"Name": "a"}]),
        ("$[0].Name", [{"Id": "x"}]),
        ("..Id", [{"Name": "a"}]),
        ("[*].*", [{}]),
    ],
)
def test_ignore_paths(path: str, expected: object) -> None:
    data = [{"Name": "a", "Id": "x"}]
    assert jsondata._prune(data, jsondata.parse_path(path)) == expected


@pytest.mark.parametrize("path", ["", "..", "a[", "[x]"])
def test_bad_ignore_path_is_refused(path: str) -> None:
    with pytest.raises(jsondata.PathError):
        jsondata.parse_path(path)


def test_report_is_plain_unless_colour_is_asked_for() -> None:
    broken = edit(
        VOLATILE, 5, stdout=VOLATILE[4].stdout.replace(" 0% packet loss", " 100% packet loss")
    )
    report = TranscriptReport("transcripts/x.transcript", compare(RECORDED, broken))
    plain = list(text_lines(report, colour=False))
    coloured = list(text_lines(report, colour=True))
    assert plain[0] == "step 5: docker exec test1 ping -c 2 172.17.0.1"
    assert not any("\033[" in line for line in plain)
    assert any("\033[31m" in line for line in coloured)
    assert plain[-1] == "transcripts/x.transcript: DRIFT, 7 steps compared, 1 drifting"
    data = as_json(report)
    assert data["ok"] is False and data["drifts"][0]["index"] == 5
