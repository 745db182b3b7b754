"""Keep secrets out of everything recipe writes: transcripts, lab pages, casts and replay reports.

A secret becomes a fixed marker, `<redacted:KIND>`. Built in: Docker Swarm join tokens
(`SWMTKN-1-...`), Swarm unlock keys (`SWMKEY-1-...`) and PEM private keys (the whole block, or
to the end of the text when the END line never came). A recipe adds its own in recipe.toml:

    [[secret]]
    pattern = 'hunter2-[0-9]+'   # a regex
    name = "password"            # the marker reads <redacted:password>; default "secret"

Steps are judged on the real output (a step may need to see a token); only what is recorded is
redacted. The recorder redacts before anything reaches the disk, and pages, casts and comparisons
redact again, so a transcript recorded before a pattern existed still leaks nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.errors import UserError

if TYPE_CHECKING:
    from generator.transcript.expectation import Expectation
    from generator.transcript.records import Header, Outcome, StepRecord, Transcript

MARKER = "<redacted:{}>"
# Splitting on markers first keeps redaction idempotent: a recipe pattern that happens to match
# a marker's text (or part of it) never redacts the marker again.
_MARKERS = re.compile(r"(<redacted:[a-z0-9-]+>)")
_NAME = re.compile(r"[a-z][a-z0-9-]*")


@dataclass(frozen=True)
class Secret:
    name: str  # the KIND of the marker
    pattern: re.Pattern[str]


BUILTIN_SECRETS: tuple[Secret, ...] = (
    # Base-36 digest and secret, as `docker swarm init` and `join-token` print them.
    Secret("swarm-token", re.compile(r"\bSWMTKN-1-[0-9a-z]+-[0-9a-z]+\b")),
    # The autolock key (base64), which unlocks a manager's Raft data.
    Secret("swarm-key", re.compile(r"\bSWMKEY-1-[A-Za-z0-9+/=]+")),
    # PKCS#1/#8, OpenSSH, EC, encrypted: any "... PRIVATE KEY" block. A block cut short (by `head`
    # or a timeout) is secret to its last byte, so without an END line it runs to the end.
    Secret(
        "private-key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"
            r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|.*)",
            re.DOTALL,
        ),
    ),
)


@dataclass(frozen=True)
class Redactor:
    secrets: tuple[Secret, ...] = BUILTIN_SECRETS

    def text(self, text: str) -> str:
        for secret in self.secrets:
            if text:
                text = _outside_markers(secret, text)
        return text

    def record(self, record: StepRecord) -> StepRecord:
        """Every text a step record holds; an interactive step's screen is its stdout."""
        spawn = record.interactive
        return replace(
            record,
            command=self.text(record.command),
            explanation=self.text(record.explanation),
            stdout=self.text(record.stdout),
            stderr=self.text(record.stderr),
            interactive=None if spawn is None else self.text(spawn),
            problems=tuple(self.text(p) for p in record.problems),
            expect=self.expectation(record.expect),
        )

    def expectation(self, expect: Expectation) -> Expectation:
        """A recipe may check for its own secret (`#@ expect-output "hunter2"`); the page shows
        its checks, so they are redacted too."""
        return replace(
            expect,
            output=tuple(self.text(s) for s in expect.output),
            no_output=tuple(self.text(s) for s in expect.no_output),
            match=tuple(self._regex(r) for r in expect.match),
        )

    def _regex(self, regex: str) -> str:
        """A match pattern redacted, still a regex the transcript reader accepts: a marker cut
        into `(?P<...>)` or a class would not compile, and then the redacted text is taken
        literally."""
        clean = self.text(regex)
        if clean == regex:
            return regex
        try:
            re.compile(clean)
        except re.error:
            return re.escape(clean)
        return clean

    def header(self, header: Header) -> Header:
        params = {name: self.text(value) for name, value in header.params.items()}
        return replace(header, params=params, source=self.text(header.source))

    def outcome(self, outcome: Outcome) -> Outcome:
        return replace(outcome, reason=self.text(outcome.reason))

    def transcript(self, transcript: Transcript) -> Transcript:
        outcome = transcript.outcome
        return replace(
            transcript,
            header=self.header(transcript.header),
            steps=tuple(self.record(s) for s in transcript.steps),
            outcome=None if outcome is None else self.outcome(outcome),
        )


BUILTIN = Redactor()


def _outside_markers(secret: Secret, text: str) -> str:
    """One secret's matches replaced, markers (of earlier secrets or earlier runs) left alone."""
    marker = MARKER.format(secret.name)
    if "<redacted:" not in text:  # the common case, without the split
        return secret.pattern.sub(marker, text)
    parts = _MARKERS.split(text)
    for i in range(0, len(parts), 2):  # odd indices hold the markers themselves
        parts[i] = secret.pattern.sub(marker, parts[i])
    return "".join(parts)


def from_tables(extra: Mapping[str, Any], source: str) -> Redactor:
    """The built-ins plus a recipe's `[[secret]]` tables (recipe.toml keys the loader keeps in
    Recipe.extra); a broken table is one UserError naming the file."""
    entries = extra.get("secret", [])
    if not isinstance(entries, list):
        raise UserError(f"{source}: [[secret]] must be an array of tables")
    own = tuple(
        _secret(entry, f"{source}: [[secret]] entry {n}")
        for n, entry in enumerate(entries, start=1)
    )
    return Redactor(own + BUILTIN_SECRETS) if own else BUILTIN


def _secret(entry: object, where: str) -> Secret:
    from generator.transcript.patterns import PatternError, compile_pattern

    if not isinstance(entry, Mapping) or not isinstance(entry.get("pattern"), str):
        raise UserError(f"{where} needs a `pattern` string (a regex)")
    name = entry.get("name", "secret")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise UserError(f"{where}: name {name!r} must be a lower-case word such as password")
    try:
        return Secret(name, compile_pattern(entry["pattern"], where))
    except PatternError as exc:
        raise UserError(str(exc)) from None


def for_recipe(recipe: object | None) -> Redactor:
    """The redactor of a recipe (recipes.Recipe), or the built-ins for a plain script."""
    if recipe is None:
        return BUILTIN
    source = Path(getattr(recipe, "directory", "")) / "recipe.toml"
    return from_tables(getattr(recipe, "extra", {}), str(source))
