"""Any value at all, through every parameter type: the only exception is the project's own
UserError (one line, exit 2 at the CLI), never a traceback."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.errors import UserError
from generator.recipes import catalog as recipes
from generator.recipes.params import PARSERS, ParamError, ParamSpec

# Text of every kind, surrogates (argv bytes under surrogateescape) and NUL included, numbers
# far past int()'s digit limit, and values of other types as a TOML default could give.
VALUES = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=40),
    st.text(alphabet="0123456789-+ ", min_size=1, max_size=40),
    st.integers(min_value=4000, max_value=6000).map(lambda n: "7" * n),
    st.binary(max_size=20).map(lambda b: b.decode("utf-8", "surrogateescape")),
    st.sampled_from(
        [
            "-n",
            "--",
            "lo",
            "docker0",
            "0.0.0.0/8",
            "240.0.0.0/24",
            "255.255.255.255",
            "10.0.0.2/16",
            "\x00",
            "\udcff",
            "1" * 5000,
            "1e9",
            "²",
        ]
    ),
    st.integers(),
    st.booleans(),
    st.floats(),
    st.none(),
)


@pytest.mark.parametrize("kind", sorted(PARSERS))
@settings(max_examples=250, deadline=None)
@given(raw=VALUES)
def test_a_parameter_type_raises_only_its_own_error(kind: str, raw: object) -> None:
    spec = ParamSpec(name="p", type=kind, default=None, help="", min=1, max=100)
    try:
        spec.parse(raw)
    except ParamError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 400


RECIPE = recipes.load("veth-pair")


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from([p.name for p in RECIPE.params]), raw=VALUES.map(str))
def test_resolve_raises_only_user_error_with_one_short_line(name: str, raw: str) -> None:
    try:
        recipes.resolve(RECIPE, {name: raw})
    except UserError as exc:
        assert "\n" not in exc.message and len(exc.message) < 400
