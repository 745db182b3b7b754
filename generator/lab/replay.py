"""Replay transcripts: run their steps again through the runner and compare with the recording.

A transcript is executable content: replaying one runs every command in it as root on the
target host. Replay only transcripts you would run as scripts. `--dry-run` reads, checks and
lists, and runs nothing.

Where a transcript came from a recipe, the recipe is rendered again with the recorded
parameters: the current recipe is what runs, and commands that differ from the recording are
reported as "recipe changed since recording". A transcript of a plain script replays the
commands it recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from generator import atomicfile
from generator import transcript as tr
from generator.compare import jsondata, reachdrift, statedrift
from generator.compare.driftreport import TranscriptReport
from generator.compare.for_transcript import normalization, recipe_for
from generator.compare.runs import UNORDERED, CompareOptions, compare
from generator.errors import UserError
from generator.lab import reach_directive
from generator.lab import script as script_format
from generator.lab.script import Script, Step
from generator.lab.snapshots import END_OF_MAIN
from generator.transcript import redact, state_names
from generator.transcript.records import ReachRecord, SnapshotRecord
from generator.visible import plural, shown

if TYPE_CHECKING:
    from generator.recipes.catalog import Recipe


@dataclass
class Plan:
    """What replaying one transcript will do, decided before anything runs."""

    path: Path
    recorded: tr.Transcript
    script: Script  # the steps to run, teardown included
    host: str  # where it runs, as the transcript's header writes it: local, HOST, ROLE=HOST,...
    compare_options: CompareOptions
    recipe: Recipe | None = None  # when the transcript came from a recipe this machine has
    recipe_changed: bool = False
    incomplete: bool = False
    notes: list[str] = field(default_factory=list)
    commands: str = "recipe"  # where the steps come from: "recipe" (rendered again) or "transcript"
    untrusted_host: str = ""  # a recorded host recipe will not reach unless --host names it again


def plan(
    recorded: tr.Transcript,
    *,
    host: Sequence[str] | None,
    recipe_dirs: Sequence[Path] = (),
    ignore: Sequence[str] = (),
    full: bool = False,
    recorded_commands: bool = False,
) -> Plan:
    """Decide the steps, host and normalization for one transcript.

    full=True runs every step of the recipe even when the recording is incomplete (re-recording
    with --update); otherwise only the steps it recorded run, then the teardown.
    recorded_commands=True runs the transcript's own commands; without it, a transcript whose
    recipe cannot be rendered again is refused: a transcript alone must not choose what runs.
    """
    path = Path(recorded.path)
    target = ",".join(host) if host else recorded.header.target or "local"
    untrusted = "" if host else untrusted_host(recorded.header.target or "local")
    incomplete = not recorded.complete
    notes: list[str] = []
    stopped = [s.index for s in recorded.steps if s.interrupted]
    if stopped:
        # A step a signal stopped holds only the output it had: run whole now, it would always
        # drift. The recording's whole steps are what a replay can check.
        recorded = replace(recorded, steps=tuple(s for s in recorded.steps if not s.interrupted))
        notes.append(f"step {stopped[0]} was stopped by a signal when recorded; not replayed")
    if incomplete:
        notes.append(_incomplete_note(recorded))
    if any(step.expect.shown for step in recorded.steps):
        # Its commands are a page's: they run only as a tutorial, checked and guarded.
        raise UserError(
            f"{shown(str(path))}: this is a Markdown tutorial's run; replay the tutorial itself: "
            f"recipe replay {shown(recorded.header.source or 'TUTORIAL.md')}"
        )
    if recorded_commands:
        rendered, recipe = None, recipe_for(recorded.header, recipe_dirs)
        notes.append("running the commands recorded in the transcript (--recorded-commands)")
    else:
        rendered, recipe = _render_recipe(recorded, recipe_dirs)
    options = compare_options(recipe, ignore)
    changed = False
    if rendered is not None:
        changed = _commands_changed(recorded, rendered, options.redactor)
        script = rendered if full else _like_recorded(rendered, recorded)
    else:
        script = _from_records(recorded)
    if not script.teardown:
        notes.append("no teardown recorded: nothing removes what the steps create")
    return Plan(
        path=path,
        recorded=recorded,
        script=script,
        host=target,
        compare_options=options,
        recipe=recipe,
        recipe_changed=changed,
        incomplete=incomplete,
        notes=notes,
        commands="transcript" if rendered is None else "recipe",
        untrusted_host=untrusted,
    )


def untrusted_host(target: str) -> str:
    """The first host of a recorded target (`HOST` or `ROLE=HOST`,...) recipe would not reach on
    the transcript's word alone: only this machine and recipe's own virtual nodes (those in the
    inventory `recipe hosts up` wrote) are; "" when every host is one of them."""
    from generator.hosts import inventory

    nodes: set[str] | None = None
    for part in target.split(","):
        name = part.partition("=")[2] if "=" in part else part
        if name == "local":
            continue
        if nodes is None:
            nodes = set(inventory.load())
        if name not in nodes:
            return name
    return ""


def refuse_untrusted(plan: Plan) -> None:
    """One line, before any connection, when the transcript chose a host the user did not."""
    if plan.untrusted_host:
        from generator.shell.ssh_target import refuse_stopped_virtual_node
        from generator.visible import visible

        refuse_stopped_virtual_node(plan.untrusted_host)  # recipe's own node, but not up
        shown = visible(plan.untrusted_host, one_line=True)
        raise UserError(
            f"{visible(str(plan.path), one_line=True)}: the transcript says it ran on {shown!r}, "
            "which is neither this machine nor a virtual node of `recipe hosts`; a transcript "
            f"does not choose where recipe connects: name the host yourself with --host {shown}"
        )


def compare_options(recipe: Recipe | None, ignore: Sequence[str] = ()) -> CompareOptions:
    """The recipe's own `[[normalize]]` patterns, ignore paths and unordered commands, plus the
    ignore paths given on the command line, and its `[[secret]]` patterns
    (generator/transcript/redact.py)."""
    found = normalization(recipe)
    try:
        parsed = tuple(jsondata.parse_path(p) for p in [*found.ignore, *ignore])
    except jsondata.PathError as exc:
        raise UserError(f"--ignore: {exc}") from None
    unordered = UNORDERED + found.unordered
    return CompareOptions(found.rules, parsed, unordered, redact.for_recipe(recipe))


def _incomplete_note(recorded: tr.Transcript) -> str:
    ran = len(recorded.main_steps)
    why = "the file was cut off" if recorded.truncated else f"the run ended {recorded.status}"
    return f"recording incomplete ({why}): replaying the {plural(ran, 'main step')} it recorded"


def _render_recipe(recorded: tr.Transcript, recipe_dirs: Sequence[Path]) -> tuple[Script, Recipe]:
    """The recipe rendered again with the recorded parameters; anything else is refused, since
    the alternative is running the transcript's own commands, which needs --recorded-commands.
    A broken recipe is the loader's own error (generator/compare/for_transcript.py)."""
    from generator.recipes import catalog as library
    from generator.recipes.render import render_script
    from generator.visible import visible

    name = recorded.header.recipe
    where = visible(recorded.path, one_line=True)
    flag = "replay its recorded commands with --recorded-commands if you trust it as a script"
    if not name:
        raise UserError(f"{where}: a plain script's transcript, with no recipe to render; {flag}")
    recipe = recipe_for(recorded.header, recipe_dirs)
    if recipe is None:
        raise UserError(
            f"{where}: recipe {visible(name)} cannot be rendered again (no recipe folder has it; "
            f"see `recipe list`); {flag}"
        )
    try:
        values = library.resolve(recipe, recorded.header.params)
        text = render_script(recipe, values)
    except UserError as exc:
        why = visible(exc.message, one_line=True)
        raise UserError(
            f"{where}: recipe {visible(name)} cannot be rendered again ({why}); {flag}"
        ) from None
    return script_format.parse(text, source=f"recipe {name}"), recipe


def _commands_changed(recorded: tr.Transcript, rendered: Script, redactor: redact.Redactor) -> bool:
    """True when a recorded command is not what the recipe renders today (or steps came or went).
    Both sides redacted: a command holding a secret was recorded with its marker."""
    old_main = [redactor.text(s.command) for s in recorded.main_steps]
    new_main = [redactor.text(s.command) for s in rendered.steps]
    if recorded.complete and len(old_main) != len(new_main):
        return True
    if old_main != new_main[: len(old_main)]:
        return True
    old_teardown = [redactor.text(s.command) for s in recorded.teardown_steps]
    new_teardown = [redactor.text(s.command) for s in rendered.teardown]
    return bool(old_teardown) and old_teardown != new_teardown


def _like_recorded(rendered: Script, recorded: tr.Transcript) -> Script:
    """The rendered script cut to the main steps the recording has (an incomplete one has fewer)."""
    if recorded.complete:
        return rendered
    return replace(rendered, steps=rendered.steps[: len(recorded.main_steps)])


def _from_records(recorded: tr.Transcript) -> Script:
    """A script made of the recorded commands with their recorded expectations, observed after
    the same steps as the recording was."""
    marks = {s.after_step: s.label for s in recorded.snapshots if s.label != END_OF_MAIN}
    probes = {
        r.after_step: reach_directive.of_lines(r.directives, f"{recorded.path}: reach {r.index}")
        for r in recorded.reaches
    }
    main = tuple(
        replace(_step(r), snapshot=marks.get(r.index), reach=probes.get(r.index))
        for r in recorded.main_steps
    )
    teardown = tuple(_step(r) for r in recorded.teardown_steps)
    roles = tuple(dict.fromkeys(r.role for r in recorded.steps if r.role))
    return Script(
        steps=main,
        teardown=teardown,
        source=str(recorded.path),
        hosts=roles,
        sha256=recorded.header.script_sha256,
    )


def _step(record: tr.StepRecord) -> Step:
    interactive = None
    if record.interactive is not None:
        # The typed lines live in the command's heredoc; the script reader knows how to get them.
        text = f"#@ interactive {record.interactive}\n{record.command}\n"
        steps = script_format.parse(text, source=f"step {record.index}").steps
        if not steps:  # the reader refuses this; a transcript built in memory may still hold it
            raise UserError(f"step {record.index}: an interactive step with an empty command")
        interactive = steps[0].interactive
    return Step(
        index=record.index,
        command=record.command,
        explanation=record.explanation,
        expect=record.expect,
        interactive=interactive,
        phase=record.phase,
        host=record.role,
        line=record.line,
    )


def drift_report(
    plan: Plan,
    records: Sequence[tr.StepRecord],
    snapshots: Sequence[SnapshotRecord] = (),
    reaches: Sequence[ReachRecord] = (),
) -> TranscriptReport:
    """Compare the replay's records with the recording's, phase by phase, and the state the
    replay observed with the recorded one."""
    recorded: Sequence[tr.StepRecord] = plan.recorded.steps
    notes = list(plan.notes)
    if plan.incomplete and not plan.recorded.teardown_steps:
        # The crash came before the teardown; the replay's teardown has nothing to match.
        records = [r for r in records if r.phase == "main"]
    names = (state_names.of_records(plan.recorded.snapshots), state_names.of_records(snapshots))
    comparison = compare(recorded, records, plan.compare_options, names)
    comparison.state, more = statedrift.compare(plan.recorded.snapshots, snapshots)
    notes += more
    comparison.reach, more = reachdrift.compare(plan.recorded.reaches, reaches)
    notes += more
    if plan.recipe_changed:
        notes.append("recipe changed since recording")
    return TranscriptReport(
        str(plan.path),
        comparison,
        plan.recipe_changed,
        plan.incomplete,
        notes=notes,
        commands=plan.commands,
    )


def merged(
    recorded: tr.Transcript,
    records: Sequence[tr.StepRecord],
    report: TranscriptReport,
    outcome: tr.Outcome,
) -> tr.Transcript:
    """The recording with each drifting step replaced by its replay; matching steps stay as
    recorded, byte for byte, so the file's diff in git shows only what changed. Only for runs
    without snapshots (the caller writes a whole replay otherwise)."""
    drifting = {d.index for d in report.comparison.drifts}
    new_by_index = {r.index: r for r in records}
    steps: list[tr.StepRecord] = []
    for step in recorded.steps:
        if step.index not in drifting:
            steps.append(step)
        elif step.index in new_by_index:  # a step that no longer runs is dropped
            steps.append(new_by_index[step.index])
    known = {s.index for s in recorded.steps}
    steps += [r for r in records if r.index not in known]
    return replace(recorded, steps=tuple(steps), outcome=outcome, truncated=False)


def write_atomically(
    path: Path, transcript: tr.Transcript, redactor: redact.Redactor = redact.BUILTIN
) -> None:
    """Replace path with the transcript in one rename; readers see the old file or the new. The
    replay's records hold the real output (only the comparison redacted it): redacted here."""
    text = tr.format_transcript(redactor.transcript(transcript))
    tr.parse(text, str(path))  # never write what we could not read back
    atomicfile.write_text(path, text)


@dataclass
class Run:
    """A replay's results: the records, how the run ended, and the header a re-recording gets."""

    records: list[tr.StepRecord]
    outcome: tr.Outcome
    header: tr.Header
    leftovers: list[str]
    snapshots: tuple[SnapshotRecord, ...] = ()
    reaches: tuple[ReachRecord, ...] = ()


def run_plan(
    plan: Plan,
    listener: object | None = None,
    timeout: float | None = None,
    identity: Path | None = None,
    strict_host_key: bool = False,
    snapshots: bool | None = None,
) -> Run:
    """Run the plan's steps through the runner on its host: one shell, teardown always.
    snapshots: observe the hosts as the run does; by default when the recording did (there is
    nothing to compare them with otherwise)."""
    from generator import __version__
    from generator.lab.listener import Listener
    from generator.lab.runner import RunOptions, outcome_of, utc_now
    from generator.lab.session import Lab, Session

    started = utc_now()
    # keep_going: a replay judges steps by comparison, so a step that now fails its
    # expectation must not stop the steps after it from being compared too.
    observe = bool(plan.recorded.snapshots) if snapshots is None else snapshots
    options = RunOptions(keep_going=True, timeout=timeout, snapshots=observe)
    refuse_untrusted(plan)  # again here: no caller reaches a host the transcript chose
    # The session, as `recipe run` has it: the name guard first, so a replay never tears down a
    # namespace or container someone else owns. The hosts as `recipe run` labelled them.
    lab = Lab(plan.script, plan.host.split(","), identity, strict_host_key, preflight=False)
    chosen = listener if isinstance(listener, Listener) else None
    finished = Session(lab, options, listener=chosen, want_facts=True).run()
    report, facts = finished.report, finished.facts
    assert facts is not None  # want_facts=True
    header = replace(
        plan.recorded.header,
        script_sha256=plan.script.sha256 or plan.recorded.header.script_sha256,
        target=plan.host,
        facts=facts,
        started=started,
        recorder=f"recipe {__version__} (replay)",
    )
    outcome = outcome_of(report)
    if report.signum is not None:
        raise KeyboardInterrupt  # the teardown ran; the replay itself stops here
    return Run(
        list(report.records),
        outcome,
        header,
        list(report.leftovers),
        finished.snapshots,
        finished.reaches,
    )
