"""`recipe docs --site`: the files a site holds, prose as Markdown that carries no markup of its
own, a cast that no recorded output can break out of, and bad input in one line."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from generator.pages import prose, site
from generator.transcript import read
from generator.transcript.writer import format_transcript
from tests.cli_runner import assert_one_line_error, invoke
from tests.docs_samples import transcript


def _hostile(tmp_path: Path) -> Path:
    """The sample, with a tutorial author's HTML in an explanation and in an output."""
    path = transcript(tmp_path / "veth-pair.transcript")
    record = read(path)
    first = replace(
        record.steps[0],
        explanation="Make `ip netns` a <script>alert(1)</script> [page](other.md#step-2) "
        "[bad](javascript:alert(1))",
        stdout="</script><script>alert(2)</script>\n",
    )
    path.write_text(format_transcript(replace(record, steps=(first, *record.steps[1:]))))
    return path


def test_the_site_holds_pages_files_and_assets(tmp_path: Path) -> None:
    done = invoke("docs", "--site", str(tmp_path / "site"), str(_hostile(tmp_path)))
    assert done.returncode == 0, done.stderr
    out = tmp_path / "site"
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"index.html", "veth-pair.html", "veth-pair.cast", "veth-pair.transcript"} <= names
    assert {f"assets/{name}" for name in site.ASSETS} <= names
    page = (out / "veth-pair.html").read_text()
    assert "<code>ip netns</code>" in page  # a code span, not literal backticks
    assert '<a href="other.html#step-2">page</a>' in page  # .md links go to the site's pages
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)" in page
    assert 'href="javascript:' not in page
    assert "\\u003c/script\\u003e" in page  # the cast's JSON cannot end its element
    assert 'rel="index"' in page and 'id="cast-data"' in page
    index = (out / "index.html").read_text()
    assert 'href="veth-pair.html"' in index and "Debian 12" in index


def test_inline_prose_escapes_raw_html_but_keeps_an_empty_anchor() -> None:
    assert str(prose.inline('<img src=x onerror=alert(1)> <a id="x"></a>')) == (
        '&lt;img src=x onerror=alert(1)&gt; <a id="x"></a>'
    )
    assert "<a " not in str(prose.inline('<a id="x" onclick="y">'))


def test_bad_site_input_gets_one_line(tmp_path: Path) -> None:
    sample = str(transcript(tmp_path / "veth-pair.transcript"))
    afile = tmp_path / "afile"
    afile.write_text("")
    assert_one_line_error(invoke("docs", "--site", str(afile), sample), "is not a directory")
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "index.html").write_text("<p>my own page</p>")
    assert_one_line_error(
        invoke("docs", "--site", str(foreign), sample), "not a page recipe docs wrote", "--site"
    )
    assert (foreign / "index.html").read_text() == "<p>my own page</p>"
    assert_one_line_error(invoke("docs", "--site", str(tmp_path / "s"), "--project"), "--project")
