"""While a tutorial runs, nothing it starts opens a connection off the machine.

The outside-the-lab check (tutorial_outside.py) reads a page's words; a word it cannot read
(`ping $IP`, `xargs ping`, `busybox wget`) must still send nothing. So, on each host of the run,
new connections out of the default route's devices are rejected: from the run's shell and every
process it starts (OUTPUT, matched by a cgroup the shell is moved into; on this machine recipe
itself goes in too, so a restarted shell and a pty session start inside), and from every
namespace and container, whose packets the host forwards (FORWARD). Replies to connections made
before the run (an SSH session to the host) pass: only NEW is matched. Nothing is sent to find
out. The rules and the cgroup carry a name of their own, random per run, so a run never takes
down another's guard, and they go when the run ends whatever became of its shell.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from generator.errors import UserError
from generator.lab.steps import Script
from generator.shell.base import Shell
from generator.shell.local import LocalShell

PREFIX = "recipe-egress-guard-"

# Runs in the lab's bash; prints one line: OK ORIGINAL-CGROUP DEVICES... or ERR why. The cgroup
# sits at the cgroup2 root, where `-m cgroup --path` looks. @NAME@ and @PIDS@ are filled in.
_INSTALL = r"""(
g=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
[ -n "$g" ] || { echo "ERR no cgroup2 hierarchy is mounted"; exit 0; }
name=@NAME@
orig=$(sed -n 's/^0:://p' /proc/$$/cgroup)
if ! { mkdir -p "$g/$name" && for pid in $$ @PIDS@; do echo "$pid" > "$g/$name/cgroup.procs"
     done; } 2>/dev/null; then
  echo "ERR cannot move the shell into the cgroup $g/$name"; exit 0
fi
devs=$({ ip -4 route show default; ip -6 route show default; } 2>/dev/null |
  sed -n 's/.* dev \([^ ]*\).*/\1/p' | sort -u)
for t in iptables ip6tables; do
  # One iptables-restore per family: the table is read and written once, not once a rule.
  { echo '*filter'
    for dev in $devs; do
      for rule in "OUTPUT -o $dev -m cgroup --path $name" "FORWARD -o $dev"; do
        echo "-I $rule -m conntrack --ctstate NEW -m comment --comment $name -j REJECT"
      done
    done
    # A local stub resolver (systemd-resolved, 127.0.0.53) would ask outside on the page's behalf.
    for proto in udp tcp; do
      echo "-I OUTPUT -o lo -m cgroup --path $name -p $proto --dport 53 -m conntrack --ctstate NEW \
-m comment --comment $name -j REJECT"
    done
    echo COMMIT
  } | $t-restore -w 10 --noflush 2>/dev/null ||
    { echo "ERR $t-restore refused the guard's rules"; exit 0; }
done
echo "OK ${orig:-/} $devs"
)"""

# The shell goes back first, as a command of its own: a subshell forked while it was inside
# would stay inside and keep the directory from going. @BACK@ is where it came from.
_LEAVE = r"""echo $$ > "$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)@BACK@/cgroup.procs" \
  2>/dev/null; true"""
# Then every rule that names the guard, in both families, and the cgroup with what is left in
# it (recipe itself, a process the tutorial left running), each put back.
_REMOVE = r"""(
name=@NAME@
for t in iptables ip6tables; do
  rules=$($t -w 10 -S 2>/dev/null | grep -F -- "--comment $name " | sed 's/^-A /-D /')
  [ -z "$rules" ] ||
    printf '*filter\n%s\nCOMMIT\n' "$rules" | $t-restore -w 10 --noflush 2>/dev/null
done
g=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
if [ -n "$g" ] && [ -d "$g/$name" ]; then
  while read -r pid; do echo "$pid" > "$g@BACK@/cgroup.procs"; done < "$g/$name/cgroup.procs" \
    2>/dev/null
  rmdir "$g/$name" 2>/dev/null || { echo "LEFT the cgroup $g/$name"; exit 0; }
fi
for t in iptables ip6tables; do
  ! $t -w 10 -S 2>/dev/null | grep -qF -- "--comment $name " || echo "LEFT $t rules of $name"
done
)"""


@dataclass
class Guard:
    shell: Shell
    name: str
    back: str = "/"  # the cgroup the shell (and recipe) came from

    def fill(self, script: str) -> str:
        here = isinstance(self.shell, LocalShell)
        pids = str(os.getpid()) if here else ""
        back = "" if self.back == "/" else self.back
        return script.replace("@NAME@", self.name).replace("@PIDS@", pids).replace("@BACK@", back)


@contextmanager
def guarding(shell: Shell, script: Script) -> Iterator[None]:
    """A tutorial's run, guarded on each of its hosts; a script's or a recipe's, as it is (their
    commands are the author's own, not a page's)."""
    if not script.tutorial:
        yield
        return
    shells = [shell.on(role) for role in script.hosts] if script.hosts else [shell]
    guards: list[Guard] = []
    try:
        for one in shells:
            guard = Guard(one, PREFIX + secrets.token_hex(6))  # one per shell: two may share a host
            guards.append(guard)  # before it goes in: half a guard is taken back too
            why = install(guard)
            if why is not None:
                raise UserError(
                    f"cannot keep the tutorial's packets on this machine: {why}; "
                    "run it as root on a host with cgroup2 and iptables' cgroup match"
                )
        yield
    finally:
        left = [why for guard in guards for why in _removed(guard)]
        if left:
            message = f"the egress guard is still up: {left[0]}; remove it by hand"
            if sys.exc_info()[1] is None:
                raise UserError(message)
            print(f"recipe: {message}", file=sys.stderr)  # the run's own error goes on


def install(guard: Guard) -> str | None:
    """Guard the host; None when it holds, else why it could not."""
    said = guard.shell.output_of(guard.fill(_INSTALL)).strip().splitlines()
    last = said[-1] if said else "ERR the guard printed nothing"
    if not last.startswith("OK "):
        return last.removeprefix("ERR ")
    guard.back = last.split()[1]
    return None


def _removed(guard: Guard) -> list[str]:
    """Take the guard down; what could not be, one line each ([] when all went)."""
    try:
        guard.shell.output_of(guard.fill(_LEAVE))
        said = guard.shell.output_of(guard.fill(_REMOVE))
    except Exception as exc:  # a lost host: say so, and go on with the others
        return [f"{guard.name} on a host whose shell failed ({exc})"]
    return [line.removeprefix("LEFT ") for line in said.splitlines() if line.startswith("LEFT ")]
