"""`--update`'s rewrite: the drifted outputs replaced, every other byte kept."""

from __future__ import annotations

import pytest

from generator.tutorial import markdown
from generator.tutorial.update import rewrite

PAGE = (
    "# Two\n\nSee:\n\n  ```console\n  $ ip netns list\n  red\n  $ echo hi\n  hi\n  ```\n\n"
    "```bash\nip netns add blue\n```\n"
)


def test_only_the_drifted_output_changes_indented_as_its_fence() -> None:
    tutorial = markdown.parse(PAGE, "p.md")
    first = tutorial.blocks[0].commands[0]
    after = rewrite(PAGE, [(first, "blue\nred\n")])
    assert after == PAGE.replace("  red\n", "  blue\n  red\n")


def test_crlf_stays_crlf_and_several_outputs_rewrite_at_once() -> None:
    crlf = PAGE.replace("\n", "\r\n")
    tutorial = markdown.parse(crlf, "p.md")
    first, second = tutorial.blocks[0].commands
    after = rewrite(crlf, [(second, "hello\n"), (first, "")])
    assert after == PAGE.replace("  red\n", "").replace("  hi\n", "  hello\n").replace("\n", "\r\n")


def test_a_command_the_page_shows_no_output_for_gets_it_where_it_belongs() -> None:
    text = "```console\n$ ip netns list\n$ echo hi\nhi\n```\n"
    first = markdown.parse(text, "p.md").blocks[0].commands[0]
    assert rewrite(text, [(first, "red\n")]) == text.replace("list\n", "list\nred\n")


def test_overlapping_spans_are_refused() -> None:
    first = markdown.parse(PAGE, "p.md").blocks[0].commands[0]
    with pytest.raises(ValueError, match="overlapping"):
        rewrite(PAGE, [(first, "a\n"), (first, "b\n")])
