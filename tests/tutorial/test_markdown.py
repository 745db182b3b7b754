"""Markdown tutorials read back as a reader reads them: prompts, continuations, output, the
prose before each block, annotations and container sessions across blocks."""

from __future__ import annotations

import pytest

from generator.errors import UserError
from generator.tutorial import markdown
from generator.tutorial.model import Tutorial


def _parse(text: str) -> Tutorial:
    return markdown.parse(text, "t.md")


def test_console_commands_and_the_output_up_to_the_next_prompt() -> None:
    tutorial = _parse(
        "# Title\n\nList them:\n\n```console\n$ docker network ls\n\n"
        "NETWORK ID     NAME      DRIVER    SCOPE\n17e324f45964   bridge    bridge    local\n\n"
        "$ ip -br link show lo\n"
        "lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP>\n```\n"
    )
    (block,) = tutorial.blocks
    first, second = block.commands
    assert tutorial.title == "Title" and block.explanation == "List them:"
    assert first.text == "docker network ls" and first.line == 6
    # The Docker docs' blank line after the command is not output; the span is the output only.
    assert first.shown == (
        "NETWORK ID     NAME      DRIVER    SCOPE\n17e324f45964   bridge    bridge    local\n"
    )
    assert first.output_span == (7, 9)
    assert second.text == "ip -br link show lo" and (second.shown or "").startswith("lo ")


def test_continuations_with_backslash_and_bash_secondary_prompt() -> None:
    tutorial = _parse(
        "```console\n$ docker run -d \\\n    --name web busybox\n"
        "$ cat <<EOF\n> one\n> EOF\none\n```\n"
    )
    first, second = tutorial.blocks[0].commands
    assert first.text == "docker run -d \\\n    --name web busybox" and first.shown == ""
    assert second.text == "cat <<EOF\none\nEOF" and second.shown == "one\n"


def test_prompts_people_write() -> None:
    text = (
        "```console\nuser@host:~$ ip netns list\nroot@host:/tmp# ip netns add x\n"
        "[root@centos ~]# ip link\n1: lo\n(venv) $ echo hi\nhi\n```\n"
    )
    commands = _parse(text).blocks[0].commands
    assert [c.text for c in commands] == ["ip netns list", "ip netns add x", "ip link", "echo hi"]
    assert [c.shown for c in commands] == ["", "", "1: lo\n", "hi\n"]


def test_a_hash_line_is_output_in_a_dollar_block_and_a_root_prompt_alone() -> None:
    dollar = _parse(
        "```console\n$ cat /etc/hosts\n# a comment in the file\n127.0.0.1 localhost\n```\n"
    )
    assert len(dollar.blocks[0].commands) == 1
    assert (dollar.blocks[0].commands[0].shown or "").startswith("# a comment")
    root = _parse("```console\n# ip netns add red\n# ip netns list\nred\n```\n")
    assert [c.text for c in root.blocks[0].commands] == ["ip netns add red", "ip netns list"]


def test_bash_blocks_are_commands_without_output_and_other_languages_do_not_run() -> None:
    tutorial = _parse(
        '```json\n{"a": 1}\n```\n\n```bash\n# make it\nip netns add red\n```\n\n'
        "```yaml\nkey: value\n```\n\n```sh\n$ echo from a prompt\nfrom a prompt\n```\n"
    )
    bash, prompted = tutorial.blocks
    assert bash.language == "bash" and bash.commands[0].shown is None
    assert prompted.commands[0].shown == "from a prompt\n"  # a `$ ` makes an sh block a session


def test_fences_indented_in_a_list_item_and_tildes() -> None:
    tutorial = _parse("1. Do it:\n\n   ~~~console\n   $ echo hi\n   hi\n   ~~~\n")
    command = tutorial.blocks[0].commands[0]
    assert command.shown == "hi\n" and command.indent == "   "


def test_a_session_runs_on_into_the_next_block_until_the_prose_detaches() -> None:
    tutorial = _parse(
        "```console\n$ docker attach a1\n```\n\nInside:\n\n```console\n/ # ip addr\n1: lo\n"
        "# hostname\na1\n```\n\nDetach with `CTRL-p` `CTRL-q`.\n\n"
        "```console\n# ip netns list\n```\n"
    )
    opener, inside, after = tutorial.blocks
    assert not opener.commands[0].in_session
    assert [c.in_session for c in inside.commands] == [True, True]
    assert [c.text for c in inside.commands] == ["ip addr", "hostname"]
    assert after.detach_before and not after.commands[0].in_session


def test_a_host_prompt_ends_the_session() -> None:
    tutorial = _parse("```console\n$ docker exec -it a1 sh\n/ # hostname\na1\n$ docker ps\n```\n")
    inside, host = tutorial.blocks[0].commands[1:]
    assert inside.in_session and not host.in_session


def test_annotations_apply_to_the_next_block() -> None:
    tutorial = _parse(
        "<!-- recipe: skip: needs a second machine -->\n```console\n$ ssh node2\n```\n"
        "<!-- recipe: expect-fail, timeout 5 -->\n```bash\nfalse\n```\n"
    )
    skipped, failing = tutorial.blocks
    assert skipped.annotations == ("skip: needs a second machine",)
    assert failing.annotations == ("expect-fail", "timeout 5")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# Only prose\n\nNothing to run.\n", "t.md:1: no runnable block"),
        ("```json\n{}\n```\n", "t.md:1: no runnable block"),
        ("Intro\n\n```console\n$ echo hi\n", "t.md:3: the code fence ``` opened here is never"),
        ("<!-- recipe: skp -->\n```bash\ntrue\n```\n", "did you mean 'skip'?"),
        ("<!-- recipe: timeout soon -->\n```bash\ntrue\n```\n", "'timeout' needs seconds"),
        ("<!-- recipe skip -->\n```bash\ntrue\n```\n", "write <!-- recipe: NAME -->"),
        ("```bash\ntrue\n```\n<!-- recipe: skip -->\n", "comes after the last block"),
    ],
)
def test_bad_tutorials_get_one_line_with_file_and_line(text: str, message: str) -> None:
    with pytest.raises(UserError) as caught:
        _parse(text)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_only_dockers_own_options_open_a_session() -> None:
    from generator.tutorial.console import opens_session

    assert opens_session("sudo docker container run --rm -e A=1 -ti busybox sh")
    assert opens_session("docker exec -it --user root web sh")
    assert not opens_session("docker run --rm busybox ls -t")  # ls's -t, not docker's
    assert not opens_session("docker run -dit --name a1 busybox ash")  # detached


def test_annotations_read_in_any_case_and_an_unclosed_one_is_refused() -> None:
    capital = _parse("<!-- Recipe: skip -->\n```bash\ntrue\n```\n")
    assert capital.blocks[0].annotations == ("skip",)
    with pytest.raises(UserError, match=r"t\.md:3: the annotation opened here is never closed"):
        markdown.parse("# T\n\n<!-- recipe: skip\n```bash\ntrue\n```\n", "t.md")
