"""Whole-CLI and whole-lab runs."""
