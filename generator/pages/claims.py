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
from generator.pages import stacks
from generator.transcript import StepRecord, Transcript
from generator.transcript.expectation import Expectation

QUOTE_LINES = 12

HOLDS, FAILS, UNSHOWN, UNRECORDED = "holds", "does not hold", "not shown", "not recorded"
EXPECTS = (HOLDS, FAILS)


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
    expect: str = HOLDS  # the verdict claims.toml settles on: "holds" or "does not hold"


@dataclass(frozen=True)
class Finding:
    claim: WalkthroughClaim
    verdict: str
    step: StepRecord | None
    transcript: Transcript | None
    note: str
    stack: str = ""  # the stack of the transcripts it was checked on (generator/pages/stacks.py)

    @property
    def failed(self) -> bool:
        """A claim expected to hold that does not; not shown or not recorded is no failure."""
        return self.verdict == FAILS and self.claim.expect == HOLDS


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
    if entry.get("expect", HOLDS) not in EXPECTS:
        raise ValueError('expect must be "holds" or "does not hold"')
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
        expect=str(entry.get("expect", HOLDS)),
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


def check(claim: WalkthroughClaim, transcripts: Sequence[Transcript], stack: str = "") -> Finding:
    """The claim on one stack's transcripts."""
    transcript = latest_for(claim.recipe, transcripts)
    if transcript is None:
        where = f" on {stacks.title_of(stack)}" if stack else ""
        note = f"No transcript of {claim.recipe} was recorded{where}."
        return Finding(claim, UNRECORDED, None, None, note, stack)
    step = find_step(transcript, claim.step, claim.nth)
    if step is None:
        note = f"The {claim.recipe} transcript has no step {claim.nth} matching /{claim.step}/."
        return Finding(claim, UNSHOWN, None, transcript, note, stack)
    if claim.holds_if.met_by(step):
        return Finding(claim, HOLDS, step, transcript, claim.holds, stack)
    return Finding(claim, FAILS, step, transcript, claim.fails, stack)


@dataclass(frozen=True)
class Table:
    """Every claim's verdict on every stack: `stacks` in order (the base first), and per claim
    one finding per stack, in that order."""

    stacks: tuple[str, ...]
    rows: tuple[tuple[WalkthroughClaim, tuple[Finding, ...]], ...]

    @property
    def findings(self) -> list[Finding]:
        return [f for _, found in self.rows for f in found]

    @property
    def failures(self) -> list[Finding]:
        """Claims expected to hold that do not on some stack: `recipe claims` exits 1."""
        return [f for f in self.findings if f.failed]

    def on(self, stack: str) -> list[Finding]:
        return [f for f in self.findings if f.stack == stack]


def check_all(claims: Iterable[WalkthroughClaim], transcripts: Sequence[Transcript]) -> Table:
    """Each claim on each stack the transcripts were recorded on (generator/pages/stacks.py)."""
    found = stacks.group(transcripts)
    names = found.names or ("",)
    rows = tuple(
        (claim, tuple(check(claim, found.runs.get(name, ()), name) for name in names))
        for claim in claims
    )
    return Table(names, rows)


def as_json(table: Table) -> dict[str, Any]:
    """`recipe claims --json` (docs/schemas/claims.json)."""
    return {
        "stacks": [{"name": n, "title": stacks.title_of(n)} for n in table.stacks],
        "claims": [
            {
                "id": claim.id,
                "claim": claim.claim,
                "recipe": claim.recipe,
                "expect": claim.expect,
                "verdicts": [_verdict_json(f) for f in found],
            }
            for claim, found in table.rows
        ],
        "failures": [{"claim": f.claim.id, "stack": f.stack} for f in table.failures],
    }


def _verdict_json(f: Finding) -> dict[str, Any]:
    return {
        "stack": f.stack,
        "verdict": f.verdict,
        "transcript": f.transcript.path if f.transcript is not None else None,
        "step": f.step.index if f.step is not None else None,
        "note": f.note,
    }
