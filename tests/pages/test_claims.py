"""The claims page: each claim finds its step in today's recipe, and verdicts follow the output."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.errors import UserError
from generator.lab import script
from generator.pages import claims, claims_page, project
from generator.recipes import catalog as recipes
from generator.recipes.render import render_script
from generator.transcript import Header, StepRecord, Transcript
from generator.transcript.expectation import Expectation
from generator.transcript.facts import HostFacts
from tests.pages.test_docs import fences, tokens

DEFINED = claims.load_claims(project.ROOT / project.CLAIMS_DATA)


def unrun(name: str) -> Transcript:
    """The recipe's steps as a transcript that recorded nothing: enough to find steps in."""
    recipe = recipes.load(name)
    parsed = script.parse(render_script(recipe, recipes.resolve(recipe, {})))
    steps = tuple(
        StepRecord(
            s.index,
            s.phase,
            s.command,
            s.expect,
            0,
            0.0,
            "ok",
            interactive=s.interactive.spawn if s.interactive else None,
        )
        for s in parsed.all_steps
    )
    return Transcript(
        Header(name, {}, "", name, "local", HostFacts(), "", ""), steps, None, f"{name}.transcript"
    )


@pytest.mark.parametrize("claim", DEFINED, ids=[c.id for c in DEFINED])
def test_each_claim_finds_a_step_that_checks_the_same_thing(claim: claims.WalkthroughClaim) -> None:
    step = claims.find_step(unrun(claim.recipe), claim.step, claim.nth)
    assert step is not None, (
        f"{claim.id}: no step {claim.nth} matches /{claim.step}/ in {claim.recipe}"
    )
    # The recipe's own expectation points the same way as the claim's condition, so the step
    # picked is the one the claim is about (an edited recipe that shifts steps fails here).
    wanted = claim.holds_if
    said = step.expect
    if wanted.exit == "nonzero":
        assert said.expects_failure, claim.id
    if wanted.exit == "zero":
        assert said.exit == 0, claim.id


def custom_bridge(ping_output: str, exit_status: int) -> Transcript:
    step = StepRecord(
        15,
        "main",
        "docker exec -i test3 /bin/sh <<'EOF'\nping -c 3 -W 2 test2\nEOF\n",
        Expectation(output=(" 0% packet loss",)),
        exit_status,
        0.5,
        "ok" if exit_status == 0 else "FAIL",
        stdout=ping_output,
        interactive="docker exec -it test3 /bin/sh",
    )
    header = Header(
        "custom-bridge", {}, "", "custom-bridge", "local", HostFacts(), "2026-11-29T05:00:00Z", ""
    )
    return Transcript(header, (step,), None, "transcripts/custom-bridge.transcript")


RESOLVED = (
    "/ # ping -c 3 -W 2 test2\nPING test2 (172.18.0.3): 56 data bytes\n"
    "3 packets transmitted, 3 packets received, 0% packet loss\n/ # exit\n"
)
UNRESOLVED = "/ # ping -c 3 -W 2 test2\nping: bad address 'test2'\n/ # exit\n"


def busybox_claim() -> claims.WalkthroughClaim:
    return next(c for c in DEFINED if c.id == "busybox-names")


def test_the_verdict_follows_the_recorded_output() -> None:
    today = claims.check(busybox_claim(), [custom_bridge(RESOLVED, 0)])
    assert today.verdict == claims.FAILS and "embedded DNS" in today.note
    then = claims.check(busybox_claim(), [custom_bridge(UNRESOLVED, 1)])
    assert then.verdict == claims.HOLDS
    assert claims.check(busybox_claim(), []).verdict == claims.UNRECORDED


def test_the_page_quotes_the_step_and_links_to_the_lab() -> None:
    table = claims.check_all(DEFINED, [custom_bridge(RESOLVED, 0)])
    page = claims_page.render(table)
    quoted = fences(page, "console")
    assert quoted == [
        (
            "$ docker exec -it test3 /bin/sh\ntest3:/ # ping -c 3 -W 2 test2\n"
            "PING test2 (172.18.0.3): 56 data bytes\n3 packets transmitted, 3 packets received, "
            "0% packet loss\ntest3:/ # exit\n[exit status 0]\n"
        )
    ]
    assert "(labs/custom-bridge.md#step-15)" in page
    assert "**Verdict: does not hold.**" in page  # facts that name no stack: no "on ..."
    assert sum(1 for t in tokens(page) if t.type == "tr_open") == len(DEFINED) + 1
    others = sum(1 for c in DEFINED if c.recipe != "custom-bridge")
    assert f"**{others}** are not recorded" in page  # no transcript of their lab was given
    assert f"**{len(DEFINED) - others - 1}** are not shown" in page  # no such step


def test_bad_claim_files_name_the_claim(tmp_path: Path) -> None:
    bad = tmp_path / "claims.toml"
    bad.write_text(
        '[[claim]]\nid="x"\nsection="s"\nclaim="c"\nrecipe="r"\nstep="ping"\n'
        'holds_if={exit="sometimes"}\nholds="h"\nfails="f"\n'
    )
    with pytest.raises(UserError, match="claim 1: holds_if.exit"):
        claims.load_claims(bad)
