"""`recipe docs --format cast`: asciicast v2 with one marker per step, played by asciinema
itself."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from generator.pages import write as docs
from tests.docs_samples import steps, transcript


def test_cast_has_one_marker_per_step_in_time_order(tmp_path: Path) -> None:
    cast = docs.write([transcript(tmp_path / "veth-pair.transcript")], tmp_path, fmt="cast")[0].path
    assert cast.name == "veth-pair.cast"
    header, *events = [json.loads(line) for line in cast.read_text().splitlines()]
    assert header["version"] == 2 and header["width"] > 0 and header["height"] > 0
    times = [e[0] for e in events]
    assert times == sorted(times)
    assert all(e[1] in ("o", "m") and isinstance(e[2], str) for e in events)
    markers = [e[2] for e in events if e[1] == "m"]
    assert len(markers) == len(steps())


@pytest.mark.skipif(shutil.which("asciinema") is None, reason="asciinema is not installed")
def test_asciinema_plays_the_cast(tmp_path: Path) -> None:
    cast = docs.write([transcript(tmp_path / "veth-pair.transcript")], tmp_path, fmt="cast")[0].path
    # `asciinema cat` wants a terminal; script(1) gives it one.
    played = subprocess.run(
        ["script", "-qec", f"asciinema cat {cast}", "/dev/null"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert played.returncode == 0, played.stdout + played.stderr
    screen = played.stdout
    assert "ip netns add test1" in screen and "0% packet loss" in screen
    assert "docker exec -it test3 /bin/sh" in screen
