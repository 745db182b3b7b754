"""Tests of generator/transcript/."""
