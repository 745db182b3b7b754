"""`recipe run | clean | doctor`: run a lab step by step (a recipe, a script or a Markdown
tutorial), remove a kept or crashed lab, check the machine."""

from __future__ import annotations

import json
import re
import stat
import sys
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, BinaryIO

import typer

from generator.commands.library import (
    JsonOption,
    SetOption,
    complete_recipe,
    print_json,
    recipe_dirs,
)
from generator.commands.stack_option import StackOption, on_stack
from generator.commands.tutorial import (
    ImageOption,
    image_pairs,
    is_tutorial,
    tutorial_hosts,
    tutorial_target,
)
from generator.errors import UserError
from generator.lab import script as script_format
from generator.lab.script import Script
from generator.recipes import catalog as library
from generator.visible import plural, shown

TRANSCRIPTS = Path("transcripts")
# A rendered lab is a few KB; far more is the wrong file (an image, a log, /dev/zero's endless
# stream), and reading it all would only end in an out-of-memory kill.
MAX_SCRIPT_BYTES = 10 * 1024 * 1024

# Shared with `recipe replay`, which reaches hosts the same way.
IdentityOption = Annotated[
    Path | None, typer.Option("--identity", "-i", help="SSH private key for --host.")
]
StrictHostKeyOption = Annotated[
    bool, typer.Option("--strict-host-key", help="Refuse a host whose SSH key is not known yet.")
]


@dataclass(frozen=True)
class Target:
    script: Script
    text: str
    recipe: library.Recipe | None
    label: str  # recipe name, file, or "-"


def load_target(
    ctx: typer.Context,
    target: str | None,
    sets: list[str],
    images: tuple[tuple[str, str], ...] = (),
) -> Target:
    """A recipe name (rendered with --set), a script file, a Markdown tutorial, or `-`/nothing
    for stdin."""
    if target in (None, "-"):
        if target is None and sys.stdin.isatty():
            raise UserError(
                "no target: give a recipe name, a script file, or pipe a script "
                "(recipe render NAME | recipe run)"
            )
        data = _read_capped(sys.stdin.buffer, "the script on stdin")
        return _script_target(ctx, script_format.parse_bytes(data, "<stdin>"), data, "-", sets)
    path = Path(target)
    kind = _file_kind(path)
    named = shown(target)  # a name with escape codes or 100 kB of it is echoed safely
    # A directory without a slash is a recipe name that happens to match one (recipes/ holds a
    # directory per recipe); any other existing file is meant as a script.
    if (
        kind not in (None, "directory")
        or "/" in target
        or target.endswith(".sh")
        or is_tutorial(target)
    ):
        if kind == "directory":
            raise UserError(f"{named} is a directory; give a script file or a recipe name")
        if kind not in (None, "regular file"):
            # Opening a FIFO would wait for a writer; a device may never end (/dev/zero).
            raise UserError(
                f"{named} is a {kind}, not a script file; give a script file, or redirect it to "
                f"stdin to read a script from it: recipe run - < {named}"
            )
        try:
            with path.open("rb") as stream:
                data = _read_capped(stream, named)
        except OSError as exc:
            raise UserError(f"cannot read script {named}: {exc.strerror or exc}") from None
        if is_tutorial(target):
            return tutorial_target(data, target, sets, images)
        if images:
            raise UserError("--image works with a Markdown tutorial (recipe run TUTORIAL.md)")
        if _looks_like_markdown(data):
            raise UserError(
                f"{named} looks like Markdown (it has code fences); name it .md to run it as a "
                "tutorial"
            )
        return _script_target(ctx, script_format.parse_bytes(data, target), data, target, sets)
    if images:
        raise UserError("--image works with a Markdown tutorial (recipe run TUTORIAL.md)")
    from generator.recipes.render import render_script

    recipe = library.load(target, recipe_dirs(ctx))
    values = library.resolve(recipe, library.parse_assignments(sets))
    text = render_script(recipe, values)
    return Target(script_format.parse(text, source=target), text, recipe, target)


def _file_kind(path: Path) -> str | None:
    """What PATH is (following symlinks), or None when nothing is there."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    kinds = [
        (stat.S_ISREG, "regular file"),
        (stat.S_ISDIR, "directory"),
        (stat.S_ISFIFO, "FIFO (named pipe)"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISSOCK, "socket"),
    ]
    return next((name for test, name in kinds if test(mode)), "special file")


def _read_capped(stream: BinaryIO, what: str) -> bytes:
    """The whole script, or one line naming the cap when it is bigger (stdin may never end)."""
    data = stream.read(MAX_SCRIPT_BYTES + 1)
    if len(data) > MAX_SCRIPT_BYTES:
        raise UserError(
            f"{what} is larger than {MAX_SCRIPT_BYTES // (1024 * 1024)} MB; a lab script is a "
            "few KB: give the rendered script (recipe render NAME > lab.sh)"
        )
    return data


def _looks_like_markdown(data: bytes) -> bool:
    """Fenced blocks and no `#!` line: a page, which bash would run fences and prose of."""
    fences = re.findall(rb"^[ \t]*(?:```|~~~)", data[:65536], re.M)
    return len(fences) >= 2 and not data.startswith(b"#!")


def _script_target(
    ctx: typer.Context, script: Script, data: bytes, label: str, sets: list[str]
) -> Target:
    if sets:
        raise UserError(
            "--set works with a recipe name; a rendered script already carries its parameters"
        )
    recipe = None
    if script.recipe:  # the recipe it came from says which tools it needs, when we know it
        try:
            recipe = library.load(script.recipe, recipe_dirs(ctx))
        except UserError:
            recipe = None
    return Target(script, data.decode("utf-8"), recipe, label)


def default_record_path(name: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = TRANSCRIPTS / f"{name}-{stamp}.transcript"
    number = 1
    while path.exists():
        number += 1
        path = TRANSCRIPTS / f"{name}-{stamp}-{number}.transcript"
    return path


def run(
    ctx: typer.Context,
    target: Annotated[
        str | None,
        typer.Argument(
            help="Recipe name, rendered script file, Markdown tutorial (.md), or - for stdin.",
            autocompletion=complete_recipe,
        ),
    ] = None,
    set_: SetOption = None,
    host: Annotated[
        list[str] | None,
        typer.Option(
            "--host",
            help="Where to run: local (default), a node of `recipe hosts`, a Vagrant machine, a "
            "~/.ssh/config host or [user@]host[:port]. "
            "Multi-host labs: one per role (or ROLE=HOST).",
            show_default=False,
        ),
    ] = None,
    stack: StackOption = None,
    identity: IdentityOption = None,
    strict_host_key: StrictHostKeyOption = False,
    image: ImageOption = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout", help="Default seconds per step (a step's own #@ timeout wins).", min=0.001
        ),
    ] = None,
    keep: Annotated[
        bool, typer.Option("--keep", help="Leave the lab standing: no teardown.")
    ] = False,
    keep_going: Annotated[
        bool, typer.Option("--keep-going", help="Go on after a step contradicts its expectation.")
    ] = False,
    record: Annotated[
        Path | None,
        typer.Option(
            "--record",
            help="Transcript file [default: transcripts/<recipe>-<UTC time>.transcript].",
        ),
    ] = None,
    no_record: Annotated[bool, typer.Option("--no-record", help="Write no transcript.")] = False,
    no_snapshots: Annotated[
        bool,
        typer.Option(
            "--no-snapshots",
            help="Observe no state: the transcript holds the steps only, and replay compares "
            "only their output.",
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress lines on stderr.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a summary as JSON on stdout.")
    ] = False,
) -> None:
    """Run a lab step by step: check each step, record a transcript, always tear down."""
    from generator.lab import progress
    from generator.lab.labstate import lab_name
    from generator.lab.runner import RunOptions
    from generator.lab.session import Lab, Recording, Session
    from generator.transcript import redact

    loaded = load_target(ctx, target, list(set_ or []), image_pairs(image))
    script = loaded.script
    redactor = redact.for_recipe(loaded.recipe)  # a broken [[secret]]: stopped before anything runs
    if record is not None and no_record:
        raise UserError("--record and --no-record contradict each other; choose one")
    if not script.steps:
        raise UserError(f"{loaded.label}: no steps to run")
    name = lab_name(script.recipe, script.sha256)
    recording = None
    if not no_record:
        # A default name is never taken from another run started in the same second.
        destination = record or default_record_path(name)
        recording = Recording(destination, loaded.label, unique=record is None, redactor=redactor)
    options = RunOptions(
        keep=keep, keep_going=keep_going, timeout=timeout, snapshots=not no_snapshots
    )
    roles = () if script.tutorial else tuple(script.hosts)
    with on_stack(stack, host or [], roles) as hosts:
        session = Session(
            Lab(script, tutorial_hosts(script, hosts), identity, strict_host_key, loaded.recipe),
            options,
            recording=recording,
            state_text=loaded.text,
            listener=progress.choose(quiet),
        )
        finished = session.run()
    report, path = finished.report, finished.transcript
    try:
        if not quiet:
            if script.tutorial:
                progress.print_blocks(report.records, sys.stderr)
            print(progress.summary_line(report, str(path) if path else None), file=sys.stderr)
        if as_json:
            from generator.commands.run_json import summary

            print(json.dumps(summary(report, name, path, script.tutorial), indent=2))
    except OSError:
        if report.signum is None:
            raise
        # After SIGHUP the terminal is gone: the lab is down and the transcript written, so the
        # exit status still says what happened.
    raise SystemExit(report.exit_code)


def clean(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Argument(
            help="Recipe name (or script file) of the lab to remove.",
            autocompletion=complete_recipe,
        ),
    ] = None,
    set_: SetOption = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress lines on stderr.")
    ] = False,
) -> None:
    """Remove a lab that a run kept (--keep) or left behind: run its teardown. Safe to repeat."""
    from generator.lab import labstate, preflight, progress
    from generator.lab.runner import Runner, RunOptions
    from generator.lab.session import Lab, connect_hosts

    if name is None:
        standing = labstate.standing()
        raise UserError(
            "which lab? "
            + (
                f"standing: {', '.join(standing)}"
                if standing
                else "no kept or crashed labs are recorded"
            )
        )
    state = labstate.load(name)
    if state is not None:
        if set_:
            raise UserError(f"{name} was kept with its own parameters; --set does not apply")
        script = _saved_script(state.script, f"saved state of {name}")
    else:
        script = load_target(ctx, name, list(set_ or [])).script
    where = state.host.split(",") if state is not None and state.host != "local" else []
    if not where:
        preflight.enforce([preflight.check_root()])
    shell, _ = connect_hosts(Lab(script, where))  # a lab kept on remote hosts is removed there
    from generator.lab.egress_guard import guarding

    with shell, guarding(shell, script):  # a page's clean-up is still a page's
        options = RunOptions(check_leftovers=False)
        report = Runner(
            replace(script, steps=()), shell, options, None, progress.choose(quiet)
        ).run()
    if state is None:
        labstate.forget(labstate.lab_name(script.recipe, script.sha256))
    else:
        labstate.forget(name, state.run)  # only this run's record: another run may stand too
    if not quiet:
        ran = plural(len(report.records), "teardown step")
        print(f"recipe: {name}: ran {ran}", file=sys.stderr)
        if state is not None and (others := labstate.count(name)):
            print(
                f"recipe: {name}: {plural(others, 'more run')} recorded as standing; run "
                f"recipe clean {name} again to remove the next",
                file=sys.stderr,
            )
    raise SystemExit(report.exit_code)


def _saved_script(text: str, source: str) -> Script:
    """A kept lab's saved text: a tutorial's page (its fences tell) or a script."""
    if re.search(r"^[ \t]*(```|~~~)", text, re.M):
        from generator.lab import tutorial_script
        from generator.tutorial import markdown

        return tutorial_script.to_script(markdown.parse(text, source))
    return script_format.parse(text, source=source)


def doctor(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List every problem that would stop or silently break a lab on this machine."""
    from generator.lab import preflight

    tools = [tool for recipe in library.load_all(recipe_dirs(ctx)) for tool in recipe.requires]
    findings = preflight.for_doctor(tools)
    errors = len([f for f in findings if f.level == "error"])
    warnings = len([f for f in findings if f.level == "warning"])
    if as_json:  # docs/schemas/doctor.json
        found = [{"level": f.level, "message": f.message} for f in findings]
        print_json({"findings": found, "errors": errors, "warnings": warnings})
    else:
        for finding in findings:
            print(finding)
    print(f"{plural(errors, 'error')}, {plural(warnings, 'warning')}", file=sys.stderr)
    # 2, as `recipe run` exits when its preflight finds the same errors: 1 means a lab ran and
    # contradicted its expectations, which doctor never does.
    raise SystemExit(2 if errors else 0)


def register(app: typer.Typer) -> None:
    app.command()(run)
    app.command()(clean)
    app.command()(doctor)
