"""One loader for the recipe a transcript names (generator/compare/for_transcript.py).

Its one rule: None when the transcript names no recipe or names one this machine does not have;
a recipe that is there but broken (its recipe.toml, a [[normalize]] or a [[secret]] table) is one
UserError, the same line wherever the recipe is loaded: replay, diff, docs, claims.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator.compare.for_transcript import normalization, recipe_for
from generator.errors import UserError
from generator.recipes import catalog
from generator.transcript import read_header
from tests.cli_runner import assert_one_line_error, recipe
from tests.docs_samples import transcript

BAD_NORMALIZE = '\n[[normalize]]\npattern = "(unclosed"\nplaceholder = "X"\n'
BAD_SECRET = '\n[[secret]]\npattern = ""\n'


def recipes_with(tmp_path: Path, extra: str) -> Path:
    """A recipe folder whose veth-pair (shadowing the built-in) has `extra` added."""
    folder = tmp_path / "recipes"
    shutil.copytree(catalog.BUILTIN_DIR / "veth-pair", folder / "veth-pair")
    with (folder / "veth-pair" / catalog.METADATA).open("a", encoding="utf-8") as meta:
        meta.write(extra)
    return folder


def test_no_recipe_named_or_none_installed_is_none(tmp_path: Path) -> None:
    script = read_header(transcript(tmp_path / "script.transcript", recipe=None))
    assert recipe_for(script) is None
    gone = read_header(transcript(tmp_path / "gone.transcript", recipe="no-such-recipe"))
    assert recipe_for(gone) is None


def test_the_installed_recipe_is_returned(tmp_path: Path) -> None:
    header = read_header(transcript(tmp_path / "veth-pair.transcript"))
    found = recipe_for(header)
    assert found is not None and found.name == "veth-pair"


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (BAD_NORMALIZE, "[[normalize]] entry"),
        (BAD_SECRET, "[[secret]] entry 1"),
        ("\n[broken\n", "invalid TOML"),
    ],
)
def test_a_broken_recipe_is_an_error(tmp_path: Path, extra: str, fragment: str) -> None:
    dirs = [recipes_with(tmp_path, extra)]
    header = read_header(transcript(tmp_path / "veth-pair.transcript"))
    with pytest.raises(UserError, match=r"veth-pair/recipe\.toml") as caught:
        recipe_for(header, dirs)
    assert fragment in str(caught.value) and "\n" not in str(caught.value)


def test_normalization_of_no_recipe_is_empty() -> None:
    assert normalization(None).rules == ()


def test_a_bad_normalize_pattern_is_the_same_error_in_replay_docs_diff_and_claims(
    tmp_path: Path,
) -> None:
    folder = recipes_with(tmp_path, BAD_NORMALIZE)
    path = str(transcript(tmp_path / "veth-pair.transcript"))
    out = str(tmp_path / "out")
    runs = {
        "replay": ["replay", "--dry-run", path],
        "replay --recorded-commands": ["replay", "--dry-run", "--recorded-commands", path],
        "diff": ["diff", path, path],
        "docs": ["docs", path, "-o", out],
        "docs --normalized": ["docs", "--normalized", path, "-o", out],
        "claims": ["claims", path],
    }
    lines = {
        name: assert_one_line_error(
            recipe("--recipes", str(folder), *args), "recipe.toml: [[normalize]] entry", "(unclosed"
        )
        for name, args in runs.items()
    }
    assert len(set(lines.values())) == 1, lines
