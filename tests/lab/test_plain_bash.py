"""A plain script (no `#@ steps`, no `#@ recipe`) runs under `recipe run` as under `bash`: the
same exit status, the same steps run. Without set -e a failing command is recorded and the run
goes on; with it, the run stops there; `exit N` ends it with N. Each script runs under both."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from generator import transcript as tr
from tests.lab.lab_cli import netns_names, recipe

NS = "rcp-pl-a"
pytestmark = pytest.mark.root

SCRIPTS = {
    # a preflight loop that ends in a failed test, as third-party scripts have: bash goes on
    "no-errexit": f"""#!/bin/bash
ip netns add {NS}
for tool in ip no-such-tool-rcp; do command -v "$tool" >/dev/null; done
echo after the loop
ip netns del {NS}
""",
    "errexit": f"""#!/bin/bash
set -euo pipefail
ip netns add {NS}
ip netns del {NS}
ls /no/such/dir-rcp
echo never
""",
    "exit-n": f"""#!/bin/bash
ip netns add {NS}
ip netns del {NS}
exit 3
echo never
""",
    "last-status": """#!/bin/sh
echo one
grep -q no-such-word-rcp /etc/hostname
""",
    "bare-exit": """#!/bin/bash
false
exit
""",
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_a_plain_script_runs_as_bash_runs_it(
    name: str, clean_machine: None, tmp_path: Path, env: dict[str, str]
) -> None:
    path = tmp_path / f"{name}.sh"
    path.write_text(SCRIPTS[name])
    bash = subprocess.run(["bash", str(path)], capture_output=True, text=True, check=False)
    assert NS not in netns_names()
    record = tmp_path / "run.transcript"
    done = recipe("run", str(path), "--record", str(record), env=env)
    assert done.returncode == bash.returncode, done.stderr
    assert "Traceback" not in done.stderr
    ran = "\n".join(s.stdout for s in tr.read(record).steps)
    assert ("after the loop" in ran) == ("after the loop" in bash.stdout)
    assert "never" not in ran
    assert NS not in netns_names()


def test_a_failing_step_goes_on_and_says_its_status(
    clean_machine: None, tmp_path: Path, env: dict[str, str]
) -> None:
    path = tmp_path / "lab.sh"
    path.write_text(SCRIPTS["no-errexit"])
    done = recipe("run", str(path), "--no-record", env=env)
    assert "ok, exit 1" in done.stderr and "echo after the loop" in done.stderr


def test_a_directive_keeps_the_strict_check(
    clean_machine: None, tmp_path: Path, env: dict[str, str]
) -> None:
    path = tmp_path / "lab.sh"
    path.write_text("#!/bin/bash\n#@ expect-output hello\nfalse\necho not reached\n")
    done = recipe("run", str(path), "--no-record", env=env)
    assert done.returncode == 1 and "not reached" not in done.stderr
