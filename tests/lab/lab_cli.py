"""What the `recipe run` tests share: a failing script, and `recipe` run as a user runs it."""

from __future__ import annotations

import subprocess
from pathlib import Path

NS = "rcp-run-a"


NS2 = "rcp-run-b"


FAILING = f"""#!/usr/bin/env bash
#@ timeout 10
set -euo pipefail
#@ teardown
teardown() {{
  set +e
  ip netns delete {NS} 2>/dev/null
  ip netns delete {NS2} 2>/dev/null
}}
trap teardown EXIT
#@ end-teardown

#@ steps
# Make a namespace.
ip netns add {NS}

# This step must print a word it never prints.
#@ expect-output "no such word"
echo "something else"; echo "and a warning" >&2

ip netns add {NS2}
"""


def recipe(
    *args: str,
    env: dict[str, str],
    stdin: str | None = None,
    cwd: Path | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """`recipe ARGS` as a user runs it; a short timeout catches a hang on a FIFO or an endless
    file."""
    return subprocess.run(
        ["recipe", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def start(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """`recipe ARGS` in the background, its output piped, for a test that signals it."""
    return subprocess.Popen(
        ["recipe", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def netns_names() -> set[str]:
    done = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    return {line.split()[0] for line in done.stdout.splitlines() if line.strip()}
