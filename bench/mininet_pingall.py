"""Mininet's `pingall` on the topology recipe reach is measured on, for bench/reach_all_pairs.py:
`mn --topo single,N --switch lxbr --controller none --test pingall` (Debian's mininet 2.3,
`scripts/install.sh --bench`). Needs root; the caller holds /run/recipe-tests.lock.

It is the real `/usr/bin/mn`, run by a wrapper that turns mn's cleanup() into an error: mn calls
it on any exception or Ctrl-C, like `mn -c`, and it deletes every /tmp/*.log and /tmp/*.out on
the machine. So what Mininet leaves is removed here instead, in finally: its bridge s1 and the
s1-ethN ends, its host shells that outlive it (by pid, only those that were not running
before), the DOCKER-USER rule its pings need, and the sysctls its fixLimits() raises for good.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

MN = Path("/usr/bin/mn")
PYTHON = "/usr/bin/python3"  # mn's own interpreter: Debian's mininet package lives in its path
BRIDGE = "s1"
TIMEOUT_S = 900.0
WRAPPER = """import runpy, sys
import mininet.clean
def refuse(*args, **kwargs):
    raise SystemExit("mn called cleanup(), which deletes /tmp/*.log and /tmp/*.out: refused")
mininet.clean.cleanup = refuse
sys.argv = ["mn", *sys.argv[1:]]
runpy.run_path("/usr/bin/mn", run_name="__main__")
"""
# What mininet.util.fixLimits() sets and never sets back.
SYSCTLS = (
    "fs.file-max",
    "net.core.wmem_max",
    "net.core.rmem_max",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
    "net.core.netdev_max_backlog",
    "net.ipv4.neigh.default.gc_thresh1",
    "net.ipv4.neigh.default.gc_thresh2",
    "net.ipv4.neigh.default.gc_thresh3",
    "net.ipv4.route.max_size",
    "kernel.pty.max",
)
# Docker's FORWARD policy is DROP, and with br_netfilter frames bridged between two ports of s1
# pass through it: without this rule every ping of pingall drops (issue 13: past 600 s, exit 0).
CHAIN = (
    "if iptables -w -n -L DOCKER-USER >/dev/null 2>&1; then chain=DOCKER-USER;"
    " else chain=FORWARD; fi"
)
ACCEPT = f"-i {BRIDGE} -o {BRIDGE} -j ACCEPT"
SHELL = re.compile(r"^bash\x00--norc\x00--noediting\x00-is\x00mininet:[\w-]+\x00$")


@dataclass(frozen=True)
class Pingall:
    total_s: float  # the whole mn run: 100 hosts made, pingall, all stopped
    pingall_s: float  # from "*** Ping: testing" to "*** Results:"
    received: int
    sent: int


def installed() -> bool:
    return MN.exists()


def run(n: int) -> Pingall:
    """One pingall of n hosts on one Linux bridge, and everything it made removed."""
    if subprocess.run(["ip", "link", "show", BRIDGE], capture_output=True).returncode == 0:
        raise SystemExit(f"a link named {BRIDGE} exists already: it is not ours, mn would take it")
    shells, limits = _host_shells(), _sysctls()
    _sh(f'{CHAIN}\niptables -w -I "$chain" {ACCEPT}', check=True)
    try:
        return _pingall(n)
    finally:
        _sh(f'{CHAIN}\niptables -w -D "$chain" {ACCEPT}')
        for pid in _host_shells() - shells:
            with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
                os.kill(pid, signal.SIGKILL)
        _remove_links()
        _restore(limits)


def _pingall(n: int) -> Pingall:
    argv = ["--topo", f"single,{n}", "--switch", "lxbr", "--controller", "none"]
    started = time.perf_counter()
    ping_at = results_at = 0.0
    proc = subprocess.Popen(
        [PYTHON, "-c", WRAPPER, *argv, "--test", "pingall"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own group, so the watchdog stops exactly what it started
    )
    watchdog = threading.Timer(TIMEOUT_S, os.killpg, (proc.pid, signal.SIGKILL))
    watchdog.start()
    assert proc.stdout is not None
    said, results = [], ""
    try:
        for line in proc.stdout:
            said.append(line)
            if line.startswith("*** Ping: testing"):
                ping_at = time.perf_counter()
            elif line.startswith("*** Results:"):
                results_at, results = time.perf_counter(), line
        proc.wait()
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    total = time.perf_counter() - started
    counts = re.search(r"\((\d+)/(\d+) received\)", results)
    if proc.returncode == -signal.SIGKILL:
        raise SystemExit(f"mn ran past {TIMEOUT_S:.0f} s: stopped it")
    if proc.returncode != 0 or counts is None or not ping_at:
        raise SystemExit(f"mn failed (exit {proc.returncode}): {''.join(said[-5:]).strip()}")
    return Pingall(total, results_at - ping_at, int(counts[1]), int(counts[2]))


def _sh(script: str, check: bool = False) -> str:
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise SystemExit(f"{script.splitlines()[-1]}: {done.stderr.strip()}")
    return done.stdout


def _host_shells() -> set[int]:
    """The pids of Mininet's host shells (`bash ... -is mininet:h1`) running now."""
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and SHELL.match((entry / "cmdline").read_text()):
                found.add(int(entry.name))
        except OSError:
            continue  # gone meanwhile
    return found


def _remove_links() -> None:
    """s1 and its ports: deleting a port deletes the veth pair, the host's end with it."""
    for line in _sh("ip -o link show").splitlines():
        name = line.split(": ")[1].split("@")[0] if ": " in line else ""
        if name.startswith(f"{BRIDGE}-eth"):
            _sh(f"ip link del {name}")
    _sh(f"ip link del {BRIDGE} 2>/dev/null")


def _sysctls() -> dict[str, str]:
    return {key: _sh(f"sysctl -n {key}").strip() for key in SYSCTLS}


def _restore(before: dict[str, str]) -> None:
    now = _sysctls()
    for key, value in before.items():
        if value and now[key] != value:
            # tcp_rmem is three numbers, tab-separated as read: one argument, quoted
            subprocess.run(["sysctl", "-q", "-w", f"{key}={value}"], check=False)
