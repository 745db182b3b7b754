"""`recipe run linux-bridge --set n=100 --host docker-node1` (over SSH, recording a transcript)
against `bash` running the same rendered script locally, in the same benchmark run.

    python bench/run_ssh.py [--n 100] [--rounds 3]

The two alternate round by round, so drift in the machine's load hits both alike; the medians
are compared. Also printed, per command on docker-node1: the persistent SSH shell channel (a `:`
step), and the usual ways for comparison: a paramiko exec channel per command, and a new OpenSSH
connection per command. Targets (issue 4): ratio <= 1.3, per-step overhead over SSH < 2 ms.

Holds /run/recipe-tests.lock like the tests; makes the virtual nodes if they are not running and
takes them down again afterwards. Needs root.
"""

from __future__ import annotations

import fcntl
import statistics
import sys
import time

from run_linux_bridge import (  # the sibling benchmark (bench/ is on sys.path)
    LOCK,
    arguments,
    render_lab,
    timed,
)

from generator.hosts import nodes as hosts
from generator.lab import leftovers
from generator.shell.ssh import SSHShell
from generator.shell.ssh_connect import connect
from generator.shell.ssh_target import resolve

NODE = "docker-node1"
RATIO_TARGET = 1.3
STEP_TARGET_MS = 2.0


def per_step_channel_ms(count: int = 2000) -> float:
    with SSHShell(resolve(NODE)) as shell:
        started = time.perf_counter()
        for _ in range(count):
            shell.run(":", 10)
        return (time.perf_counter() - started) / count * 1000


def per_step_exec_ms(count: int = 30) -> float:
    client = connect(resolve(NODE))
    try:
        started = time.perf_counter()
        for _ in range(count):
            _, out, _ = client.exec_command(":")
            out.channel.recv_exit_status()
        return (time.perf_counter() - started) / count * 1000
    finally:
        client.close()


def per_step_openssh_ms(count: int = 10) -> float:
    target = resolve(NODE)
    # The nodes are reached from their switch namespace; this machine has no route to them.
    inside = ["nsenter", f"--net={target.netns}", "--"] if target.netns else []
    command = [
        *inside,
        "ssh",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        f"UserKnownHostsFile={target.known_hosts}",
        "-o",
        "ControlMaster=no",
        "-i",
        target.identities[0],
        f"{target.user}@{target.hostname}",
        ":",
    ]
    started = time.perf_counter()
    for _ in range(count):
        timed(command, "ssh")
    return (time.perf_counter() - started) / count * 1000


def main() -> None:
    args = arguments(__doc__ or "")
    work, lab, parsed = render_lab(args.n, "recipe-bench-ssh-")
    steps = len(parsed.steps) + len(parsed.teardown)

    bash_times: list[float] = []
    ssh_times: list[float] = []
    with LOCK.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        made_nodes = not all(state.running for state in hosts.status())
        before = leftovers.take_local() if made_nodes else None
        hosts.up()
        try:
            for number in range(args.rounds):
                bash_times.append(timed(["bash", str(lab)], "bash lab.sh"))
                transcript = work / f"run-{number}.transcript"
                ssh_times.append(
                    timed(
                        ["recipe", "run", str(lab), "--host", NODE, "--record", str(transcript)],
                        "recipe run --host",
                    )
                )
                print(
                    f"round {number + 1}: bash {bash_times[-1]:.3f} s, "
                    f"recipe run --host {NODE} {ssh_times[-1]:.3f} s",
                    file=sys.stderr,
                )
            channel_ms = per_step_channel_ms()
            exec_ms = per_step_exec_ms()
            openssh_ms = per_step_openssh_ms()
        finally:
            if made_nodes:
                hosts.down()
        if before is not None:
            left = leftovers.take_local().added_since(before)
            if left:
                sys.exit(f"the benchmark left behind: {leftovers.describe(left)}")

    bash_s, ssh_s = statistics.median(bash_times), statistics.median(ssh_times)
    ratio = ssh_s / bash_s
    overhead_ms = (ssh_s - bash_s) / steps * 1000
    print(
        f"linux-bridge n={args.n}: {steps} steps ({len(parsed.steps)} + "
        f"{len(parsed.teardown)} teardown), median of {args.rounds} rounds"
    )
    print(f"  bash lab.sh (local)                      {bash_s:8.3f} s")
    print(f"  recipe run lab.sh --host {NODE}    {ssh_s:8.3f} s")
    print(f"  ratio                                    {ratio:8.3f}x   (target <= {RATIO_TARGET}x)")
    print(
        f"  overhead per step, whole run             {overhead_ms:8.3f} ms  (target < "
        f"{STEP_TARGET_MS} ms; includes Python start, SSH handshake, facts, two snapshots)"
    )
    print(f"  persistent SSH shell channel, per step   {channel_ms:8.3f} ms")
    print(f"  paramiko exec channel per command        {exec_ms:8.3f} ms  (for comparison)")
    print(f"  new OpenSSH connection per command       {openssh_ms:8.3f} ms  (for comparison)")
    ok = ratio <= RATIO_TARGET and overhead_ms < STEP_TARGET_MS
    print("  verdict: " + ("meets both targets" if ok else "MISSES a target"))


if __name__ == "__main__":
    main()
