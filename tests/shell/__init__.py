"""Tests of generator/shell/."""
