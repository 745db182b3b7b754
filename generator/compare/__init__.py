"""Comparing runs: normalization, JSON data, the step diff, the drift report."""
