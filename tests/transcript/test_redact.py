"""Secrets never reach a transcript, a page or a cast: Swarm join and unlock keys, PEM private
keys, and whatever a recipe marks with `[[secret]]`. Steps still judge the real output."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generator import transcript as tr
from generator.errors import UserError
from generator.transcript import redact
from tests.cli_runner import recipe

TOKEN = "SWMTKN-1-344d62qq7zvizpj3pce9376iawgg4175k84cfgl8l4g8rkgh3f-1je9xjx5tk3v7qkriddcxxdex"
UNLOCK = "SWMKEY-1-Xb5vH4Yk1mXq2H0cN8fQ2Jw0x9l8b3s7n2YkqF1cQ2E"
KEY_BODY = (
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACDfakefakefakefakefakefakefakefakefakefakefakeAAAA"
)


def pem(kind: str) -> str:
    label = f"{kind} PRIVATE KEY" if kind else "PRIVATE KEY"
    return f"-----BEGIN {label}-----\n{KEY_BODY}\n-----END {label}-----"


def test_swarm_join_token_and_unlock_key_are_redacted() -> None:
    text = f"    docker swarm join --token {TOKEN} 192.168.205.10:2377\nkey: {UNLOCK}\n"
    out = redact.BUILTIN.text(text)
    assert out == (
        "    docker swarm join --token <redacted:swarm-token> 192.168.205.10:2377\n"
        "key: <redacted:swarm-key>\n"
    )


@pytest.mark.parametrize("kind", ["OPENSSH", "RSA", "EC", "ENCRYPTED", ""])
def test_private_key_block_is_redacted_whole(kind: str) -> None:
    text = f"before\n{pem(kind)}\nafter\n"
    assert redact.BUILTIN.text(text) == "before\n<redacted:private-key>\nafter\n"


def test_a_cut_off_private_key_is_redacted_to_the_end() -> None:
    """`head -3 id_rsa` prints no END line; what it printed is still part of the key."""
    text = f"x\n-----BEGIN RSA PRIVATE KEY-----\n{KEY_BODY}\n"
    assert redact.BUILTIN.text(text) == "x\n<redacted:private-key>"


def test_nothing_else_is_touched() -> None:
    text = (
        "SWMTKN-...\nSwarm initialized: current node (l53j8jk3r4m8oaxvhhjqf9od5)\n"
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n"
        "-----END PUBLIC KEY-----\n"
        "-----BEGIN CERTIFICATE-----\n"
    )
    assert redact.BUILTIN.text(text) == text
    assert redact.BUILTIN.text("") == ""


def test_recipe_marked_secret_is_redacted_and_markers_stay() -> None:
    redactor = redact.from_tables(
        {"secret": [{"pattern": r"hunter2-\d+", "name": "password"}, {"pattern": "redacted"}]},
        "recipe.toml",
    )
    once = redactor.text(f"pw hunter2-42 and {TOKEN}\n")
    assert once == "pw <redacted:password> and <redacted:swarm-token>\n"
    assert redactor.text(once) == once  # a marker is never redacted again, even by "redacted"
    assert redactor.text("redacted") == "<redacted:secret>"


@pytest.mark.parametrize(
    ("tables", "words"),
    [
        ({"secret": {"pattern": "x"}}, "array of tables"),
        ({"secret": [{"name": "x"}]}, "needs a `pattern`"),
        ({"secret": [{"pattern": "("}]}, "bad regex"),
        ({"secret": [{"pattern": "x*"}]}, "empty string"),
        ({"secret": [{"pattern": "x", "name": "Bad Name"}]}, "lower-case"),
    ],
)
def test_bad_secret_table_is_one_user_error(tables: dict[str, object], words: str) -> None:
    with pytest.raises(UserError, match="recipe.toml") as caught:
        redact.from_tables(tables, "recipe.toml")
    assert words in caught.value.message


def test_redacts_every_field_of_a_step_and_the_header() -> None:
    from generator.transcript.expectation import Expectation
    from generator.transcript.facts import HostFacts

    step = tr.StepRecord(
        index=1,
        phase="main",
        command=f"echo {TOKEN}",
        expect=Expectation(),
        exit=0,
        duration=0.1,
        verdict="ok",
        stdout=f"{TOKEN}\n{pem('EC')}\n",  # the screen
        explanation=TOKEN,
        interactive=f"sh -c {TOKEN}",
        problems=(TOKEN,),
    )
    header = tr.Header(
        None,
        {"token": TOKEN},
        "0" * 64,
        f"lab {TOKEN}",
        "local",
        HostFacts(),
        "2026-01-01T00:00:00.000Z",
        "recipe",
    )
    outcome = tr.Outcome("failed", False, "2026-01-01T00:00:01.000Z", 1.0, reason=TOKEN)
    text = tr.format_transcript(redact.BUILTIN.transcript(tr.Transcript(header, (step,), outcome)))
    assert "SWMTKN-1" not in text and "PRIVATE KEY" not in text
    assert text.count("<redacted:swarm-token>") == 8 and "<redacted:private-key>" in text


# ---- end to end: a real run, its transcript, its pages, its cast, its replay ----------------

LEAKY_META = """\
title = "Leaky"
summary = "A lab that prints secrets."
description = "Prints a fake join token, a fake key and a recipe-marked password."

[params.word]
type = "str"
default = "hello"
help = "A word."

[[secret]]
pattern = 'hunter2-[0-9]+'
name = "password"
"""
LEAKY_TEMPLATE = """\
{%% extends "base.sh.j2" %%}
{%% block steps %%}
# The step's own check sees the real token.
#@ expect-match "^SWMTKN-1-[0-9a-z]+-[0-9a-z]+$"
echo %s

#@ expect-output "PRIVATE KEY-----"
printf '%%s\\n' %s

#@ expect-output "hunter2-42"
echo {{ word }} hunter2-42
{%% endblock %%}
{%% block teardown %%}
true
{%% endblock %%}
"""

SECRETS = (TOKEN, "b3BlbnNzaC1rZXktdjEA", "hunter2-42")
MARKERS = ("<redacted:swarm-token>", "<redacted:private-key>", "<redacted:password>")


@pytest.fixture
def leaky(tmp_path: Path) -> Path:
    folder = tmp_path / "recipes" / "leaky"
    folder.mkdir(parents=True)
    (folder / "recipe.toml").write_text(LEAKY_META)
    key_words = " ".join(f"'{line}'" for line in pem("OPENSSH").split("\n"))
    (folder / "lab.sh.j2").write_text(LEAKY_TEMPLATE % (TOKEN, key_words))
    return folder.parent


def _assert_redacted(text: str, what: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{what} holds {secret}"
    for marker in MARKERS:
        assert marker in text, f"{what} lacks {marker}"


def test_a_run_records_markers_and_pages_show_them(
    clean_machine: None, leaky: Path, tmp_path: Path
) -> None:
    env = {
        "RECIPE_STATE_DIR": str(tmp_path / "state"),
        "RECIPE_PATH": str(leaky),
        "PATH": os.environ["PATH"],
    }
    path = tmp_path / "leaky.transcript"
    done = recipe("run", "leaky", "--record", str(path), "-q", env=env)
    assert done.returncode == 0, done.stderr  # the checks saw the real secrets
    _assert_redacted(path.read_text(), "the transcript")
    assert not tr.partials(path)
    for fmt in ("md", "html", "cast"):
        out = tmp_path / fmt
        done = recipe("docs", str(path), "-o", str(out), "--format", fmt, env=env)
        assert done.returncode == 0, done.stderr
        (page,) = out.glob(f"*.{fmt}")
        text = page.read_text()
        if fmt == "html":  # the HTML page escapes `<` in output
            text = text.replace("&lt;", "<").replace("&gt;", ">")
        _assert_redacted(text, f"the {fmt} page")
    done = recipe("replay", str(path), env=env)  # the golden holds markers, the replay secrets
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 drifting" in done.stdout


def test_old_transcripts_holding_secrets_are_redacted_on_pages_and_casts(
    leaky: Path, tmp_path: Path
) -> None:
    """Defence in depth: a transcript recorded before redaction existed still leaks nothing."""
    from generator.transcript.expectation import Expectation
    from generator.transcript.facts import HostFacts

    step = tr.StepRecord(
        1,
        "main",
        "echo hunter2-42",
        Expectation(),
        0,
        0.1,
        "ok",
        stdout=f"{TOKEN}\n{pem('RSA')}\nhunter2-42\n",
    )
    header = tr.Header(
        "leaky",
        {"word": "hello"},
        "0" * 64,
        "leaky",
        "local",
        HostFacts(),
        "2026-01-01T00:00:00.000Z",
        "recipe 0.0.9",
    )
    path = tmp_path / "old.transcript"
    path.write_text(tr.format_transcript(tr.Transcript(header, (step,), None)))
    env = {"RECIPE_PATH": str(leaky), "PATH": os.environ["PATH"]}
    done = recipe("docs", str(path), "-o", str(tmp_path / "md"), env=env)
    assert done.returncode == 0, done.stderr
    _assert_redacted((tmp_path / "md" / "leaky.md").read_text(), "the page")
    done = recipe("export", str(path), env=env)
    assert done.returncode == 0, done.stderr
    _assert_redacted(done.stdout, "the cast")
