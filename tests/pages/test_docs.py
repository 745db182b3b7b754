"""`recipe docs`: the Markdown and HTML pages a transcript turns into, and the CLI around them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token
from typer.testing import CliRunner

from generator.cli import app
from generator.errors import UserError
from generator.pages import write as docs
from generator.pages.model import container_of
from tests.docs_samples import transcript


def tokens(text: str) -> list[Token]:
    return MarkdownIt("commonmark").enable("table").parse(text)


def fences(text: str, info: str) -> list[str]:
    return [t.content for t in tokens(text) if t.type == "fence" and t.info == info]


def headings(text: str) -> list[str]:
    found = tokens(text)
    return [
        f"{t.tag} {found[i + 1].content}" for i, t in enumerate(found) if t.type == "heading_open"
    ]


@pytest.fixture
def page(tmp_path: Path) -> str:
    written = docs.write([transcript(tmp_path / "veth-pair.transcript")], tmp_path / "out")
    return written[0].path.read_text()


def test_page_structure_follows_the_transcript(page: str) -> None:
    assert headings(page) == [
        "h1 Two namespaces joined by a veth pair",
        "h2 Parameters",
        "h2 Topology",
        "h2 Steps",
        *[f"h3 Step {n}" for n in range(1, 8)],
        "h2 Teardown",
        "h2 Environment",
    ]
    consoles = fences(page, "console")
    assert len(consoles) == 8  # seven steps and the teardown
    assert consoles[0] == "root@labhost:~# ip netns add test1\n"
    # A multi-line command keeps its continuation lines, prefixed as a terminal shows them.
    assert consoles[2].startswith(
        "root@labhost:~# ip netns exec test1 \\\n>   ping -c 1 192.168.88.2\n"
    )
    # Output with a run of backticks gets a longer fence and comes through whole.
    assert consoles[5] == "root@labhost:~# printf '```<b>|x|</b>'\n```<b>|x|</b>\n"
    assert len(fences(page, "mermaid")) == 1
    assert "| ns1 | test1 | The first namespace. |" in page


def test_interactive_steps_show_the_host_then_the_container(page: str) -> None:
    screen = fences(page, "console")[4].splitlines()
    assert screen[0] == "root@labhost:~# docker exec -it test3 /bin/sh"
    assert screen[1] == "test3:/ # ping -c 1 test1"
    assert screen[-1] == "test3:/ # exit"


def test_expected_and_unexpected_failures_are_marked(page: str) -> None:
    assert "**Expected failure:** exit status 1" in page
    assert "**This step failed when recorded:** output lacks 'test1'." in page


def test_environment_is_recorded(page: str) -> None:
    for value in ("6.1.0-28-amd64", "iproute2-6.1.0", "20.10.24+dfsg1", "2026-11-29T04:00:00Z"):
        assert re.search(rf"^\| [^|]+ \| .*{re.escape(value)}.* \|$", page, re.MULTILINE), value


def test_normalized_pages_show_placeholders(tmp_path: Path) -> None:
    path = transcript(tmp_path / "veth-pair.transcript")
    text = docs.write([path], tmp_path / "out", normalized=True)[0].path.read_text()
    assert "link/ether MAC#1 brd ff:ff:ff:ff:ff:ff" in text and "time=<RTT> ms" in text
    assert "6a:1f:0c:3e:9d:01" not in text


def test_a_script_transcript_and_an_incomplete_run_still_make_a_page(tmp_path: Path) -> None:
    path = transcript(tmp_path / "script-1.transcript", recipe=None, complete=False)
    text = docs.write([path], tmp_path / "out")[0].path.read_text()
    assert headings(text)[0] == "h1 Lab script lab.sh"
    assert "**Incomplete run** (result: incomplete)" in text
    assert "## Topology" not in text


def test_index_links_every_page(tmp_path: Path) -> None:
    src = tmp_path / "transcripts"
    src.mkdir()
    transcript(src / "veth-pair.transcript")
    transcript(src / "other.transcript", recipe=None)
    (src / "notes.txt").write_text("not a transcript\n")
    docs.write([src], tmp_path / "out", index=True)
    index = (tmp_path / "out" / "README.md").read_text()
    assert "(other.md)" in index and "(veth-pair.md)" in index and "notes" not in index


def test_html_is_self_contained(tmp_path: Path) -> None:
    path = transcript(tmp_path / "veth-pair.transcript")
    html = docs.write([path], tmp_path / "out", fmt="html")[0].path.read_text()
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<script" not in html and "&lt;b&gt;|x|&lt;/b&gt;" in html


def test_container_of_reads_docker_exec_lines() -> None:
    assert container_of("docker exec -it test3 /bin/sh") == "test3"
    assert container_of("sudo docker exec -it -u root -e A=1 web sh") == "web"
    assert container_of("ip netns exec test1 sh") is None


def test_cli_writes_pages_and_rejects_bad_input(tmp_path: Path) -> None:
    path = transcript(tmp_path / "veth-pair.transcript")
    runner = CliRunner()
    result = runner.invoke(
        app, ["docs", str(path), "-o", str(tmp_path / "html"), "--format", "html"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "html" / "veth-pair.html").is_file()
    bad = runner.invoke(app, ["docs", str(path), "-o", str(tmp_path), "--format", "pdf"])
    # RecipeGroup.main turns the UserError into one line and exit 2, under CliRunner too.
    assert bad.exit_code == 2 and bad.stdout == ""
    assert bad.stderr.startswith("recipe: ") and "'pdf' is not one of md, html, cast" in bad.stderr


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    missing = subprocess.run(
        [
            sys.executable,
            "-c",
            "from generator.cli import main; main()",
            "docs",
            str(tmp_path / "nope"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 2
    assert missing.stderr == f"recipe: {tmp_path / 'nope'}: no such transcript file or directory\n"


def test_pages_are_named_after_the_recipe_unless_it_ran_twice(tmp_path: Path) -> None:
    src = tmp_path / "transcripts"
    src.mkdir()
    transcript(src / "veth-pair-20261129T050102Z.transcript")
    assert [w.path.name for w in docs.write([src], tmp_path / "one")] == ["veth-pair.md"]
    transcript(src / "veth-pair-20261129T060102Z.transcript")
    names = sorted(w.path.name for w in docs.write([src], tmp_path / "two"))
    assert names == ["veth-pair-20261129T050102Z.md", "veth-pair-20261129T060102Z.md"]


def test_a_page_never_replaces_a_file_recipe_docs_did_not_write(tmp_path: Path) -> None:
    """`recipe docs veth.transcript` beside the tutorial veth.md must not overwrite it."""
    path = transcript(tmp_path / "veth-pair.transcript")
    tutorial = tmp_path / "veth-pair.md"
    tutorial.write_text("# My tutorial\n")
    with pytest.raises(UserError, match="veth-pair.md exists and is not a page recipe docs wrote"):
        docs.write([path], tmp_path)
    assert tutorial.read_text() == "# My tutorial\n"
    tutorial.unlink()
    docs.write([path], tmp_path)
    docs.write([path], tmp_path)  # its own page it replaces
    assert tutorial.read_text().startswith("<!-- Generated by `recipe docs`")
