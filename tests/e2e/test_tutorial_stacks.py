"""`recipe replay PAGE.md --stack A --stack B`: a tutorial checked on a node of each stack, a
verdict per block per stack, on real nodes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from generator.hosts import inventory
from tests.cli_runner import assert_one_line_error, invoke

pytestmark = pytest.mark.root

# In the style of a blog post: one block whose output any stack prints alike, and one that
# shows the version of the shell, which a newer busybox changes.
PAGE = """\
# A container's shell

Start a container that waits:

```console
$ docker run -d --name rcp-st-c busybox sleep 300 >/dev/null
$ docker exec rcp-st-c echo hello
hello
```

Which busybox is that?

```console
$ docker exec rcp-st-c sh -c 'busybox | head -n 1 | cut -d" " -f1,2'
BusyBox v1.35.0
```

Clean up:

```console
$ docker rm -f rcp-st-c >/dev/null
```
"""


def test_a_tutorial_gets_a_verdict_per_block_per_stack(
    _virtual_nodes_session: None, stack_root: Callable[[str], Path], tmp_path: Path
) -> None:
    stack_root("debian-13")
    page = tmp_path / "shell.md"
    page.write_text(PAGE)
    before = set(inventory.load())
    done = invoke("replay", str(page), "--stack", "debian-12", "--stack", "debian-13", "-q")
    assert done.returncode == 1, done.stderr  # block 2 differs on one stack
    rows = {line.split("  ")[0]: line.split() for line in done.stdout.splitlines()}
    block1 = next(v for k, v in rows.items() if k.startswith("block 1 "))
    block2 = next(v for k, v in rows.items() if k.startswith("block 2 "))
    assert block1[-2:] == ["holds", "holds"]
    assert block2[-2:] == ["holds", "differs"]  # busybox 1.37 on Debian 13
    assert "3 of 3 blocks hold on debian-12" in done.stdout
    assert "2 of 3 blocks hold on debian-13 (1 differs)" in done.stdout
    assert set(inventory.load()) == before  # the nodes made for it are gone
    assert page.read_text() == PAGE  # checking never writes the page


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--stack", "debian-12", "--stack", "debian-13", "--update"], "give one --stack"),
        (["--stack", "debian-12", "-j", "2"], "leave out -j"),
    ],
)
def test_bad_tutorial_stack_input_is_one_line(
    tmp_path: Path, args: list[str], fragment: str
) -> None:
    page = tmp_path / "shell.md"
    page.write_text(PAGE)
    assert_one_line_error(invoke("replay", str(page), *args), fragment)
