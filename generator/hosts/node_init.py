"""A node's init: pid 1 of its pid namespace, holding its mounts, hostname and, on a stack, its
root.

Killing the init ends every process of the node, also those that left its network or mount
namespace (`ip netns exec` inside a node, containers). On a stack, the init pivots into an
overlay of the stack's cached root, so everything started in its mount namespace runs that
userland; the overlay keeps the cache unwritten, and every mount dies with the node's mount
namespace.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from generator.errors import UserError
from generator.hosts import inventory, nsprocs, stacks
from generator.hosts.nsutil import wait_for

_INIT = r"""
set -e
hostname "$1"
# The copied mount table holds bind mounts of other namespaces (other nodes, the host's Docker
# containers). Drop them here, or they would keep those namespaces alive as long as this node.
grep ' - nsfs ' /proc/self/mountinfo | cut -d' ' -f5 | sort -r | while read -r m; do
  umount -l "$m" 2>/dev/null || true
done
umount -l /run/netns 2>/dev/null || true
mount --bind "$2" /run/netns
mount --bind "$3" /etc/resolv.conf
# A /sys of this network namespace, so brctl and /sys/class/net show the node's interfaces, not
# the host's; the cgroup mounts move over into it, since dockerd needs them (unlike after
# `ip netns exec`, which remounts /sys without them).
mkdir -p "$5"
mount --rbind /sys/fs/cgroup "$5"
mount -t sysfs sysfs /sys
mount --move "$5" /sys/fs/cgroup
if [ -n "$6" ]; then
  # The stack's root as an overlay (so it is a mount point, which dockerd needs for `/`), with
  # this node's /proc, /sys, /dev, a fresh /run and /tmp, and the paths the daemons use.
  root=$9
  mkdir -p "$7" "$8" "$root"
  mount -t overlay overlay -o "lowerdir=$6,upperdir=$7,workdir=$8" "$root"
  mount -t proc proc "$root/proc"
  mount --rbind /sys "$root/sys"
  mount --rbind /dev "$root/dev"
  mount -t tmpfs -o mode=755 tmpfs "$root/run"
  mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
  mkdir -p "$root/run/netns" "$root/run/sshd" "$root${10}" "$root${11}"
  mount --bind /run/netns "$root/run/netns"
  mount --bind "${10}" "$root${10}"
  mount --bind "${11}" "$root${11}"
  rm -f "$root/etc/resolv.conf"
  : > "$root/etc/resolv.conf"
  mount --bind "$3" "$root/etc/resolv.conf"
  # pivot_root, not chroot: `docker exec` enters a container through setns, which sets the root
  # to the mount namespace's own, and that is the stack's root only after a pivot.
  mkdir -p "$root/.host"
  cd "$root"
  pivot_root . .host
  umount -l /.host
  rmdir /.host
  : > "$4"
  exec /bin/sh -c 'while :; do sleep 3600 & wait; done'
fi
: > "$4"
# As init, reap the orphans that daemons leave behind (dash's wait reaps any child).
while :; do sleep 3600 & wait; done
"""


@dataclass(frozen=True)
class InitPaths:
    """What the init mounts for a node: its run and state folders, and on a stack its root."""

    name: str  # the hostname
    run: Path
    state: Path
    netns: Path
    lower: Path | None  # the stack's cached root; None runs this machine's own userland


def start_init(node: InitPaths) -> int:
    """Start the node's init in new mount, UTS and pid namespaces; return its pid on the host."""
    ready = node.run / "init.ready"
    unshare = ["unshare", "--mount", "--uts", "--pid", "--fork", "--mount-proc"]
    args = [node.name, str(node.run / "netns"), str(node.state / "resolv.conf"), str(ready)]
    args.append(str(node.run / "cgroup"))
    lower = node.lower
    stacks.overlay_safe(node.state, inventory.STATE_ENV)  # upperdir and workdir live there
    args += [
        str(lower or ""),
        str(node.state / "upper"),
        str(node.state / "work"),
        str(node.run / "root"),
        str(node.run),
        str(inventory.state_dir()),
    ]
    log = node.state / "init.log"  # a file, not a pipe: nobody reads a pipe once the node runs
    with log.open("wb") as errors:
        parent = subprocess.Popen(
            [
                *["nsenter", f"--net={node.netns}", *unshare, "--propagation", "private"],
                *["sh", "-c", _INIT, "init", *args],
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            start_new_session=True,
        )
    wait = f"{node.name}'s namespaces"
    wait_for(lambda: ready.exists() or parent.poll() is not None, 5, wait)
    children = _children(parent.pid)
    if parent.poll() is not None or not children:
        err = log.read_text(errors="replace").strip().splitlines()
        raise UserError(
            f"{node.name}: setting up its namespaces failed: {err[-1] if err else 'no message'}"
        )
    init = children[0]
    (node.run / "init.pid").write_text(f"{init}\n")
    (node.run / "pidns.id").write_text(str(nsprocs.ns_id(f"/proc/{init}/ns/pid")))
    return init


def enter(init: int, stack_root: bool) -> list[str]:
    """The argv prefix that runs a program as a process of the node (in its root, on a stack)."""
    into = ["nsenter", f"--target={init}", "--net", "--mount", "--uts", "--pid"]
    return [*into, *(["--root", "--wd"] if stack_root else []), "--"]


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []
