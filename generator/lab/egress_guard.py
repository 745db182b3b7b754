"""While a tutorial runs, nothing it starts opens a connection off the machine.

The outside-the-lab check (tutorial_outside.py) reads a page's words; a word it cannot read
(`ping $IP`, `xargs ping`, `busybox wget`) must still send nothing. So, on each host of the run,
new connections out of the default route's devices are rejected: from the run's shell and every
process it starts (OUTPUT, matched by a cgroup the shell is moved into), and from every
namespace and container, whose packets the host forwards (FORWARD). Replies to connections made
before the run (an SSH session to the host) pass: only NEW is matched. Nothing is sent to find
out; the rules carry the guard's name in a comment and go when the run ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from generator.errors import UserError
from generator.lab.steps import Script
from generator.shell.base import Shell

# Runs in the lab's bash (`$$` is that shell even inside the subshell); prints one line: OK NAME
# or ERR why. The cgroup sits at the cgroup2 root, where `-m cgroup --path` looks.
_INSTALL = r"""(
g=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
[ -n "$g" ] || { echo "ERR no cgroup2 hierarchy is mounted"; exit 0; }
name=recipe-egress-guard-$$
if ! { mkdir -p "$g/$name" && echo $$ > "$g/$name/cgroup.procs"; } 2>/dev/null; then
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
    echo COMMIT
  } | $t-restore -w --noflush 2>/dev/null ||
    { echo "ERR $t-restore refused the guard's rules"; exit 0; }
done
echo "OK $name $devs"
)"""

# The shell goes back to the root cgroup first, as a command of its own: a subshell forked while
# it was inside would stay inside and keep the directory from going.
_LEAVE = r"""echo $$ > "$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)/cgroup.procs" \
  2>/dev/null; true"""
# Then every rule that names the guard, in both families, and the cgroup with what is left in it
# (a process the tutorial left running in the background).
_REMOVE = r"""(
name=recipe-egress-guard-$$
for t in iptables ip6tables; do
  rules=$($t -w -S 2>/dev/null | grep -F -- "--comment $name " | sed 's/^-A /-D /')
  [ -z "$rules" ] || printf '*filter\n%s\nCOMMIT\n' "$rules" | $t-restore -w --noflush 2>/dev/null
done
g=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
if [ -n "$g" ] && [ -d "$g/$name" ]; then
  while read -r pid; do echo "$pid" > "$g/cgroup.procs"; done < "$g/$name/cgroup.procs" 2>/dev/null
  rmdir "$g/$name" 2>/dev/null
fi
true
)"""


@contextmanager
def guarding(shell: Shell, script: Script) -> Iterator[None]:
    """A tutorial's run, guarded on each of its hosts; a script's or a recipe's, as it is (their
    commands are the author's own, not a page's)."""
    if not script.tutorial:
        yield
        return
    shells = [shell.on(role) for role in script.hosts] if script.hosts else [shell]
    guarded: list[Shell] = []
    try:
        for one in shells:
            why = install(one)
            if why is not None:
                raise UserError(
                    f"cannot keep the tutorial's packets on this machine: {why}; "
                    "run it as root on a host with cgroup2 and iptables' cgroup match"
                )
            guarded.append(one)
        yield
    finally:
        for one in guarded:
            remove(one)


def install(shell: Shell) -> str | None:
    """Guard the host the shell runs on; None when it holds, else why it could not."""
    said = shell.output_of(_INSTALL).strip().splitlines()
    last = said[-1] if said else "ERR the guard printed nothing"
    if last.startswith("OK "):
        return None
    remove(shell)  # half a guard is no guard: take back what went in
    return last.removeprefix("ERR ")


def remove(shell: Shell) -> None:
    shell.output_of(_LEAVE)
    shell.output_of(_REMOVE)
