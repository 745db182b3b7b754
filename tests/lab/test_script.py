"""The script reader: step boundaries, explanations, directives and the teardown block."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.errors import UserError
from generator.lab.bashlex import is_complete
from generator.lab.script import load, parse
from generator.recipes import catalog as recipes
from generator.recipes.render import render_script
from generator.transcript.expectation import Expectation


@pytest.mark.parametrize(
    ("text", "complete"),
    [
        ("ip netns add test1", True),
        ("for i in 1 2; do", False),
        ("for i in 1 2; do\n  echo $i\ndone", True),
        ("cat <<'EOF'\nping test1\nEOF", True),
        ("cat <<EOF\nhalf a heredoc", False),
        ("cat <<-EOF\n\tindented\n\tEOF", True),
        ("echo 'a\nb'", True),
        ("echo 'never closed", False),
        ('echo "a \\" b"', True),
        ("echo a \\", False),
        ("echo a \\\n  b", True),
        ("ip a |", False),
        ("true &&", False),
        ("if true; then echo; fi", True),
        ("if true; then", False),
        ("x=$(echo a)", True),
        ("x=$(echo a", False),
        ("case a in a) echo;; esac", True),
        ('echo "a # b" # c', True),
        ("{\n  echo\n}", True),
        ('while read -r x; do echo "$x"; done <<EOF\n1\nEOF', True),
        ("echo ')'", True),
        ("echo $((1 + 2))", True),
        ("echo done", True),
    ],
)
def test_is_complete(text: str, complete: bool) -> None:
    assert is_complete(text) is complete


def test_multiline_commands_are_one_step() -> None:
    script = parse(
        "# Loop over two names.\n"
        "for n in a b; do\n  echo $n\ndone\n\n"
        "# Feed a shell.\n"
        "sh <<'EOF'\necho inside\nEOF\n"
        "echo one \\\n  two\n"
    )
    commands = [s.command for s in script.steps]
    assert commands == [
        "for n in a b; do\n  echo $n\ndone",
        "sh <<'EOF'\necho inside\nEOF",
        "echo one \\\n  two",
    ]
    assert [s.explanation for s in script.steps] == ["Loop over two names.", "Feed a shell.", ""]
    assert [s.line for s in script.steps] == [2, 7, 10]


def test_directives_build_expectations() -> None:
    script = parse(
        '#@ expect-output " 0% packet loss"\n#@ timeout 5\nping -c 1 10.0.0.1\n'
        "#@ expect-fail\n! ping -c 1 nowhere\n"
        "#@ expect-exit 3\n#@ expect-no-output Traceback\n"
        "#@ expect-match ^ok$\nsh -c 'echo ok; exit 3'\n"
    )
    first, second, third = script.steps
    assert first.expect.output == (" 0% packet loss",) and first.timeout == 5.0
    assert second.command == "ping -c 1 nowhere" and second.expect.exit == "nonzero"
    assert third.expect == Expectation(exit=3, no_output=("Traceback",), match=("^ok$",))


def test_expectation_problems_name_each_contradiction() -> None:
    expect = Expectation(exit="nonzero", output=("0% packet loss",), no_output=("bad",))
    assert expect.problems(1, "3 received, 0% packet loss\n", "") == []
    problems = expect.problems(0, "bad things", "")
    assert problems == [
        "expected to fail, but exited 0",
        "output lacks '0% packet loss'",
        "output contains 'bad'",
    ]
    assert Expectation(exit="any").problems(7, "", "") == []


def test_interactive_step_keeps_the_typed_lines() -> None:
    script = parse(
        "#@ interactive docker exec -it test2 /bin/sh\n"
        "docker exec -i test2 /bin/sh <<'EOF'\nping -c 1 test1\ncat /etc/hosts\nEOF\n"
    )
    (step,) = script.steps
    assert step.interactive is not None
    assert step.interactive.spawn == "docker exec -it test2 /bin/sh"
    assert step.interactive.lines == ("ping -c 1 test1", "cat /etc/hosts")


def test_interactive_step_without_heredoc_is_refused() -> None:
    with pytest.raises(UserError, match=r"<script>:2: an '#@ interactive' step"):
        parse("#@ interactive docker exec -it t sh\necho no heredoc\n")


def test_unknown_directive_names_the_line() -> None:
    with pytest.raises(UserError, match=r"lab.sh:3: unknown step directive '#@ expect-teapot'"):
        parse("echo a\n\n#@ expect-teapot\necho b\n", source="lab.sh")


def test_unclosed_command_names_the_line() -> None:
    with pytest.raises(UserError, match=r"<script>:2: command never ends"):
        parse("echo a\nfor x in 1; do\n  echo\n")


def test_hand_written_script_skips_shebang_and_set_e() -> None:
    script = parse("#!/bin/bash\nset -euo pipefail\ntrap 'echo bye' EXIT\n# Say hi.\necho hi\n")
    assert [s.command for s in script.steps] == ["echo hi"]
    assert script.recipe is None


def test_rendered_recipe_round_trips_with_teardown_and_params() -> None:
    recipe = recipes.load("veth-pair")
    values = recipes.resolve(recipe, {"count": "2"})
    script = parse(render_script(recipe, values))
    assert script.recipe == "veth-pair"
    assert script.params["count"] == "2" and script.params["ns1"] == "test1"
    assert script.steps[0].command == "ip netns add test1"
    assert all(s.phase == "teardown" and s.expect.exit == "any" for s in script.teardown)
    assert script.teardown[0].command == "ip netns delete test1 2>/dev/null"
    assert not any("set -e" in s.command or "trap" in s.command for s in script.all_steps)


def test_no_teardown_render_has_no_teardown_steps() -> None:
    recipe = recipes.load("veth-pair")
    script = parse(render_script(recipe, recipes.resolve(recipe, {}), teardown=False))
    assert script.teardown == () and len(script.steps) > 10


def test_binary_and_missing_files_are_user_errors(tmp_path: Path) -> None:
    binary = tmp_path / "lab.sh"
    binary.write_bytes(b"\x7fELF\x00\x01")
    with pytest.raises(UserError, match="not a text script"):
        load(binary)
    with pytest.raises(UserError, match="cannot read script"):
        load(tmp_path / "missing.sh")
