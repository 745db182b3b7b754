"""End to end: `recipe run veth-pair --record` on this machine, then `recipe docs` in every format,
checked by the real consumers: CommonMark, Mermaid and the HTML in Chromium, asciinema."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cdp_browser import Browser, chromium_path, file_url
from tests.pages.test_docs import fences, headings

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.root


def recipe(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from generator.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory, machine: None) -> Path:
    path = tmp_path_factory.mktemp("run") / "veth-pair.transcript"
    result = recipe("run", "veth-pair", "--quiet", "--record", str(path))
    assert result.returncode == 0, result.stderr
    return path


def test_markdown_from_a_real_run(recorded: Path, tmp_path: Path, clean_machine: None) -> None:
    result = recipe("docs", str(recorded), "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "veth-pair.md").read_text()
    assert headings(page)[:4] == [
        "h1 Two namespaces joined by a veth pair",
        "h2 Parameters",
        "h2 Topology",
        "h2 Steps",
    ]
    consoles = fences(page, "console")
    pings = [c for c in consoles if " ping -c " in c.split("\n", 1)[0]]
    assert len(pings) == 2 and all(" 0% packet loss" in c for c in pings)
    assert "| Kernel | " in page and "| iproute2 | ip utility" in page
    if shutil.which("dot"):
        assert (tmp_path / "veth-pair.svg").read_text().startswith("<svg")


def test_normalized_html_and_cast_from_a_real_run(
    recorded: Path, tmp_path: Path, clean_machine: None
) -> None:
    for fmt in ("html", "cast"):
        result = recipe("docs", str(recorded), "-o", str(tmp_path), "--format", fmt)
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "veth-pair.html").is_file() and (tmp_path / "veth-pair.cast").is_file()
    if chromium_path():
        with Browser() as browser:
            _, report = browser.open(file_url(tmp_path / "veth-pair.html"))
        assert report.errors == [] and report.external_requests == []
    result = recipe("docs", str(recorded), "-o", str(tmp_path / "n"), "--normalized")
    assert result.returncode == 0, result.stderr
    assert "time=<RTT> ms" in (tmp_path / "n" / "veth-pair.md").read_text()
    if shutil.which("asciinema"):
        played = subprocess.run(
            ["script", "-qec", f"asciinema cat {tmp_path / 'veth-pair.cast'}", "/dev/null"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert played.returncode == 0 and "0% packet loss" in played.stdout
