"""The recipe a transcript names: the one loader `recipe replay`, `diff`, `docs`, `claims` and the
redaction of pages use, with one error rule, and the normalization and redaction it brings.

It lives with the comparison because that is what it serves: a transcript read back for a
comparison, a page or a cast needs the recipe's [[normalize]] and [[secret]] rules.

- None: the transcript names no recipe (a plain script's run), or names one that is in none of
  the recipe folders (removed since, or recorded elsewhere). Each caller says what that means:
  a page shows the run without the recipe's prose, replay refuses to render it again (or runs
  the recorded commands with --recorded-commands), comparisons use the built-in rules only.
- UserError: the recipe is there but broken: its recipe.toml does not load, or one of its
  `[[normalize]]` or `[[secret]]` tables cannot be used. One line naming the file, the same
  wherever the recipe is loaded; never dropped: a pattern left out would hide drift in a
  comparison, or put a secret on a page.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from generator.compare.normalize import RecipeNormalization, recipe_rules
from generator.errors import UserError
from generator.recipes.catalog import METADATA, Recipe, discover, load_dir
from generator.transcript import Transcript, redact
from generator.transcript.patterns import PatternError


class NamesARecipe(Protocol):
    """What the loader reads of a transcript's header (generator/transcript/reader.Header)."""

    @property
    def recipe(self) -> str | None: ...


def recipe_for(header: NamesARecipe, recipe_dirs: Iterable[Path] = ()) -> Recipe | None:
    """The recipe the header names, loaded and checked whole; None when there is none to load."""
    if not header.recipe:
        return None
    found = discover(recipe_dirs)
    if header.recipe not in found:
        return None
    recipe = load_dir(found[header.recipe])
    normalization(recipe)  # raises for a broken [[normalize]]
    redact.for_recipe(recipe)  # and for a broken [[secret]]
    return recipe


def normalization(recipe: Recipe | None) -> RecipeNormalization:
    """The recipe's `[[normalize]]` tables; a broken one is the loader's UserError."""
    if recipe is None:
        return RecipeNormalization()
    try:
        return recipe_rules(recipe.extra, str(source(recipe)))
    except PatternError as exc:
        raise UserError(str(exc)) from None


def source(recipe: Recipe) -> Path:
    """The file a recipe's errors name."""
    return recipe.directory / METADATA


def redactor_for(transcript: Transcript, recipe_dirs: Iterable[Path] = ()) -> redact.Redactor:
    """The redactor of the recipe a transcript names, when this machine has it. A recipe that is
    gone leaves the built-ins; a broken one (a [[secret]] above all) is the loader's error, never
    a silent leak."""
    return redact.for_recipe(recipe_for(transcript.header, recipe_dirs))


def redacted(transcript: Transcript, recipe_dirs: Iterable[Path] = ()) -> Transcript:
    """A transcript as a page may show it: its recipe's secrets and the built-ins redacted."""
    return redactor_for(transcript, recipe_dirs).transcript(transcript)
