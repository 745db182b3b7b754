"""The name resolver of `recipe reach --by-name`: for each source container, each name as that
container would resolve it. Shipped to the host like the prober (prober.shipped), stdlib only,
python3.7 on; one process per host, never one per name.

A name is looked up as the container's own libc would: its /etc/hosts first (where `--link`
writes), read through /proc/PID/root of a process in its network namespace, then the
nameservers of its /etc/resolv.conf, each asked over UDP from a socket opened inside that
namespace. Only a nameserver on loopback (Docker's embedded DNS, 127.0.0.11) or at an address
of the lab is asked; any other is named and not asked, so no query leaves the lab. It prints
one line: `@@rcp-names ` and the result as JSON.
"""

from __future__ import annotations

import ctypes
import ipaddress
import json
import os
import random
import socket
import struct
import threading
from typing import Any

CLONE_NEWNET = 0x40000000
MARK = "@@rcp-names "


def _pids_by_namespace() -> dict[tuple[int, int], int]:
    """(st_dev, st_ino) of a network namespace -> one process in it."""
    found: dict[tuple[int, int], int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                info = os.stat(f"/proc/{entry}/ns/net")
            except OSError:
                continue
            found.setdefault((info.st_dev, info.st_ino), int(entry))
    return found


def _hosts(root: str) -> dict[str, str]:
    """name -> the first IPv4 address /etc/hosts gives it."""
    names: dict[str, str] = {}
    try:
        with open(root + "/etc/hosts", encoding="utf-8", errors="replace") as handle:
            lines = handle.read(1 << 20).splitlines()
    except OSError:
        return names
    for line in lines:
        words = line.split("#", 1)[0].split()
        if len(words) >= 2 and _is_ipv4(words[0]):
            for name in words[1:]:
                names.setdefault(name, words[0])
    return names


def _nameservers(root: str) -> list[str]:
    try:
        with open(root + "/etc/resolv.conf", encoding="utf-8", errors="replace") as handle:
            lines = handle.read(1 << 16).splitlines()
    except OSError:
        return []
    words = [line.split() for line in lines]
    return [w[1] for w in words if len(w) >= 2 and w[0] == "nameserver" and _is_ipv4(w[1])]


def _is_ipv4(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).version == 4
    except ValueError:
        return False


def _query(server: str, name: str, timeout: float) -> str:
    """The first A record DNS gives for name, "" when none."""
    ident = random.randint(0, 0xFFFF)
    labels = b"".join(bytes([len(p)]) + p.encode("idna") for p in name.rstrip(".").split("."))
    packet = struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + labels + b"\0\0\1\0\1"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(packet, (server, 53))
        while True:
            data, _ = sock.recvfrom(4096)
            if len(data) >= 12 and struct.unpack_from("!H", data)[0] == ident:
                return _answer(data, len(packet))


def _answer(data: bytes, at: int) -> str:
    _, flags, _, count, _, _ = struct.unpack_from("!HHHHHH", data)
    if flags & 0x000F:  # NXDOMAIN, REFUSED, SERVFAIL
        return ""
    for _ in range(count):
        if at < len(data) and data[at] & 0xC0 == 0xC0:
            at += 2
        else:
            while at < len(data) and data[at]:
                at += data[at] + 1
            at += 1
        if at + 10 > len(data):
            return ""
        kind, _, _, size = struct.unpack_from("!HHIH", data, at)
        at += 10
        if kind == 1 and size == 4:
            return socket.inet_ntoa(data[at : at + 4])
        at += size
    return ""


def _resolve(
    name: str, hosts: dict[str, str], servers: list[str], lab: set[str], timeout: float
) -> dict[str, str]:
    if name in hosts:
        return {"address": hosts[name], "how": "/etc/hosts"}
    why = "not in /etc/hosts, and no nameserver"
    for server in servers:
        if not (ipaddress.ip_address(server).is_loopback or server in lab):
            why = f"not in /etc/hosts; nameserver {server} is no address of the lab: not asked"
            continue
        try:
            found = _query(server, name, timeout)
        except OSError as exc:
            why = f"nameserver {server}: {exc.strerror or 'no answer'}"
            continue
        if found:
            return {"address": found, "how": f"DNS {server}"}
        why = f"no such name (nameserver {server})"
    return {"address": "", "how": "", "why": why}


def resolve(request: dict[str, Any]) -> dict[str, Any]:
    """Each source's names, resolved in its namespace: {"names": [[{address, how, why}]]}."""
    pids = _pids_by_namespace()
    lab = set(request.get("lab", []))
    timeout = float(request.get("timeout", 1.0))
    sources = request["sources"]
    found: list[list[dict[str, str]]] = [[] for _ in sources]
    libc = ctypes.CDLL(None, use_errno=True)

    def work() -> None:  # setns acts on the calling thread only
        for i, source in enumerate(sources):
            names = [str(n) for n in source["names"]]
            try:
                info = os.stat(source["path"])
                root = f"/proc/{pids[(info.st_dev, info.st_ino)]}/root"
                fd = os.open(source["path"], os.O_RDONLY)
            except (OSError, KeyError):
                found[i] = [{"address": "", "how": "", "why": "no process in its namespace"}] * len(
                    names
                )
                continue
            try:
                entered = libc.setns(fd, CLONE_NEWNET) == 0
            finally:
                os.close(fd)
            hosts, servers = _hosts(root), _nameservers(root)
            if not entered:
                servers = []
            found[i] = [_resolve(n, hosts, servers, lab, timeout) for n in names]

    worker = threading.Thread(target=work, name="rcp-reach-names")
    worker.start()
    worker.join()
    return {"names": found}


def _main(encoded: str) -> None:
    import base64
    import zlib

    request = json.loads(zlib.decompress(base64.b64decode(encoded)))
    if os.geteuid() != 0:
        print(MARK + json.dumps({"error": "the resolver needs root (setns, /proc/PID/root)"}))
        return
    print(MARK + json.dumps(resolve(request)))
