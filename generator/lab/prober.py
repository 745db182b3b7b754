"""The reachability prober: one python3 process per host, one socket set per source namespace.

This module is both a library and the script itself. `command(request)` gives the shell
command that ships this file's own source to `python3 -` through the host's Shell, so a local
bash and an SSH shell run it alike, and nothing needs to be installed there beyond python3. It
uses the standard library only, and runs on any python3 from 3.7 on.

How it probes (issue 13): a worker thread enters each source namespace in turn (setns acts on
the calling thread only) and opens that source's sockets there; a socket stays bound to the
namespace it was created in, so the main thread then drives every source's sockets at once
from one selector: ICMP echo to every target (a raw socket, so root), then a second round to
those that did not answer, and TCP by non-blocking connect. Never a process per pair. When some
pair failed, the firewall rules that drop packets in the namespaces involved and on the host's
FORWARD path are read (`iptables-save`), so the caller can name a likely cause. It prints one
line: `@@rcp-reach ` and the result as JSON.
"""

from __future__ import annotations

import base64
import collections
import ctypes
import errno
import json
import os
import resource
import selectors
import socket
import struct
import subprocess
import threading
import time
import zlib
from pathlib import Path
from typing import Any

CLONE_NEWNET = 0x40000000
MARK = "@@rcp-reach "
HOST_PATH = "/proc/self/ns/net"
_EOF = "RCP_PROBER_EOF"
_ECHO_REQUEST, _ECHO_REPLY = 8, 0


def command(request: dict[str, Any]) -> str:
    """The shell command that runs the prober on `request` ({"sources": [{"path", "targets"}],
    "owners": {ip: path}, "ports", "timeout", "tries"}); it prints one `@@rcp-reach` line, or
    `@@rcp-reach-missing python3`."""
    # In the program text, not on its command line: one argument holds at most 128 KiB, and
    # 100 namespaces' targets are more (compressed, they are a few KiB).
    return shipped(Path(__file__), request)


def shipped(program: Path, request: dict[str, Any]) -> str:
    """The shell command that runs a stdlib-only program's `_main` on request, with python3 as
    root (or `sudo -n`): the prober, and the name resolver (generator/lab/resolver.py)."""
    encoded = base64.b64encode(zlib.compress(json.dumps(request).encode())).decode()
    source = program.read_text(encoding="utf-8")
    return (
        "if command -v python3 >/dev/null 2>&1; then\n"
        '  if [ "$(id -u)" = 0 ]; then _rcp_py=python3; else _rcp_py="sudo -n python3"; fi\n'
        f"  $_rcp_py - <<'{_EOF}'\n{source}\n_main({encoded!r})\n{_EOF}\n"
        "else echo '@@rcp-reach-missing python3'; fi"
    )


class _Source:
    """One source namespace's sockets: a raw ICMP socket and one TCP socket per target and port."""

    def __init__(self, index: int, path: str, targets: list[str]) -> None:
        self.index = index
        self.path = path
        self.targets = targets
        self.icmp: socket.socket | None = None
        self.tcp: dict[tuple[int, int], socket.socket] = {}
        self.error = ""
        self.ident = (os.getpid() * 131 + index) & 0xFFFF


def _open_all(sources: list[_Source], ports: list[int]) -> None:
    """In a worker thread: enter each namespace, open its sockets there."""
    libc = ctypes.CDLL(None, use_errno=True)

    def work() -> None:
        for source in sources:
            try:
                fd = os.open(source.path, os.O_RDONLY)
            except OSError as exc:
                source.error = f"cannot open {source.path}: {exc.strerror}"
                continue
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    source.error = f"cannot enter {source.path}: {os.strerror(ctypes.get_errno())}"
                    continue
            finally:
                os.close(fd)
            try:
                _open_one(source, ports)
            except OSError as exc:
                source.error = f"cannot open a socket in {source.path}: {exc.strerror}"

    worker = threading.Thread(target=work, name="rcp-reach-open")
    worker.start()
    worker.join()


def _open_one(source: _Source, ports: list[int]) -> None:
    icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    icmp.setblocking(False)
    icmp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    source.icmp = icmp
    for t, _ in enumerate(source.targets):
        for port in ports:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            source.tcp[(t, port)] = sock


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return int(~total & 0xFFFF)


def _echo(ident: int, seq: int) -> bytes:
    payload = b"recipe-reach"
    header = struct.pack("!BBHHH", _ECHO_REQUEST, 0, 0, ident, seq)
    check = _checksum(header + payload)
    return struct.pack("!BBHHH", _ECHO_REQUEST, 0, check, ident, seq) + payload


def _icmp(
    sources: list[_Source], timeout: float, tries: int, window: int
) -> dict[tuple[int, int], str]:
    """(source, target index) -> "ok" or why not. Every source's echoes go out at once, but at
    most `window` unanswered: a burst of thousands of first packets to new neighbours is as many
    ARP broadcasts, each flooded to every port of a bridge, and the kernel's backlog (1000 per
    CPU) would drop most of them. Each probe is sent again after `timeout`, `tries` times."""
    result: dict[tuple[int, int], str] = {}
    live = {s.index: s for s in sources if s.icmp is not None}
    selector = selectors.DefaultSelector()
    for source in live.values():
        selector.register(source.icmp, selectors.EVENT_READ, source)  # type: ignore[arg-type]
    pairs = [(i, t) for i, s in live.items() for t in range(len(s.targets))]
    queue = collections.deque(sorted(pairs, key=lambda p: (p[1], p[0])))
    left = dict.fromkeys(pairs, max(1, tries))
    sent: dict[tuple[int, int], float] = {}  # unanswered, oldest first
    fulls, checked = _table_fulls(), time.monotonic()
    while queue or sent:
        if time.monotonic() - checked > 0.1:
            if _table_fulls() > fulls:  # what is still unanswered now proves nothing: stop
                break
            checked = time.monotonic()
        while queue and len(sent) < window:
            pair = queue.popleft()
            if pair not in result:
                _send(live[pair[0]], pair, sent, result)
                left[pair] -= 1
        wait = min(sent.values()) + timeout - time.monotonic() if sent else 0.0
        for key, _events in selector.select(max(0.0, wait)):
            _receive(key.data, sent, result)
        now = time.monotonic()
        for pair, at in list(sent.items()):
            if at + timeout > now:
                break
            del sent[pair]
            if left[pair] > 0:
                queue.append(pair)
            else:
                result[pair] = "no reply"
    selector.close()
    for pair in pairs:
        result.setdefault(pair, "neighbour table full")
    return result


def _send(
    source: _Source,
    pair: tuple[int, int],
    sent: dict[tuple[int, int], float],
    result: dict[tuple[int, int], str],
) -> None:
    assert source.icmp is not None
    try:
        source.icmp.sendto(_echo(source.ident, pair[1]), (source.targets[pair[1]], 0))
        sent[pair] = time.monotonic()
    except BlockingIOError:
        sent[pair] = time.monotonic()  # as if lost: sent again after the timeout
    except OSError as exc:
        result[pair] = f"send: {exc.strerror or exc}"


def _receive(
    source: _Source, sent: dict[tuple[int, int], float], result: dict[tuple[int, int], str]
) -> None:
    assert source.icmp is not None
    while True:
        try:
            data, (address, _port) = source.icmp.recvfrom(2048)
        except (BlockingIOError, InterruptedError):
            return
        at = (data[0] & 0x0F) * 4
        if len(data) < at + 8:
            continue
        kind, _code, _sum, ident, seq = struct.unpack_from("!BBHHH", data, at)
        if kind != _ECHO_REPLY or ident != source.ident or seq >= len(source.targets):
            continue
        pair = (source.index, seq)
        if source.targets[seq] == address and pair not in result:
            result[pair] = "ok"
            sent.pop(pair, None)


def _tcp(sources: list[_Source], timeout: float) -> dict[tuple[int, int, int], str]:
    """(source, target index, port) -> open, refused, timeout or the error's name."""
    result: dict[tuple[int, int, int], str] = {}
    selector = selectors.DefaultSelector()
    for source in sources:
        for (t, port), sock in source.tcp.items():
            code = sock.connect_ex((source.targets[t], port))
            if code in (0, errno.EINPROGRESS):
                selector.register(sock, selectors.EVENT_WRITE, (source.index, t, port))
            else:
                result[(source.index, t, port)] = _tcp_state(code)
    deadline = time.monotonic() + timeout
    while selector.get_map() and time.monotonic() < deadline:
        for key, _events in selector.select(max(0.0, deadline - time.monotonic())):
            ready = key.fileobj
            if not isinstance(ready, socket.socket):
                continue
            result[key.data] = _tcp_state(ready.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
            selector.unregister(ready)
    for key in list(selector.get_map().values()):
        result[key.data] = "timeout"
    selector.close()
    return result


def _tcp_state(code: int) -> str:
    if code == 0:
        return "open"
    if code == errno.ECONNREFUSED:
        return "refused"
    return errno.errorcode.get(code, str(code))


def _dropping(path: str) -> list[str]:
    """The filter table's rules that drop or reject, and any policy but ACCEPT, in one namespace."""
    enter = [] if path == HOST_PATH else ["nsenter", f"--net={path}"]
    try:
        done = subprocess.run(
            [*enter, "iptables-save", "-t", "filter"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    found = []
    for line in done.stdout.splitlines():
        words = line.split()
        policy = line.startswith(":") and len(words) > 1 and words[1] in ("DROP", "REJECT")
        if policy or "-j DROP" in line or "-j REJECT" in line:
            found.append(line)
    return found


def _table_fulls() -> int:
    """How often the kernel's ARP table was full (all namespaces share it, gc_thresh3 entries)."""
    try:
        rows = Path("/proc/net/stat/arp_cache").read_text().split("\n")
    except OSError:
        return 0
    column = rows[0].split().index("table_fulls") if "table_fulls" in rows[0] else -1
    return sum(int(r.split()[column], 16) for r in rows[1:] if r.strip()) if column >= 0 else 0


def _gc_thresh3() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/neigh/default/gc_thresh3").read_text())
    except (OSError, ValueError):
        return 0


def _bridge_netfilter() -> bool:
    try:
        return Path("/proc/sys/net/bridge/bridge-nf-call-iptables").read_text().strip() == "1"
    except OSError:
        return False


def _involved(
    sources: list[_Source], icmp: dict[tuple[int, int], str], request: dict[str, Any]
) -> set[str]:
    """The namespaces at either end of a pair that failed, and the host's when any did; and
    those the request names (`rules_of`: the far ends of pairs that failed from another host)."""
    owners = request.get("owners", {})
    found: set[str] = {str(path) for path in request.get("rules_of", [])}
    for source in sources:
        for t, target in enumerate(source.targets):
            if icmp.get((source.index, t)) != "ok":
                found.update((source.path, str(owners.get(target, HOST_PATH)), HOST_PATH))
    return found


def probe(request: dict[str, Any]) -> dict[str, Any]:
    """Probe every source's targets; what the caller reads back (see reach.py)."""
    started = time.monotonic()
    ports = [int(p) for p in request.get("ports", [])]
    sources = [
        _Source(i, str(s["path"]), [str(t) for t in s["targets"]])
        for i, s in enumerate(request["sources"])
    ]
    wanted = (
        len(sources) * (4 + max(len(s.targets) for s in sources) * len(ports)) if sources else 0
    )
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if wanted + 64 > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, wanted + 64), hard))
    _open_all(sources, ports)
    timeout, tries = float(request.get("timeout", 1.0)), int(request.get("tries", 2))
    fulls = _table_fulls()
    icmp = _icmp(sources, timeout, tries, int(request.get("window", 128)))
    fulls = _table_fulls() - fulls
    tcp = _tcp(sources, timeout * tries) if ports else {}
    rules = {path: _dropping(path) for path in sorted(_involved(sources, icmp, request))}
    return {
        "icmp": [[icmp.get((s.index, t), s.error) for t in range(len(s.targets))] for s in sources],
        "tcp": [
            [
                {str(p): tcp.get((s.index, t, p), s.error) for p in ports}
                for t in range(len(s.targets))
            ]
            for s in sources
        ],
        "errors": [s.error for s in sources],
        "rules": rules,
        "bridge_netfilter": _bridge_netfilter(),
        "neighbour_table_full": fulls,
        "gc_thresh3": _gc_thresh3(),
        "seconds": round(time.monotonic() - started, 4),
    }


def _main(encoded: str) -> None:
    """The shipped program's entry: the request as command() encoded it."""
    request = json.loads(zlib.decompress(base64.b64decode(encoded)))
    if os.geteuid() != 0:
        print(MARK + json.dumps({"error": "the prober needs root (raw ICMP sockets, setns)"}))
        return
    print(MARK + json.dumps(probe(request)))
