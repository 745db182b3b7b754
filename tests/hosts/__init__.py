"""Tests of generator/hosts/."""
