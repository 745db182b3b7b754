"""The run's state snapshots (docs/state.md): per host, one before the first step, one at the end
of the main phase (before the teardown) and one after each `#@ snapshot` step.

The one before the lab is not recorded: it tells what was there already (the firewall's rules,
the machine's own links, docker0), so that a recorded snapshot says what the lab made and replay
compares only that. Taking a snapshot never fails the run: a host without `ip` or a Docker engine
gives a partial one, with the reason; a broken transport is the next step's problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from generator.errors import UserError
from generator.lab import observe, reach_hosts
from generator.lab.reach_directive import ReachSpec
from generator.shell.base import SessionLost, Shell
from generator.transcript import Recorder
from generator.transcript.records import ReachRecord, SnapshotRecord
from generator.transcript.state import Snapshot
from generator.transcript.state_names import preexisting

END_OF_MAIN = "end of main"


@dataclass
class _Host:
    role: str | None
    name: str
    before: Snapshot | None = None
    firewall: frozenset[str] | None = None


@dataclass
class Observer:
    """Takes and records the snapshots of one run on its hosts (roles: () for one host)."""

    shell: Shell
    target: str
    roles: tuple[str, ...] = ()
    docker: bool = True  # read Docker too; a lab that never calls docker made nothing there
    recorder: Recorder | None = None
    snapshots: bool = True  # record snapshots; False: only what `#@ reach` steps need
    taken: list[SnapshotRecord] = field(default_factory=list)
    reaches: list[ReachRecord] = field(default_factory=list)
    _hosts: list[_Host] = field(default_factory=list)

    def __post_init__(self) -> None:
        roles: tuple[str | None, ...] = self.roles or (None,)
        self._hosts = [_Host(role, role or self.target) for role in roles]

    def before(self) -> None:
        for host in self._hosts:
            shell = self.shell.on(host.role)
            try:
                host.firewall = observe.iptables_baseline(shell)
                host.before = observe.take(shell, host.name, docker=self.docker)
            except SessionLost:
                return

    def _now(self, host: _Host) -> Snapshot:
        """The host's state now, marked with what was there before the lab."""
        found = observe.take(self.shell.on(host.role), host.name, host.firewall, docker=self.docker)
        return replace(found, preexisting=preexisting(host.before, found))

    def after(self, step: int, label: str = END_OF_MAIN) -> None:
        """A snapshot of every host now, after step `step`, recorded at once."""
        if not self.snapshots:
            return
        for host in self._hosts:
            try:
                found = self._now(host)
            except SessionLost:
                return
            record = SnapshotRecord(len(self.taken) + 1, step, found, host.role, label)
            self.taken.append(record)
            if self.recorder is not None:
                self.recorder.snapshot(record)

    def reach(self, step: int, spec: ReachSpec) -> list[ReachRecord] | str:
        """Probe every pair on each host after step `step`, and record the matrices; or why it
        could not be probed (no lab standing, a rule that matches nothing): one line."""
        hosts = []
        for host in self._hosts:
            try:
                hosts.append(
                    reach_hosts.HostState(host.role, self.shell.on(host.role), self._now(host))
                )
            except SessionLost as lost:
                return f"lost the session to {host.name}: {lost}"
        try:
            matrices = reach_hosts.takes(hosts, spec)
        except UserError as exc:
            return str(exc)
        records = []
        for role, matrix in matrices:
            record = ReachRecord(len(self.reaches) + 1, step, matrix, spec.lines, role)
            self.reaches.append(record)
            records.append(record)
            if self.recorder is not None:
                self.recorder.reach(record)
        return records
