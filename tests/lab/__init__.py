"""Tests of generator/lab/."""
