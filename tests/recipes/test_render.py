"""The renderer: no parameter can inject shell, and every recipe renders to shellcheck-clean bash.

The quoting property is checked against the script as `recipe run` reads it: each step is split
into shell words (with `;`, `|`, `&`, `(`, `)`, `<`, `>` as words of their own). Rendering a
hostile value must give exactly the words of the default render, with the default value swapped
for the hostile one inside the words that carried it: the value stays one intact word, or one
intact part of a word, and adds no command, operator or word of its own.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.errors import UserError
from generator.lab.script import parse
from generator.recipes import catalog as recipes
from generator.recipes.params import ParamValue, display
from generator.recipes.render import render_script

NAME_TYPES = ("str", "ifname", "netns", "container", "network", "image")
RECIPES = {recipe.name: recipe for recipe in recipes.load_all()}
TEXT_PARAMS = [
    (recipe.name, spec.name)
    for recipe in RECIPES.values()
    for spec in recipe.params
    if spec.type in NAME_TYPES
]

# Pieces that break naive quoting: command substitution, operators, quotes, globs, expansions,
# option-like leading dashes, and characters outside ASCII.
# fmt: off
PAYLOADS = [
    "$(touch /tmp/pwned)", "`touch /tmp/pwned`", "; touch /tmp/pwned", "&& reboot", "| cat",
    "'", '"', "\\", "' ; echo '", '" ; echo "', "*", "?", "[a]", "~", "{a,b}", "$HOME", "${x}",
    "$'\\n'", "!!", "#", "-rf", "--help", " ", "<x", ">x", "2>&1", "(x)", "é", "\u202e", "%s",
]
# fmt: on
# Text that a validator may accept, so the renderer is exercised with valid odd names too.
NAMEISH = st.text(alphabet="abcdefxyz019_.-@+:", min_size=1, max_size=12)
HOSTILE = st.one_of(
    st.text(max_size=30),
    NAMEISH,
    st.builds(lambda a, b, c: a + b + c, NAMEISH, st.sampled_from(PAYLOADS), NAMEISH),
    st.lists(st.sampled_from(PAYLOADS), min_size=1, max_size=4).map("".join),
)


def words(command: str) -> list[str]:
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""  # explanations are not part of a step; '#' in a value is text
    return list(lexer)


def step_words(script: str) -> list[list[str]]:
    parsed = parse(script)
    return [words(step.command) for step in parsed.all_steps]


@cache
def default_render(name: str) -> tuple[dict[str, ParamValue], list[list[str]]]:
    recipe = RECIPES[name]
    values = recipes.resolve(recipe, {})
    return values, step_words(render_script(recipe, values))


@pytest.mark.parametrize(("name", "param"), TEXT_PARAMS, ids=[f"{n}.{p}" for n, p in TEXT_PARAMS])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=HOSTILE)
def test_hostile_value_is_rejected_or_stays_one_word(name: str, param: str, value: str) -> None:
    recipe = RECIPES[name]
    try:
        values = recipes.resolve(recipe, {param: value})
        script = render_script(recipe, values)
    except UserError:
        return  # validation said no, with a message: that is one of the two allowed outcomes
    defaults, expected = default_render(name)
    old, new = display(defaults[param]), display(values[param])
    got = step_words(script)
    assert len(got) == len(expected), "the value changed how many steps the script has"
    carried = False
    for before, after in zip(expected, got, strict=True):
        assert len(after) == len(before), f"the value split or joined words: {after!r}"
        for want, have in zip(before, after, strict=True):
            if have != want:
                assert have == want.replace(old, new), f"word {want!r} became {have!r}"
                carried = True
    assert carried or old == new, f"{param}={new!r} never reached a command"


def test_injected_banner_is_one_word_that_bash_never_runs(tmp_path: Path) -> None:
    """ping-telnet's banner is free text: `$(...)`, backticks and `;` must reach nc as data.

    bash runs the rendered server step for real, with `ip` shadowed by a function that writes
    each argument it receives on a line of its own: the banner must arrive as one argument, and
    the commands inside it must never run."""
    pwned, argv = tmp_path / "pwned", tmp_path / "argv"
    banner = f"x$(touch {pwned}) `touch {pwned}`; touch {pwned} 'q' \"d\" $HOME"
    recipe = RECIPES["ping-telnet"]
    script = render_script(recipe, recipes.resolve(recipe, {"banner": banner}))
    server = next(s for s in parse(script).steps if "nc -ll" in s.command)
    shim = f"ip() {{ printf '%s\\n' \"$@\" >>{shlex.quote(str(argv))}; }}\n"
    subprocess.run(["bash", "-c", shim + server.command + "\nwait"], check=True, timeout=10)
    assert argv.read_text().splitlines()[-1] == banner
    assert not pwned.exists()


def test_reader_takes_a_keyword_argument_as_a_plain_word() -> None:
    recipe = RECIPES["netns-basics"]
    script = render_script(recipe, recipes.resolve(recipe, {"ns1": "if"}))
    assert "ip netns add if" in [step.command for step in parse(script).steps]


def test_value_with_line_break_is_refused() -> None:
    recipe = RECIPES["ping-telnet"]
    for breaker in ("\n", "\r", "\x85", "\u2028"):  # every one ends a line for splitlines()
        with pytest.raises(UserError, match="control characters"):
            recipes.resolve(recipe, {"banner": f"a{breaker}touch /tmp/pwned"})


# Extra parameter sets that take other branches of a template.
VARIANTS: dict[str, list[dict[str, str]]] = {
    "linux-bridge": [{"nat": "true"}, {"n": "1"}, {"n": "100", "nat": "true"}],
    # A `$` in a value is single-quoted text; shellcheck notes that as SC2016 (info), so the
    # variant here quotes apostrophes and double quotes only.
    "ping-telnet": [{"banner": 'it\'s a "quoted" banner; ok'}],
}
SHELLCHECK_CASES = [
    (name, flags, overrides)
    for name in sorted(RECIPES)
    for flags in ((), ("--sudo",), ("--no-teardown",))
    for overrides in [{}, *VARIANTS.get(name, [])]
]


@pytest.mark.skipif(
    shutil.which("shellcheck") is None, reason="needs shellcheck (apt install shellcheck)"
)
@pytest.mark.parametrize(
    ("name", "flags", "overrides"),
    SHELLCHECK_CASES,
    ids=[f"{n}{''.join(f)}{'-' + '-'.join(o) if o else ''}" for n, f, o in SHELLCHECK_CASES],
)
def test_every_render_passes_shellcheck(
    name: str, flags: tuple[str, ...], overrides: dict[str, str]
) -> None:
    recipe = RECIPES[name]
    values = recipes.resolve(recipe, overrides)
    script = render_script(
        recipe, values, sudo="--sudo" in flags, teardown="--no-teardown" not in flags
    )
    done = subprocess.run(
        ["shellcheck", "-s", "bash", "-"], input=script, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_sudo_prefixes_root_commands_and_no_teardown_drops_the_trap() -> None:
    recipe = RECIPES["linux-bridge"]
    values = recipes.resolve(recipe, {})
    with_sudo = parse(render_script(recipe, values, sudo=True))
    assert all(s.command.startswith(("sudo ", "if sudo ", "chain=")) for s in with_sudo.steps)
    bare = render_script(recipe, values, teardown=False)
    assert "trap teardown EXIT" not in bare
    assert parse(bare).teardown == ()
