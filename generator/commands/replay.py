"""`recipe replay | diff`: does a lab still behave as recorded? Re-run transcripts, or compare two.

A transcript is executable content: `recipe replay` runs every command in it, as root. Replay
only transcripts you trust as you would a script; `--dry-run` runs nothing.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from generator.commands.choices import Choice, choice_option
from generator.commands.library import recipe_dirs
from generator.commands.run import IdentityOption, StrictHostKeyOption
from generator.commands.stack_option import StackName
from generator.commands.tutorial import ImageOption, Replay, image_pairs, is_tutorial
from generator.errors import UserError
from generator.visible import plural, visible

IgnoreOption = Annotated[
    list[str] | None,
    typer.Option(
        "--ignore",
        help="JSON path to leave out when comparing JSON output, e.g. "
        "'[*].Containers.*.MacAddress' (repeatable).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout.")]


class Color(Choice):
    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


ColorOption = Annotated[
    Color, choice_option(Color, "--color", help="Colour the diffs: auto (on a terminal).")
]


def _colour(choice: Color) -> bool:
    if choice is not Color.AUTO:
        return choice is Color.ALWAYS
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def replay(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(help="Transcript files or directories of them, or Markdown tutorials."),
    ],
    host: Annotated[
        list[str] | None,
        typer.Option(
            "--host",
            help="Run here instead of on the recorded host(s); multi-host labs: one per role, or "
            "ROLE=HOST (as recipe run).",
            show_default=False,
        ),
    ] = None,
    identity: IdentityOption = None,
    strict_host_key: StrictHostKeyOption = False,
    recorded_commands: Annotated[
        bool,
        typer.Option(
            "--recorded-commands",
            help="Run the commands recorded in the transcript instead of rendering its recipe "
            "again (needed for plain scripts and recipes that no longer render).",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would run; run nothing.")
    ] = False,
    update: Annotated[
        bool,
        typer.Option("--update", help="Rewrite drifting transcripts with the new results."),
    ] = False,
    ignore: IgnoreOption = None,
    image: ImageOption = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", help="Default seconds per step (a step's own wins).", min=0.001),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress lines on stderr.")
    ] = False,
    as_json: JsonOption = False,
    color: ColorOption = Color.AUTO,
    stack: Annotated[
        list[StackName] | None,
        choice_option(
            StackName,
            "--stack",
            help="Replay each single-host transcript on nodes of this stack (repeatable: a "
            "matrix of lab x stack), made for it when none is up, and removed after.",
            show_default=False,
        ),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            "-j", "--jobs", metavar="<N>", help="With --stack: labs run at once, over the nodes."
        ),
    ] = 1,
    stack_golden: Annotated[bool, typer.Option("--stack-golden", hidden=True)] = False,
) -> None:
    """Re-run recorded transcripts and compare: exit 0 all match, 1 drift, 2 bad input."""
    from generator.lab import replay as engine

    colour = _colour(color)
    if stack or jobs != 1:
        from generator.commands import replay_stacks as on_stacks

        stacks = on_stacks.checked_stacks(stack or [], jobs, host, paths, bool(image))
        if any(is_tutorial(str(path)) for path in paths):  # a verdict per block per stack
            from generator.commands import tutorial_stacks

            tutorials = Replay(update, image_pairs(image), [], identity, strict_host_key)
            raise SystemExit(tutorial_stacks.check(tutorials, paths, stacks, timeout, quiet))
        run = on_stacks.StackRun(
            stacks, jobs, update, dry_run, as_json, colour, quiet, recipe_dirs(ctx), ignore or [],
            recorded_commands, identity, strict_host_key, timeout,
        )  # fmt: skip
        raise SystemExit(on_stacks.replay(paths, run))
    if any(is_tutorial(str(path)) for path in paths):  # a tutorial is checked by running it
        unused = [
            name
            for name, given in (
                ("--json", as_json),
                ("--ignore", ignore),
                ("--recorded-commands", recorded_commands),
            )
            if given
        ]
        if unused:
            raise UserError(
                f"{unused[0]} works with transcripts, not with a Markdown tutorial; "
                "leave it out (a tutorial is judged against its page, block by block)"
            )
        tutorials = Replay(update, image_pairs(image), host or [], identity, strict_host_key)
        raise SystemExit(tutorials.check(paths, timeout, quiet, dry_run))
    if image:
        raise UserError("--image works with Markdown tutorials (recipe replay TUTORIAL.md)")
    plans = _plans(paths, host, recipe_dirs(ctx), ignore or [], update, recorded_commands)
    if dry_run:
        _print_dry_run(plans, as_json)
        raise SystemExit(0)
    for plan in plans:  # every host checked before the first transcript connects anywhere
        engine.refuse_untrusted(plan)
    _preflight(plans)
    reports = [
        _replay_one(p, update, timeout, quiet, identity, strict_host_key, stack_golden)
        for p in plans
    ]
    _print_reports(reports, as_json, colour)
    raise SystemExit(0 if all(r.ok or r.updated and not r.problems for r in reports) else 1)


def _plans(
    paths: list[Path],
    host: list[str] | None,
    dirs: list[Path],
    ignore: list[str],
    update: bool,
    recorded_commands: bool,
) -> list[Any]:
    """Every transcript found (generator/transcript/files.py), read and planned before any runs."""
    from generator.lab import replay as engine
    from generator.transcript import files

    return [
        engine.plan(
            t,
            host=host,
            recipe_dirs=dirs,
            ignore=ignore,
            full=update and _rerecord(t, dirs, recorded_commands),
            recorded_commands=recorded_commands,
        )
        for t in files.read_all(files.find(paths))
    ]


def _rerecord(transcript: Any, dirs: list[Path], recorded_commands: bool) -> bool:
    """--update re-records a whole transcript when it is incomplete or its recipe changed."""
    from generator.lab import replay as engine

    if recorded_commands:
        return False  # the recorded commands are all there is to run
    probe = engine.plan(transcript, host=None, recipe_dirs=dirs)
    return probe.recipe is not None and (probe.incomplete or probe.recipe_changed)


def _preflight(plans: list[Any]) -> None:
    """The checks `recipe run` makes, once for every local replay, before anything runs."""
    from generator.lab import preflight

    findings = []
    for plan in plans:
        if plan.host != "local":
            continue
        recipe = plan.recipe
        requires = getattr(recipe, "requires", ())
        findings += preflight.for_run(requires, bool(getattr(recipe, "docker", False)))
    if findings:
        preflight.enforce(findings)


def _replay_one(
    plan: Any,
    update: bool,
    timeout: float | None,
    quiet: bool,
    identity: Path | None,
    strict_host_key: bool,
    stack_golden: bool = False,
) -> Any:
    """stack_golden (recipe replay --stack --update, docs/replay.md): the file is a stack's
    golden, so it keeps its recorded target, and is written whole when it came from another
    stack's (its host facts name that stack's userland, not this one's)."""
    from dataclasses import replace

    from generator import transcript as tr
    from generator.lab import progress
    from generator.lab import replay as engine

    if not quiet:
        print(
            visible(f"recipe: replaying {plan.path} on {plan.host}", one_line=True), file=sys.stderr
        )
    # Observed when the recording was, or when --update turns a version-1 file into one that
    # holds snapshots (a file recorded with --no-snapshots stays without).
    observe = bool(plan.recorded.snapshots) or (update and plan.recorded.version < 2)
    run = engine.run_plan(
        plan, progress.choose(quiet), timeout, identity, strict_host_key, snapshots=observe
    )
    report = engine.drift_report(plan, run.records, run.snapshots, run.reaches)
    if run.leftovers:
        report.problems.append("the replay left behind: " + ", ".join(run.leftovers))
    foreign = stack_golden and plan.recorded.header.facts.stack != run.header.facts.stack
    stale = not report.comparison.ok or plan.recipe_changed or plan.incomplete or foreign
    if update and (stale or not plan.recorded.snapshots):
        # Steps of two runs in one file only while no snapshot names their values: a kept
        # step's veth or MAC is unknown to the replay's snapshot and would drift next time.
        whole = plan.recipe_changed or plan.incomplete or run.snapshots or run.reaches or foreign
        if whole:
            header = run.header
            if stack_golden:  # where a plain replay runs it stays as it was
                header = replace(header, target=plan.recorded.header.target)
            new = tr.Transcript(
                header,
                tuple(run.records),
                run.outcome,
                snapshots=run.snapshots,
                reaches=run.reaches,
            )
        else:
            new = engine.merged(plan.recorded, run.records, report, run.outcome)
        engine.write_atomically(plan.path, new, plan.compare_options.redactor)
        report.updated = True
    return report


def _origin(plan: Any) -> str:
    """Where the listed commands come from, as the dry run says it."""
    recipe = plan.recorded.header.recipe
    if plan.commands == "transcript":
        return "commands recorded in the transcript" + (
            f", not rendered from recipe {recipe}" if recipe else ""
        )
    return f"recipe {recipe}"


def _print_dry_run(plans: list[Any], as_json: bool) -> None:
    if as_json:
        data = [
            {
                "path": str(p.path),
                "host": p.host,
                "recipe": p.recorded.header.recipe,
                "commands": p.commands,
                "recipe_changed": p.recipe_changed if p.commands == "recipe" else None,
                "untrusted_host": p.untrusted_host or None,
                "incomplete": p.incomplete,
                "notes": p.notes,
                "steps": [
                    {"index": s.index, "phase": s.phase, "command": s.command}
                    for s in p.script.all_steps
                ],
            }
            for p in plans
        ]
        print(json.dumps({"dry_run": True, "transcripts": data}, indent=2))
        return
    for p in plans:
        print(
            visible(
                f"{p.path}: would run {plural(len(p.script.steps), 'step')} and "
                f"{plural(len(p.script.teardown), 'teardown step')} on {p.host} ({_origin(p)})",
                one_line=True,
            )
        )
        for step in p.script.all_steps:
            where = "teardown" if step.phase == "teardown" else f"{step.index:>4}"
            first, *rest = step.command.split("\n")
            print(f"  [{where}] {visible(first)}")
            for line in rest:  # every line: a command's later lines run too
                print(f"  {'':>{len(where) + 2}} {visible(line)}")
        notes = p.notes + (["recipe changed since recording"] if p.recipe_changed else [])
        if p.untrusted_host:
            notes.append(
                f"would refuse to run: the transcript chose host {p.untrusted_host!r}; "
                "name it with --host"
            )
        for note in notes:
            print("  note: " + visible(note, one_line=True))


def _print_reports(reports: list[Any], as_json: bool, colour: bool) -> None:
    from generator.compare.driftreport import as_json as report_json
    from generator.compare.driftreport import text_lines

    if as_json:
        data = [report_json(r) for r in reports]
        drifting = len([r for r in reports if not r.ok])
        print(
            json.dumps({"ok": drifting == 0, "drifting": drifting, "transcripts": data}, indent=2)
        )
        return
    for report in reports:
        for line in text_lines(report, colour):
            print(line)


def diff(
    ctx: typer.Context,
    recorded: Annotated[Path, typer.Argument(help="The transcript to compare against.")],
    other: Annotated[Path, typer.Argument(help="Another run of the same steps.")],
    ignore: IgnoreOption = None,
    as_json: JsonOption = False,
    color: ColorOption = Color.AUTO,
) -> None:
    """Compare two transcripts without running anything: exit 0 same, 1 drift, 2 bad input."""
    from dataclasses import replace

    from generator import transcript as tr
    from generator.compare import reachdrift, sidebyside, statedrift
    from generator.compare.driftreport import TranscriptReport
    from generator.compare.for_transcript import recipe_for
    from generator.compare.runs import compare_runs
    from generator.compare.sides import between
    from generator.lab import replay as engine

    colour = _colour(color)
    # The recorded header says which recipe's patterns apply; then both files load at once.
    recipe = recipe_for(tr.read_header(recorded), recipe_dirs(ctx))
    sides = between(recorded, other)  # two recordings: neither is "replayed"
    options = replace(engine.compare_options(recipe, ignore or []), sides=sides)
    old_run, new_run = sidebyside.load_both(recorded, other, options)
    old, new = old_run.transcript, new_run.transcript
    notes = []
    if (old.header.recipe, old.header.params) != (new.header.recipe, new.header.params):
        notes.append("the two transcripts come from different recipes or parameters")
    for transcript in (old, new):
        if not transcript.complete:
            notes.append(f"{transcript.path} is incomplete ({transcript.status})")
    comparison = compare_runs(old_run.run, new_run.run, options)
    comparison.state, more = statedrift.compare(old.snapshots, new.snapshots, sides)
    if old.snapshots and not new.snapshots:
        more = [f"{other} holds no state snapshot: the observed state is not compared"]
    comparison.reach, reach_notes = reachdrift.compare(old.reaches, new.reaches, sides)
    more += reach_notes
    report = TranscriptReport(f"{recorded} vs {other}", comparison, notes=notes + more, sides=sides)
    if old.status != new.status:  # a run that failed (a leftover, say) is no run that passed
        report.problems.append(f"the run {old.status} in {recorded}, {new.status} in {other}")
    _print_reports([report], as_json, colour)
    raise SystemExit(0 if report.ok else 1)


def register(app: typer.Typer) -> None:
    app.command()(replay)
    app.command()(diff)
