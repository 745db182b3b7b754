"""What `recipe run` and `recipe replay` take from a Markdown tutorial: the file read as a
script (generator/tutorial, lab/tutorial_script.py) and `--image FROM=TO`."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from generator.errors import UserError
from generator.visible import plural, shown

if TYPE_CHECKING:
    from generator.commands.run import Target
    from generator.lab.steps import Script
    from generator.transcript.blocks import BlockVerdict
    from generator.tutorial.model import Tutorial

ImageOption = Annotated[
    list[str] | None,
    typer.Option(
        "--image",
        help="FROM=TO: run a tutorial's image FROM as the local image TO (e.g. alpine=busybox); "
        "the comparison reads TO in the output as FROM.",
        show_default=False,
    ),
]


def image_pairs(values: list[str] | None) -> tuple[tuple[str, str], ...]:
    """--image FROM=TO values, checked: both sides image names, no option or shell text."""
    pairs: list[tuple[str, str]] = []
    for value in values or []:
        source, sep, local = value.partition("=")
        name = re.compile(r"[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9._-]+)?")
        if not sep:
            raise UserError(f"--image {shown(value)}: needs FROM=TO, e.g. --image alpine=busybox")
        if not name.fullmatch(source) or not name.fullmatch(local):
            raise UserError(
                f"--image {shown(value)}: FROM and TO must be image names like alpine or "
                "busybox:latest"
            )
        if any(source == earlier for earlier, _ in pairs):
            raise UserError(f"--image {shown(source)}=... is given twice; give each FROM once")
        pairs.append((source, local))
    return tuple(pairs)


def is_tutorial(target: str) -> bool:
    return target.lower().endswith((".md", ".markdown", ".mdown"))


def tutorial_target(
    data: bytes, target: str, sets: list[str], images: tuple[tuple[str, str], ...]
) -> Target:
    from generator.commands.run import Target
    from generator.lab import script as script_format
    from generator.lab import tutorial_script
    from generator.tutorial import markdown

    if sets:
        raise UserError("--set works with a recipe name, not with a Markdown tutorial")
    text = script_format.decode(data, target)
    script = tutorial_script.to_script(markdown.parse(text, target), images)
    return Target(script, text, None, target)


def tutorial_hosts(script: Script, given: list[str]) -> list[str]:
    """ROLE=HOST for each of a tutorial's roles: `main` (the steps no `on ROLE` names) and each
    `on ROLE`. --host values go to the roles in that order, or by ROLE=HOST; a role left over
    runs where it says: `main` here, `on docker-node2` on docker-node2."""
    if not script.tutorial or not script.hosts:
        return given  # a recipe's roles each need their --host
    from generator.lab.tutorial_script import MAIN_ROLE
    from generator.shell.remote import assign

    defaults = {role: "local" if role == MAIN_ROLE else role for role in script.hosts}
    chosen = assign(given, script.hosts, defaults)
    return [f"{role}={host}" for role, host in chosen.items()]


@dataclass(frozen=True)
class Replay:
    """`recipe replay TUTORIAL.md [--update]`: run each tutorial again, say per block whether
    the page still holds, and with --update write what drifted back into the page."""

    update: bool
    images: tuple[tuple[str, str], ...]
    hosts: list[str]
    identity: Path | None
    strict_host_key: bool

    def check(self, paths: list[Path], timeout: float | None, quiet: bool, dry: bool) -> int:
        others = [str(p) for p in paths if not is_tutorial(str(p))]
        if others:
            raise UserError(
                f"{shown(others[0])}: replay takes Markdown tutorials or transcripts, not both "
                "in one call"
            )
        loaded = [(path, self.load(path)) for path in paths]  # every file read before any runs
        if dry:
            for path, (tutorial, script) in loaded:
                blocks, steps = len(tutorial.blocks), len(script.all_steps)
                print(f"{path}: {plural(blocks, 'block')}, {plural(steps, 'step')}")
            return 0
        codes = [
            self.one(path, tutorial, script, timeout, quiet)[0]
            for path, (tutorial, script) in loaded
        ]
        return max(codes, default=0)

    def load(self, path: Path) -> tuple[Tutorial, Script]:
        from generator.lab import script as script_format
        from generator.lab import tutorial_script
        from generator.tutorial import markdown

        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UserError(f"cannot read {shown(str(path))}: {exc.strerror or exc}") from None
        tutorial = markdown.parse(script_format.decode(data, str(path)), str(path))
        return tutorial, tutorial_script.to_script(tutorial, self.images)

    def one(
        self, path: Path, tutorial: Tutorial, script: Script, timeout: float | None, quiet: bool
    ) -> tuple[int, list[BlockVerdict]]:
        """Run one tutorial: (the exit status, the verdict of each block)."""
        from generator.lab import progress
        from generator.lab.runner import RunOptions
        from generator.lab.session import Lab, Session
        from generator.lab.tutorial_update import changes
        from generator.transcript.blocks import summary, verdicts

        session = Session(
            Lab(script, tutorial_hosts(script, self.hosts), self.identity, self.strict_host_key),
            RunOptions(timeout=timeout, snapshots=False),
            state_text=tutorial.text,
            listener=progress.choose(quiet),
        )
        report = session.run().report
        found = verdicts(report.records)
        if not quiet:
            progress.print_blocks(report.records, sys.stderr)
        if not self.update or report.signum is not None:
            return report.exit_code, found
        drifted = changes(tutorial, report.records, self.images)
        if drifted:
            from generator import atomicfile
            from generator.tutorial.update import rewrite

            atomicfile.write_text(path, rewrite(tutorial.text, drifted))
        print(
            f"recipe: {path}: updated the output of {plural(len(drifted), 'command')}; "
            f"{summary(found)}",
            file=sys.stderr,
        )
        # Updated, a block holds again; one that differs by its exit status still fails.
        still = [b for b in found if b.verdict == "differs" and not _output_only(b.reasons)]
        return (report.exit_code if still or report.leftovers else 0), found


def _output_only(reasons: list[str]) -> bool:
    """Whether every reason a block differs is an output --update rewrote (diff lines are
    indented); an exit status or a problem with no place stays."""
    said = [reason for reason in reasons if not reason.startswith("  ")]
    return all(reason.endswith("the output differs from the page") for reason in said)
