"""The walkthrough's claims, checked against recorded transcripts: docs/claims.toml -> a page.

A claim names a recipe, a step (by a regex on its command) and the condition under which the
claim is true of that step's recorded result. The verdict is computed, never written by hand, so
the page changes when a re-recorded transcript tells a different story.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.errors import UserError
from generator.transcript import StepRecord, Transcript
from generator.transcript.expectation import Expectation

QUOTE_LINES = 12

HOLDS, FAILS, UNSHOWN = "holds", "does not hold", "not shown"


@dataclass(frozen=True)
class Condition:
    """A claim's `holds_if`, in claims.toml's words; checked as a step's expectation is."""

    exit: str | None = None  # "zero" or "nonzero"; None: any exit status
    output: tuple[str, ...] = ()
    lacks: tuple[str, ...] = ()
    match: str | None = None

    @property
    def expectation(self) -> Expectation:
        """The same condition as generator/lab/script.py writes what a step must do."""
        exit_status: int | str = "any"
        if self.exit == "zero":
            exit_status = 0
        elif self.exit == "nonzero":
            exit_status = "nonzero"
        return Expectation(
            exit=exit_status,
            output=self.output,
            no_output=self.lacks,
            match=() if self.match is None else (self.match,),
        )

    def met_by(self, step: StepRecord) -> bool:
        return not self.expectation.problems(step.exit, step.stdout, step.stderr)


@dataclass(frozen=True)
class WalkthroughClaim:
    id: str
    section: str
    claim: str
    recipe: str
    step: str
    nth: int
    holds_if: Condition
    holds: str
    fails: str


@dataclass(frozen=True)
class Finding:
    claim: WalkthroughClaim
    verdict: str
    step: StepRecord | None
    transcript: Transcript | None
    note: str


def load_claims(path: Path) -> list[WalkthroughClaim]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"cannot read claims {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: invalid TOML: {exc}") from None
    claims = []
    for number, entry in enumerate(data.get("claim", []), start=1):
        try:
            claims.append(_claim(entry))
        except (KeyError, TypeError, ValueError, re.error) as exc:
            raise UserError(f"{path}: claim {number}: {exc}") from None
    ids = [c.id for c in claims]
    if len(set(ids)) != len(ids):
        raise UserError(f"{path}: claim ids must be unique")
    return claims


def _claim(entry: Mapping[str, Any]) -> WalkthroughClaim:
    cond = entry.get("holds_if", {})
    unknown = set(cond) - {"exit", "output", "lacks", "match"}
    if unknown:
        raise ValueError(f"holds_if has unknown keys {sorted(unknown)}")
    if cond.get("exit") not in (None, "zero", "nonzero"):
        raise ValueError('holds_if.exit must be "zero" or "nonzero"')
    re.compile(entry["step"])
    if cond.get("match"):
        re.compile(cond["match"])
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", str(entry["id"])):
        # The id is an HTML anchor and a link target on the claims page: a name, nothing more.
        raise ValueError(f"id {entry['id']!r} must be lowercase letters, digits and dashes")
    return WalkthroughClaim(
        id=str(entry["id"]),
        section=str(entry["section"]),
        claim=str(entry["claim"]),
        recipe=str(entry["recipe"]),
        step=str(entry["step"]),
        nth=int(entry.get("nth", 1)),
        holds_if=Condition(
            exit=cond.get("exit"),
            output=tuple(cond.get("output", ())),
            lacks=tuple(cond.get("lacks", ())),
            match=cond.get("match"),
        ),
        holds=str(entry["holds"]),
        fails=str(entry["fails"]),
    )


def find_step(transcript: Transcript, pattern: str, nth: int) -> StepRecord | None:
    """The nth main step whose command, or interactive program, the pattern finds."""
    regex = re.compile(pattern, re.MULTILINE)
    found = [
        s
        for s in transcript.main_steps
        if regex.search(s.command) or (s.interactive and regex.search(s.interactive))
    ]
    return found[nth - 1] if 0 < nth <= len(found) else None


def latest_for(recipe: str, transcripts: Iterable[Transcript]) -> Transcript | None:
    runs = [t for t in transcripts if t.header.recipe == recipe]
    return max(runs, key=lambda t: t.header.started) if runs else None


def check(claim: WalkthroughClaim, transcripts: Sequence[Transcript]) -> Finding:
    transcript = latest_for(claim.recipe, transcripts)
    if transcript is None:
        return Finding(claim, UNSHOWN, None, None, f"No transcript of {claim.recipe} was given.")
    step = find_step(transcript, claim.step, claim.nth)
    if step is None:
        note = f"The {claim.recipe} transcript has no step {claim.nth} matching /{claim.step}/."
        return Finding(claim, UNSHOWN, None, transcript, note)
    if claim.holds_if.met_by(step):
        return Finding(claim, HOLDS, step, transcript, claim.holds)
    return Finding(claim, FAILS, step, transcript, claim.fails)


def check_all(
    claims: Iterable[WalkthroughClaim], transcripts: Sequence[Transcript]
) -> list[Finding]:
    return [check(c, transcripts) for c in claims]


# ---- the page -----------------------------------------------------------------------------------


def quote(step: StepRecord) -> str:
    """The step as a console excerpt: the command, then at most QUOTE_LINES lines of output."""
    from generator.pages.markdown import container_screen
    from generator.pages.model import container_of

    if step.interactive:
        head = [f"$ {step.interactive}"]
        output = container_screen(step.stdout, container_of(step.interactive))
    else:
        first, *rest = step.command.rstrip("\n").split("\n")
        head = [f"$ {first}", *(f"> {line}" for line in rest)]
        joint = "\n" if step.stdout and not step.stdout.endswith("\n") else ""
        output = step.stdout + joint + step.stderr
    lines = output.rstrip("\n").split("\n") if output.strip() else []
    if len(lines) > QUOTE_LINES:
        lines = [*lines[:QUOTE_LINES], f"[... {len(lines) - QUOTE_LINES} more lines]"]
    return "\n".join([*head, *lines, f"[exit status {step.exit}]"]) + "\n"


def render(
    findings: Sequence[Finding], labs_link: str = "labs/", slugs: Mapping[str, str] | None = None
) -> str:
    """The claims page; `slugs` names each transcript's lab page (docs_model.assign_slugs)."""
    from generator.pages.markdown import cell, fence, md_target, md_text

    counts = {v: sum(1 for f in findings if f.verdict == v) for v in (HOLDS, FAILS, UNSHOWN)}
    out = [
        (
            "<!-- Generated by `recipe claims` from docs/claims.toml and the golden transcripts; "
            "edit those, not this page. -->"
        ),
        "",
        "# The walkthrough's claims, checked",
        "",
        "The walkthrough this project started from (`shared/walkthrough/`, in Chinese) makes "
        "claims",
        "about Linux and Docker networking, shown only in screenshots. Each claim below is checked",
        "against a step of a golden transcript recorded on today's stack; the verdict is computed",
        "from the recorded output by `recipe claims`, so it changes when the stack does.",
        "",
        f"**{counts[HOLDS]}** hold, **{counts[FAILS]}** do not hold today, **{counts[UNSHOWN]}** "
        + "are not shown by any transcript.",
        "",
        "| claim | verdict | evidence |",
        "|---|---|---|",
    ]
    for f in findings:
        link = f"[{cell(f.claim.claim)}]({md_target('#' + f.claim.id)})"
        out.append(f"| {link} | {f.verdict} | {_evidence(f, labs_link, slugs or {})} |")
    out.append("")
    for f in findings:
        out += [f'<a id="{f.claim.id}"></a>', "", f"## {md_text(f.claim.claim)}", ""]  # id: _claim
        out += [f"Walkthrough section: {md_text(f.claim.section)}", ""]
        if f.step is not None and f.transcript is not None:
            out += [f"What the transcript shows ({_evidence(f, labs_link, slugs or {})}):", ""]
            out += [fence(quote(f.step), "console"), ""]
        out += [f"**Verdict: {f.verdict}.** {md_text(f.note)}", ""]
        if f.transcript is not None:
            out += [f"<sub>{md_text(_stack(f.transcript))}</sub>", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _stack(transcript: Transcript) -> str:
    """The stack the verdict is about, as the transcript recorded it."""
    facts = transcript.header.facts
    parts = [
        ("kernel", facts.kernel),
        ("Docker", facts.docker),
        ("iproute2", facts.iproute2),
        ("busybox", facts.busybox.removesuffix(" multi-call binary.")),
        ("recorded", transcript.header.started),
    ]
    return "Recorded with " + "; ".join(f"{name} {value}" for name, value in parts if value) + "."


def _evidence(f: Finding, labs_link: str, slugs: Mapping[str, str]) -> str:
    from generator.pages.markdown import md_target, md_text
    from generator.pages.model import slug_of

    if f.transcript is None:
        return f"no {md_text(f.claim.recipe)} transcript"
    page = slugs.get(f.transcript.path) or slug_of(f.transcript.path or f.claim.recipe)
    if f.step is None:
        return f"[{md_text(page)}]({md_target(f'{labs_link}{page}.md')}): no such step"
    target = md_target(f"{labs_link}{page}.md#step-{f.step.index}")
    return f"[{md_text(page)}, step {f.step.index}]({target})"
