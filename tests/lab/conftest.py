"""Fixtures of the lab tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "RECIPE_STATE_DIR": str(tmp_path / "state")}
