"""Tests of generator/compare/."""
