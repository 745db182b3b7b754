"""The lab session: everything between a loaded script and a finished run, for `recipe run` and
`recipe replay` alike.

In order: reach every host (and, on this machine, check root, tools and Docker first), refuse
names that exist already, check the transcript can be saved, save the lab-state record that
`recipe clean` needs, gather the host facts for the header, run the steps through the runner
with the recorder, and forget the lab state once the teardown left nothing. Nothing is recorded
as standing before the hosts are reached and the names checked, so a refused run leaves nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from generator import __version__
from generator.errors import UserError
from generator.lab import egress_guard, labstate, preflight
from generator.lab.listener import Listener
from generator.lab.runner import Report, Runner, RunOptions, utc_now
from generator.lab.script import Script
from generator.lab.snapshots import Observer
from generator.lab.verdict import uses_docker
from generator.recipes.catalog import Recipe
from generator.shell.base import Shell
from generator.shell.multi import RoleShells
from generator.shell.remote import LOCAL, assign, one
from generator.transcript import Header, Recorder, check_destination, redact
from generator.transcript.facts import HostFacts, gather
from generator.transcript.records import ReachRecord, SnapshotRecord


@dataclass(frozen=True)
class Lab:
    """What to run and where: the script, the --host values (none: this machine), and how to
    reach them. `recipe` is the recipe the script came from, when known: its requirements are
    checked before a run on this machine (preflight=False skips that, as replay does)."""

    script: Script
    hosts: Sequence[str] = ()
    identity: Path | None = None
    strict_host_key: bool = False
    recipe: Recipe | None = None
    preflight: bool = True


@dataclass(frozen=True)
class Recording:
    """Where the transcript goes. unique: a default name, which never replaces another run's
    transcript (the next free `NAME-2.transcript` is taken instead)."""

    path: Path
    source: str
    unique: bool = False
    redactor: redact.Redactor = redact.BUILTIN


@dataclass(frozen=True)
class Finished:
    report: Report
    target: str  # how the hosts are written in a transcript: HOST, or ROLE=HOST,... per role
    transcript: Path | None  # the name the transcript got
    facts: HostFacts | None  # gathered when recording, or when asked for (replay)
    snapshots: tuple[SnapshotRecord, ...] = ()  # the observed state, as recorded
    reaches: tuple[ReachRecord, ...] = ()  # the `#@ reach` matrices, as recorded


@dataclass
class Session:
    lab: Lab
    options: RunOptions
    recording: Recording | None = None
    state_text: str | None = None  # the script text to save for `recipe clean`; None: no record
    listener: Listener | None = None
    want_facts: bool = False

    def run(self) -> Finished:
        script = self.lab.script
        shell, target = connect_hosts(self.lab)
        if target == LOCAL and self.lab.preflight:
            recipe = self.lab.recipe
            requires = recipe.requires if recipe else ()
            preflight.enforce(preflight.for_run(requires, bool(recipe and recipe.docker)))
        else:
            shell.start()  # reach every host before anything is recorded as standing
        refuse_taken_names(shell, script)
        if self.recording is not None:
            try:  # now, not after the run: a lab whose transcript cannot be saved is wasted work
                check_destination(self.recording.path, chosen=not self.recording.unique)
            except UserError:
                shell.close()
                raise
        name = labstate.lab_name(script.recipe, script.sha256)
        state = None
        with shell, egress_guard.guarding(shell, script):
            if self.state_text is not None:
                record = labstate.LabState(
                    name, self.state_text, dict(script.params), target, self.options.keep
                )
                state = labstate.save(record)
            facts = host_facts(shell) if self.recording or self.want_facts else None
            recorder = self._recorder(target, facts)
            observer = None
            probes = any(step.reach is not None for step in script.steps)
            if self.options.snapshots or probes:
                observer = Observer(
                    shell,
                    target,
                    script.hosts,
                    uses_docker(script),
                    recorder,
                    snapshots=self.options.snapshots,
                )
            report = Runner(script, shell, self.options, recorder, self.listener, observer).run()
            taken = tuple(observer.taken) if observer is not None else ()
            reaches = tuple(observer.reaches) if observer is not None else ()
        self._check_declared(taken)
        done = not self.options.keep and not report.leftovers and report.status != "incomplete"
        if state is not None and done:
            labstate.forget(name, state.run)  # torn down and checked: nothing left to clean
        path = recorder.path if recorder is not None else None
        return Finished(report, target, path, facts, taken, reaches)

    def _check_declared(self, taken: Sequence[SnapshotRecord]) -> None:
        """Say where the recipe's declared topology and the observed state disagree: the page
        draws what was observed, and the declaration is for checking it."""
        recipe = self.lab.recipe
        if recipe is None or not taken or self.listener is None:
            return
        from generator.compare.declared import check_declared
        from generator.recipes.catalog import resolve
        from generator.recipes.topology import render_topology

        try:
            topology = render_topology(recipe.directory, resolve(recipe, self.lab.script.params))
        except UserError as exc:  # the run is over: say it, never lose its report for it
            self.listener.note(f"topology: {exc}")
            return
        for line in check_declared(topology, taken, self.lab.script.hosts):
            self.listener.note(f"topology: {line}")

    def _recorder(self, target: str, facts: HostFacts | None) -> Recorder | None:
        if self.recording is None or facts is None:
            return None
        script = self.lab.script
        header = Header(
            recipe=script.recipe,
            params=dict(script.params),
            script_sha256=script.sha256,
            source=self.recording.source,
            target=target,
            facts=facts,
            started=utc_now(),
            recorder=f"recipe {__version__}",
        )
        recording = self.recording
        return Recorder(
            recording.path, header, unique=recording.unique, redactor=recording.redactor
        )


def connect_hosts(lab: Lab) -> tuple[Shell, str]:
    """The shell the runner uses (not started yet), and how the run's target is written in the
    transcript. A single-host script takes one --host; a multi-host one (`#@ hosts ROLE...`) one
    per role, in the order of its roles or as ROLE=HOST."""
    script, hosts = lab.script, list(lab.hosts)
    if not script.hosts:
        if len(hosts) > 1:
            raise UserError(f"{script.source} runs on one host; give --host once")
        host = hosts[0] if hosts else LOCAL
        return one(host, lab.identity, lab.strict_host_key), host
    unknown = sorted({s.host for s in script.all_steps if s.host and s.host not in script.hosts})
    if unknown:
        raise UserError(f"{script.source}: steps run on {', '.join(unknown)}, not among its hosts")
    roles = assign(hosts, script.hosts)
    shells = {role: one(host, lab.identity, lab.strict_host_key) for role, host in roles.items()}
    label = ",".join(host if host == role else f"{role}={host}" for role, host in roles.items())
    return RoleShells(shells), label


def refuse_taken_names(shell: Shell, script: Script) -> None:
    """Run the script's name guards (generator/recipes/guard.py) before anything is recorded as
    standing, each on the host it is for: a teardown over someone else's namespace, container or
    swarm would delete it."""
    if not script.guards:
        return
    shell.start()
    for role, lines in script.guards:
        on = shell.on(role or None)  # a single shell is its own, whatever the role
        taken = on.run(f"(\n{lines}\n)", timeout=60)  # a subshell: its exit 2 spares the session
        if taken.exit != 0:
            shell.close()
            found = taken.stderr.strip().splitlines() or [f"the name guard exited {taken.exit}"]
            where = f"{role}: " if role else ""
            raise UserError(where + found[0].removeprefix("lab.sh: "))


def host_facts(shell: Shell) -> HostFacts:
    """The header's facts; a multi-host lab's are the first role's, with every host named."""
    if not isinstance(shell, RoleShells):
        return gather(shell.output_of)
    facts = [gather(role_shell.output_of) for role_shell in shell.shells.values()]
    hosts = ",".join(f"{role}={f.host}" for role, f in zip(shell.shells, facts, strict=True))
    return replace(facts[0], host=hosts)
