"""Tests of generator/recipes/."""
