"""Two recordings of one lab on two stacks, step by step: the comparison `recipe diff A B` makes
of their steps (generator/commands/replay.py), with the recipe's own normalization, each side
named by its stack ("exit status 0 on Debian 12, 1 on Debian 13")."""

from __future__ import annotations

from dataclasses import replace

from generator.compare import jsondata
from generator.compare.for_transcript import normalization
from generator.compare.runs import UNORDERED, CompareOptions, StepDrift, compare
from generator.compare.sides import Sides
from generator.errors import UserError
from generator.recipes.catalog import Recipe
from generator.transcript import Transcript, redact, state_names


def options_for(recipe: Recipe | None) -> CompareOptions:
    """What replay and diff normalize with (lab/replay.compare_options), without --ignore."""
    found = normalization(recipe)
    try:
        ignore = tuple(jsondata.parse_path(p) for p in found.ignore)
    except jsondata.PathError as exc:
        raise UserError(f"{recipe.name if recipe else 'recipe'}: ignore: {exc}") from None
    return CompareOptions(
        found.rules, ignore, UNORDERED + found.unordered, redact.for_recipe(recipe)
    )


def stack_sides(base: str, other: str) -> Sides:
    return Sides(
        old=base,
        new=other,
        then=f"on {base}",
        now=f"on {other}",
        as_then=f"on {base}",
        old_label=base,
        new_label=other,
    )


def drifts(
    base: Transcript, other: Transcript, recipe: Recipe | None, titles: tuple[str, str]
) -> list[StepDrift]:
    """The steps of `other` that differ from `base` once both are normalized; a step one side
    lacks is a drift too. `titles`: the two stacks' names for the lines (Debian 12, Debian 13)."""
    options = replace(options_for(recipe), sides=stack_sides(*titles))
    names = (state_names.of_records(base.snapshots), state_names.of_records(other.snapshots))
    return compare(base.steps, other.steps, options, names).drifts
