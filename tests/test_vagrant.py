"""The Vagrantfile and its provisioning script, checked by the real tools, and Vagrant as a host
source for --host."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from generator.errors import UserError
from generator.shell.ssh_target import _from_vagrant, from_ssh_config_text, vagrant_defines

ROOT = Path(__file__).resolve().parent.parent
needs_vagrant = pytest.mark.skipif(shutil.which("vagrant") is None, reason="needs vagrant")

# What `vagrant ssh-config docker-node1` prints for a running VirtualBox machine.
SSH_CONFIG = """\
Host docker-node1
  HostName 127.0.0.1
  User vagrant
  Port 2222
  UserKnownHostsFile /dev/null
  StrictHostKeyChecking no
  PasswordAuthentication no
  IdentityFile /home/me/lab/.vagrant/machines/docker-node1/virtualbox/private_key
  IdentitiesOnly yes
  LogLevel FATAL
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the Vagrant files, so vagrant's .vagrant folder never lands in the repository."""
    shutil.copy(ROOT / "Vagrantfile", tmp_path / "Vagrantfile")
    shutil.copytree(ROOT / "vagrant", tmp_path / "vagrant")
    return tmp_path


def _validate(project: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["vagrant", "validate", "--ignore-provider"], cwd=project, capture_output=True, text=True, check=False,
        env={**os.environ, **env}, timeout=120,
    )


@needs_vagrant
@pytest.mark.parametrize("box", ["", "centos/7"])
def test_vagrantfile_validates(project: Path, box: str) -> None:
    done = _validate(project, RECIPE_BOX=box) if box else _validate(project)
    assert done.returncode == 0, done.stderr
    assert "validated successfully" in done.stdout


@needs_vagrant
def test_validate_would_catch_a_broken_network(project: Path) -> None:
    """The check above means something: a wrong network type fails it."""
    path = project / "Vagrantfile"
    path.write_text(path.read_text().replace('"private_network"', '"bogus_network"'))
    done = _validate(project)
    assert done.returncode != 0 and "bogus_network" in done.stdout + done.stderr


def test_vagrantfile_names_the_walkthrough_nodes() -> None:
    text = (ROOT / "Vagrantfile").read_text()
    assert '"docker-node1" => "192.168.205.10"' in text
    assert '"docker-node2" => "192.168.205.11"' in text
    assert vagrant_defines("docker-node1", ROOT) and not vagrant_defines("docker-node3", ROOT)


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="needs shellcheck")
def test_provisioning_script_passes_shellcheck() -> None:
    done = subprocess.run(["shellcheck", str(ROOT / "vagrant" / "provision.sh")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout


def test_vagrant_ssh_config_is_used_but_its_host_key_setting_is_not() -> None:
    target = from_ssh_config_text("docker-node1", SSH_CONFIG, source="vagrant")
    assert (target.hostname, target.port, target.user) == ("127.0.0.1", 2222, "vagrant")
    assert target.identities[0].endswith("docker-node1/virtualbox/private_key")
    assert target.notes and "StrictHostKeyChecking no" in target.notes[0]
    assert "still checks the host key" in target.notes[0]


@needs_vagrant
def test_a_vagrant_machine_that_is_not_running_is_a_clear_error(project: Path) -> None:
    with pytest.raises(UserError, match=r"vagrant ssh-config docker-node1` failed: .*vagrant up"):
        _from_vagrant("docker-node1", project)
    assert _from_vagrant("not-in-vagrantfile", project) is None
