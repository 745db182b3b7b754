"""The site of `recipe docs --site` in a real headless Chromium, from file://: every page loads
without errors and fetches nothing from outside its folder, every link resolves, the bundled
player plays a cast to its end and jumps to a chapter, and the index and a lab page show the
diagram and the player on screen."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from generator.pages import diagram, project, site
from tests.cdp_browser import Browser, chromium_path, file_url
from tests.docs_samples import transcript

pytestmark = pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site")
    sources = [transcript(root / "sample-veth-pair.transcript"), project.ROOT / "transcripts"]
    site.build(sources, root / "site", claims_data=project.ROOT / project.CLAIMS_DATA)
    return root / "site"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser() as running:
        yield running


def _target(link: str) -> tuple[Path, str]:
    parts = urlsplit(link)
    return Path(unquote(parts.path)), parts.fragment


def test_every_page_loads_alone_and_every_link_resolves(built: Path, browser: Browser) -> None:
    pages = sorted(built.glob("*.html"))
    assert {site.INDEX, site.CLAIMS, "custom-bridge.html", "sample-veth-pair.html"} <= {
        p.name for p in pages
    }
    ids: dict[Path, set[str]] = {}
    links: dict[Path, list[str]] = {}
    for page in pages:
        session, report = browser.open(file_url(page))
        assert report.errors == [], page.name
        assert report.external_requests == [], page.name
        for request in report.requests:  # the page, its stylesheet, its scripts: all here
            assert _target(request)[0].is_relative_to(built), (page.name, request)
        ids[page] = set(
            browser.evaluate(session, "[...document.querySelectorAll('[id]')].map(e => e.id)")
        )
        links[page] = browser.evaluate(session, "[...document.links].map(a => a.href)")
    for page, hrefs in links.items():
        assert hrefs, page.name
        for href in hrefs:
            path, fragment = _target(href)
            assert href.startswith("file://") and path.is_relative_to(built), (page.name, href)
            assert path.is_file(), (page.name, href)
            if fragment and path.suffix == ".html":
                assert fragment in ids[path], (page.name, href)
    lab = links[built / "custom-bridge.html"]
    names = {_target(h)[0].name for h in lab}
    assert {
        "index.html",
        "custom-bridge.sh",
        "custom-bridge.cast",
        "custom-bridge.transcript",
    } <= names
    index = {_target(h)[0].name for h in links[built / site.INDEX]}
    assert {"claims.html", "custom-bridge.html", "vxlan.html"} <= index


def _wait(browser: Browser, session: str, expression: str, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if browser.evaluate(session, expression):
            return True
        time.sleep(0.2)
    return False


def test_the_player_plays_the_cast_to_its_end_and_jumps_to_chapters(
    built: Path, browser: Browser
) -> None:
    session, report = browser.open(file_url(built / "custom-bridge.html") + "?speed=500", settle=1)
    assert report.errors == []
    assert _wait(browser, session, "document.body.dataset.castEnded === 'true'"), "never ended"
    duration = browser.evaluate(session, "window.recipePlayer.getDuration()")
    assert duration > 0
    chapters = browser.evaluate(session, "document.querySelectorAll('ol.chapters button').length")
    steps = browser.evaluate(session, "document.querySelectorAll('section.step').length")
    assert chapters >= steps > 0
    browser.evaluate(session, "window.recipePlayer.pause()")
    browser.evaluate(session, "document.querySelectorAll('ol.chapters button')[3].click()")
    assert _wait(browser, session, "window.recipePlayer.getCurrentTime() > 0")
    # The terminal shows the recorded prompt of the host that ran the step.
    assert _wait(browser, session, "document.querySelector('.ap-player').innerText.includes('@')")


def _shot(browser: Browser, session: str, selector: str, out: Path) -> dict[str, float]:
    """Scroll SELECTOR into view, screenshot the viewport, and return where it is on screen."""
    browser.evaluate(session, f"document.querySelector({selector!r}).scrollIntoView()")
    box = browser.evaluate(
        session,
        f"(() => {{ const r = document.querySelector({selector!r}).getBoundingClientRect();"
        " return {top: r.top, left: r.left, width: r.width, height: r.height,"
        " inner: innerHeight}; })()",
    )
    size = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}
    browser.send("Emulation.setDeviceMetricsOverride", size, session)
    shot = browser.send("Page.captureScreenshot", {"format": "png"}, session)
    out.write_bytes(base64.b64decode(shot["data"]))
    return {key: float(value) for key, value in box.items()}


def test_screenshots_show_the_diagram_and_the_player(
    built: Path, browser: Browser, tmp_path: Path
) -> None:
    session, _ = browser.open(file_url(built / site.INDEX))
    rows = browser.evaluate(session, "document.querySelectorAll('table.index tr.lab').length")
    assert rows == len(list(built.glob("*.html"))) - 2  # every page but the index and claims
    index_png = tmp_path / "index.png"
    _shot(browser, session, "table.index", index_png)
    assert index_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    session, _ = browser.open(file_url(built / "custom-bridge.html"), settle=1)
    for selector in (
        ".ap-player",
        "figure.topology svg" if diagram.dot_available() else "ul.topology",
    ):
        box = _shot(browser, session, selector, tmp_path / "lab.png")
        assert box["width"] > 200 and box["height"] > 100, selector
        assert -1 <= box["top"] < box["inner"], selector  # on screen in the screenshot
        assert (tmp_path / "lab.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
