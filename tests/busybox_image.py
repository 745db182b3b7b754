"""The offline busybox image the docker tests run: build it once when it is missing."""

from __future__ import annotations

import subprocess


def ensure() -> None:
    present = subprocess.run(
        ["docker", "image", "inspect", "busybox"], capture_output=True, check=False
    )
    if present.returncode != 0:
        build = subprocess.run(
            ["recipe", "image", "build", "busybox"], capture_output=True, text=True, check=False
        )
        assert build.returncode == 0, build.stderr
