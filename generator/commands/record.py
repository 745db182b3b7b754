"""`recipe record`: type a lab in an interactive bash; get a script that replays it, a transcript,
and a machine as clean as before (docs/record.md)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from generator.commands.run import IdentityOption, StrictHostKeyOption, default_record_path
from generator.errors import UserError
from generator.visible import plural, shown


def default_script_path() -> Path:
    """`recorded-<UTC time>.sh` here; the recording takes the next free name, never replacing."""
    return Path(f"recorded-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.sh")


def check_script_path(path: Path) -> None:
    """One line, before anything runs, for an -o that cannot be written."""
    named = shown(str(path))
    if path.is_dir():
        raise UserError(f"-o {named}: is a directory; name a file in it, e.g. {path / 'lab.sh'}")
    if path.exists() and not path.is_file():
        raise UserError(f"-o {named}: exists and is not a regular file; choose another path")
    parent = path.parent
    if not parent.is_dir():
        what = "does not exist" if not parent.exists() else "is not a directory"
        raise UserError(f"-o {named}: directory {parent} {what}; create it or choose another path")


def record(
    host: Annotated[
        str | None,
        typer.Option(
            "--host",
            help="Record on this host over SSH: a node of `recipe hosts`, a Vagrant machine, a "
            "~/.ssh/config host or [user@]host[:port] [default: this machine].",
            show_default=False,
        ),
    ] = None,
    identity: IdentityOption = None,
    strict_host_key: StrictHostKeyOption = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="The script to write [default: ./recorded-<UTC time>.sh]."
        ),
    ] = None,
    record_to: Annotated[
        Path | None,
        typer.Option(
            "--record", help="Transcript file [default: transcripts/record-<UTC time>.transcript]."
        ),
    ] = None,
    keep: Annotated[
        bool, typer.Option("--keep", help="Leave what the session made standing: no teardown.")
    ] = False,
) -> None:
    """Record an interactive bash session as a lab: each command becomes a step."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UserError("recipe record needs a terminal: run it in one, with no redirection")
    from generator.lab.record_session import RecordOptions
    from generator.lab.record_session import record as run_recording
    from generator.transcript import check_destination

    script = output or default_script_path()
    check_script_path(script)
    transcript = record_to or default_record_path("record")
    check_destination(transcript, chosen=record_to is not None)
    options = RecordOptions(
        script=script,
        script_chosen=output is not None,
        transcript=transcript,
        transcript_chosen=record_to is not None,
        host=host,
        identity=identity,
        strict_host_key=strict_host_key,
        keep=keep,
    )
    done = run_recording(options)
    print(_summary(done), file=sys.stderr)
    if done.problem:
        print(f"recipe: warning: {done.script}: {done.problem}", file=sys.stderr)
    raise SystemExit(done.exit_code)


def _summary(done: object) -> str:
    from generator.lab.record_session import Recorded

    assert isinstance(done, Recorded)
    made = ", ".join(f"{kind} {name}" for kind, name in done.teardown.removes) or "nothing"
    if not done.torn_down:
        what = f"left standing: {made} (recipe clean {done.script} removes it)"
    elif done.leftovers:
        what = f"removed {made}, but left behind: {', '.join(done.leftovers)}"
    else:
        what = f"removed {made}"
    wrote = f"wrote {done.script} and {done.transcript}"
    return f"recipe: recorded {plural(done.steps, 'step')}: {wrote}; {what}"


def register(app: typer.Typer) -> None:
    app.command()(record)
