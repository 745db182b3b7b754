"""The pages in a real headless Chromium: no errors, no external requests, and Mermaid that the
real Mermaid library parses and draws (GitHub renders ```mermaid blocks with it)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from generator.pages import diagram
from generator.pages import write as docs
from generator.recipes.catalog import load_all, resolve
from generator.recipes.topology import render_topology
from generator.transcript import files
from tests.cdp_browser import Browser, chromium_path, file_url
from tests.docs_samples import transcript

ROOT = Path(__file__).resolve().parents[2]
MERMAID_JS = Path(
    os.environ.get("RECIPE_MERMAID_JS", "/opt/recipe-node/node_modules/mermaid/dist/mermaid.min.js")
)

pytestmark = pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser() as running:
        yield running


def test_the_detector_sees_errors_and_requests_and_blocks_them(
    browser: Browser, tmp_path: Path
) -> None:
    # The request goes to loopback only, and the browser fails it before it is sent.
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><meta charset="utf-8"><img src="http://127.0.0.1:9/x.png">'
        "<script>console.error('boom'); missing();</script>"
    )
    _, report = browser.open(file_url(page))
    assert report.external_requests == ["http://127.0.0.1:9/x.png"]
    assert any("boom" in e for e in report.errors)
    assert any("missing is not defined" in e for e in report.errors)


def html_pages(tmp_path: Path) -> list[Path]:
    """HTML for the sample transcript and for every golden transcript in transcripts/."""
    # Its own name, so that it cannot clash with the golden veth-pair page.
    sources = [transcript(tmp_path / "sample-veth-pair.transcript")]
    golden = ROOT / "transcripts"
    if golden.is_dir() and files.in_folder(golden):
        sources.append(golden)
    written = docs.write(sources, tmp_path / "html", fmt="html", index=True)
    return [tmp_path / "html" / docs.HTML_INDEX, *(w.path for w in written)]


def test_html_pages_load_without_errors_or_external_requests(
    browser: Browser, tmp_path: Path
) -> None:
    pages = html_pages(tmp_path)
    for page in pages:
        session, report = browser.open(file_url(page))
        assert report.errors == [], page.name
        assert report.external_requests == [], page.name
        assert report.requests == [file_url(page)], page.name
        if page.name == docs.HTML_INDEX:
            links = browser.evaluate(session, "[...document.links].map(a => a.href)")
            assert sorted(links) == sorted(file_url(p) for p in pages[1:])
            continue
        # The page really rendered: its console blocks are in the DOM.
        assert browser.evaluate(session, "document.querySelectorAll('pre.console').length") > 0
        if diagram.dot_available():
            assert browser.evaluate(session, "document.querySelectorAll('figure svg').length") == 1


# ---- Mermaid -----------------------------------------------------------------------------------


def recipe_diagrams() -> list[tuple[str, str]]:
    found = []
    for recipe in sorted(load_all(), key=lambda r: r.name):
        topology = render_topology(recipe.directory, resolve(recipe, {}))
        if topology:
            found.append(
                (recipe.name, diagram.to_mermaid(diagram.graph_from(topology, recipe.hosts)))
            )
    return found


def hostile_diagram() -> str:
    name = 'a"b|c];d#e<script>{{x}}\nend'
    topology: dict[str, Any] = {
        "nodes": [
            {"name": name, "kind": "container", "on": name},
            {"name": "b", "kind": "bridge"},
            {"name": "end", "kind": "netns"},
            {"name": "x", "kind": "netns"},
        ],
        "links": [
            {"kind": "veth", "ends": [f"{name}:eth0", "b:veth0"]},
            {"kind": "vxlan", "ends": ["b:vx0", "end:vx0", "x:vx0"]},
        ],
        "addresses": [{"node": name, "ifname": "eth0", "address": "10.0.0.1/24"}],
    }
    return diagram.to_mermaid(diagram.graph_from(topology, hosts=[name]))


def committed_diagrams() -> list[tuple[str, str]]:
    """The ```mermaid blocks of the committed lab pages, exactly as GitHub will read them."""
    from tests.pages.test_docs import fences

    labs = ROOT / "docs" / "labs"
    return [
        (p.name, block)
        for p in sorted(labs.glob("*.md"))
        for block in fences(p.read_text(), "mermaid")
    ]


@pytest.fixture(scope="module")
def mermaid(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> str:
    if not MERMAID_JS.is_file():
        pytest.skip(f"mermaid is not installed at {MERMAID_JS} (scripts/install-docs-tools.sh)")
    page = tmp_path_factory.mktemp("mermaid") / "mermaid.html"
    page.write_text(
        f'<!DOCTYPE html><meta charset="utf-8"><script src="{file_url(MERMAID_JS)}"></script>'
    )
    session, report = browser.open(file_url(page))
    assert report.errors == [] and report.external_requests == []
    browser.evaluate(session, "mermaid.initialize({startOnLoad: false}), true")
    return session


def mermaid_verdict(browser: Browser, session: str, text: str) -> str:
    """'ok' when Mermaid both parses and draws the diagram, else its error message."""
    source = json.dumps(text)
    script = (
        f"mermaid.parse({source}).then(() => mermaid.render('d' + Date.now(), {source}))"
        ".then(r => r.svg.includes('<svg') ? 'ok' : 'no svg', e => 'error: ' + e.message)"
    )
    return str(browser.evaluate(session, script))


def test_mermaid_draws_every_recipe_and_hostile_names(browser: Browser, mermaid: str) -> None:
    cases = [*recipe_diagrams(), ("hostile", hostile_diagram()), *committed_diagrams()]
    assert len(cases) > 2
    for name, text in cases:
        assert mermaid_verdict(browser, mermaid, text) == "ok", (name, text)


def test_mermaid_check_rejects_broken_syntax(browser: Browser, mermaid: str) -> None:
    verdict = mermaid_verdict(browser, mermaid, 'flowchart LR\n  n0["a"] ---|"x| n1\n')
    assert verdict.startswith("error: Parse error")
