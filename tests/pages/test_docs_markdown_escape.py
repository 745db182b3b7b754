"""Markdown pages quote what recipes, transcripts and hosts say: none of it becomes markup.

Pages are read on many renderers, so the check is what a CommonMark renderer makes of a page: no
HTML but the page's own, no link that the data wrote, and the authors' `code spans` still code.
"""

from __future__ import annotations

import html
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from generator.errors import UserError
from generator.pages import claims, claims_page
from generator.pages import write as docs
from generator.pages.markdown import cell, md_target, md_text
from generator.transcript import Header, Outcome, StepRecord, Transcript, format_transcript
from generator.transcript.expectation import Expectation
from tests.docs_samples import FACTS

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"
LINK = "[click](javascript:alert(1))"
BOLD = "<b>bold</b>"
# The only HTML a page writes itself: the generated-by comment and the <sub> of each step.
OWN_HTML = ("<!--", "<sub>", "</sub>")


def parser() -> MarkdownIt:
    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


def walk(tokens: list[Token]) -> list[Token]:
    out = []
    for token in tokens:
        out.append(token)
        out += walk(token.children or [])
    return out


def hostile_transcript(
    path: Path, recipe: str | None = "veth-pair", source: str = "recipes/veth-pair/lab.sh.j2"
) -> Path:
    header = Header(
        recipe=recipe,
        params={"ns1": IMG, "count": "1"},
        script_sha256="0" * 64,
        source=source,
        target="local",
        facts=replace(FACTS, kernel=BOLD, docker=f"{SCRIPT} *x* _y_ |z|"),
        started="2026-11-29T04:00:00Z",
        recorder="recipe 0.1.0",
    )
    steps = (
        StepRecord(
            1,
            "main",
            "true",
            Expectation(),
            0,
            0.0,
            "ok",
            explanation=f"{SCRIPT} then run `ip -br <addr>` and\n# not a heading",
        ),
        StepRecord(
            2,
            "main",
            "false",
            Expectation(),
            1,
            0.0,
            "FAIL",
            problems=(LINK, BOLD),
            explanation="1. not a list item",
        ),
    )
    outcome = Outcome("failed", True, "2026-11-29T04:00:02Z", 0.1)
    path.write_text(format_transcript(Transcript(header, steps, outcome)), encoding="utf-8")
    return path


@pytest.fixture
def page(tmp_path: Path) -> str:
    written = docs.write([hostile_transcript(tmp_path / "veth-pair.transcript")], tmp_path / "out")
    return written[0].path.read_text()


def test_data_never_becomes_html_or_links(page: str) -> None:
    found = walk(parser().parse(page))
    raw = [t.content for t in found if t.type in ("html_inline", "html_block")]
    assert all(r.startswith(OWN_HTML) for r in raw), raw
    assert not [
        t.attrs
        for t in found
        if t.type in ("link_open", "image_open") and "javascript" in str(t.attrs)
    ]
    rendered = parser().render(page)
    for tag in ("<script", "<img", "<b>", 'href="javascript'):
        assert tag not in rendered, tag


def test_raw_page_has_no_tags_outside_fences(page: str) -> None:
    """A renderer that knows no Markdown at all still sees no tags outside the code blocks."""
    outside = "".join(part for i, part in enumerate(page.split("\n```")) if i % 2 == 0)
    for tag in ("<script", "<img", "<b>"):
        assert tag not in outside, tag


def test_the_reader_sees_the_text_as_written(page: str) -> None:
    rendered = parser().render(page)
    said = f"{html.escape(SCRIPT, quote=False)} then run <code>ip -br &lt;addr&gt;</code>"
    assert f"<p>{said} and # not a heading</p>" in rendered
    assert "<p>1. not a list item</p>" in rendered
    assert html.escape(LINK, quote=False) in rendered and html.escape(BOLD, quote=False) in rendered
    assert f"<td>{html.escape(IMG, quote=False)}</td>" in rendered
    assert f"<td>{html.escape(SCRIPT, quote=False)} *x* _y_ |z|</td>" in rendered


def test_a_hostile_title_stays_a_heading(tmp_path: Path) -> None:
    path = hostile_transcript(tmp_path / "script.transcript", recipe=None, source=f"/tmp/{IMG}.sh")
    rendered = parser().render(docs.write([path], tmp_path / "out")[0].path.read_text())
    assert f"<h1>Lab script {html.escape(IMG, quote=False)}.sh</h1>" in rendered


# Every character that means something somewhere in Markdown, and the text around it.
PLAIN = st.text(alphabet=st.sampled_from(list("ab1 .-+=#>*_[]()!|~<>&\\$:/;{}\"'\n")), max_size=40)


@given(PLAIN)
def test_md_text_renders_as_the_text_itself(text: str) -> None:
    folded = " ".join(text.split())
    shown = html.escape(folded, quote=False).replace('"', "&quot;")  # as markdown-it writes it
    expected = f"<p>{shown}</p>\n" if folded else ""
    assert parser().render(md_text(text)) == expected


@given(PLAIN)
def test_a_cell_is_one_cell(text: str) -> None:
    table = f"| a |\n|---|\n| {cell(text)} |\n"
    tokens = parser().parse(table)
    assert [t.type for t in tokens].count("td_open") == 1
    assert next(t for t in tokens if t.type == "inline" and t.map == [2, 3]).children is not None


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        ("run `ip <a>` now", "<p>run <code>ip &lt;a&gt;</code> now</p>\n"),
        ("``a ` b`` and `*c*`", "<p><code>a ` b</code> and <code>*c*</code></p>\n"),
        ("a lone ` backtick *x*", "<p>a lone ` backtick *x*</p>\n"),
    ],
)
def test_code_spans_stay_code(text: str, rendered: str) -> None:
    assert parser().render(md_text(text)) == rendered


def test_pipes_in_code_spans_of_a_cell_stay_in_the_cell() -> None:
    rendered = parser().render(f"| a |\n|---|\n| {cell('use `a|b` here')} |\n")
    assert "<td>use <code>a|b</code> here</td>" in rendered


@pytest.mark.parametrize("target", ["javascript:alert(1)", 'a.md"><script>', "x y", "", "//evil"])
def test_link_targets_from_data_are_refused(target: str) -> None:
    with pytest.raises(ValueError):
        md_target(target)


def test_claim_text_is_quoted_and_claim_ids_are_names(tmp_path: Path) -> None:
    claim = claims.WalkthroughClaim(
        id="x",
        section=BOLD,
        claim=SCRIPT,
        recipe=IMG,
        step="x",
        nth=1,
        holds_if=claims.Condition(None, (), (), None),
        holds="h",
        fails=LINK,
    )
    finding = claims.Finding(claim, claims.UNSHOWN, None, None, LINK, stack=SCRIPT)
    page = claims_page.render(claims.Table((SCRIPT,), ((claim, (finding,)),)))
    rendered = parser().render(page)
    for tag in ("<script", "<img", "<b>", 'href="javascript'):
        assert tag not in rendered, tag
    bad = tmp_path / "claims.toml"
    bad.write_text(
        '[[claim]]\nid = "x\\"><script>"\nsection = "s"\nclaim = "c"\nrecipe = "r"\n'
        'step = "s"\nholds = "h"\nfails = "f"\n'
    )
    with pytest.raises(UserError, match="must be lowercase letters"):
        claims.load_claims(bad)
