"""Explanations and other prose as HTML, by a real Markdown parser (markdown-it-py, CommonMark).

Prose comes from recipes, and from tutorials that other people wrote, so it is never trusted:
raw HTML in it is shown as text, never passed through, except an empty anchor
(`<a id="name"></a>`, which the generated claims page links to), and markdown-it's link check
refuses
`javascript:`, `vbscript:`, `file:` and `data:` targets. A relative link to a Markdown page
(`veth-pair.md#step-2`) is pointed at the site's HTML page of the same name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from html import escape
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

_MD_LINK = re.compile(r"^(?![a-z][a-z0-9+.-]*:|/|#)([^?#]*)\.md(#[^?]*)?$", re.IGNORECASE)


# An empty anchor parses as one block, or inline as its two tags; neither can carry anything.
_ANCHOR = re.compile(r'(<a id="[A-Za-z0-9_-]{1,80}">)?(</a>)?\n?')


def _html(renderer: Any, tokens: Sequence[Token], index: int, options: Any, env: Any) -> str:
    """Raw HTML as text: an author's <script> reads as the text "<script>"."""
    content = tokens[index].content
    return content if content.strip() and _ANCHOR.fullmatch(content) else escape(content)


@cache
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": True}).enable("table")
    parser.add_render_rule("html_block", _html)
    parser.add_render_rule("html_inline", _html)
    return parser


def _relink(tokens: list[Token]) -> None:
    for token in tokens:
        if token.type == "link_open":
            href = str(token.attrGet("href") or "")
            found = _MD_LINK.match(href)
            if found:
                token.attrSet("href", f"{found.group(1)}.html{found.group(2) or ''}")
        if token.children:
            _relink(token.children)


def inline(text: str) -> Markup:
    """One paragraph's worth of Markdown as inline HTML: code spans, emphasis, links."""
    flat = " ".join(text.split())  # a recipe's explanation is wrapped text, never blocks
    parser = _parser()
    tokens = parser.parseInline(flat)
    _relink(tokens)
    return Markup(parser.renderer.render(tokens, parser.options, {}))


def blocks(text: str) -> Markup:
    """A whole Markdown document (the claims page) as HTML."""
    parser = _parser()
    tokens = parser.parse(text)
    _relink(tokens)
    return Markup(parser.renderer.render(tokens, parser.options, {}))
