"""The Vagrantfile and its provisioning script, checked by the real tools, and Vagrant as a host
source for --host."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator.errors import UserError
from generator.shell.ssh_target import _from_vagrant, from_ssh_config_text, resolve, vagrant_defines

ROOT = Path(__file__).resolve().parents[2]
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
        ["vagrant", "validate", "--ignore-provider"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **env},
        timeout=120,
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
    done = subprocess.run(
        ["shellcheck", str(ROOT / "vagrant" / "provision.sh")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout


def test_vagrant_ssh_config_is_used_but_its_host_key_setting_is_not() -> None:
    target = from_ssh_config_text("docker-node1", SSH_CONFIG, source="vagrant")
    assert (target.hostname, target.port, target.user) == ("127.0.0.1", 2222, "vagrant")
    assert target.identities[0].endswith("docker-node1/virtualbox/private_key")
    assert target.notes and "StrictHostKeyChecking no" in target.notes[0]
    assert "still checks the host key" in target.notes[0]


def _down_nodes(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The virtual nodes down (an empty inventory), from a folder with the Vagrantfile."""
    monkeypatch.setenv("RECIPE_HOSTS_STATE", str(project / "hosts-state"))
    monkeypatch.setenv("HOME", str(project / "home"))
    monkeypatch.chdir(project)


@needs_vagrant
def test_stopped_virtual_nodes_without_a_vagrant_provider_say_recipe_hosts_up(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As on CI: vagrant installed without any provider. Its advice would lead nowhere."""
    _down_nodes(project, monkeypatch)
    monkeypatch.delenv("VAGRANT_DEFAULT_PROVIDER", raising=False)
    with pytest.raises(UserError) as caught:
        resolve("docker-node1")
    assert caught.value.message == (
        "docker-node1 is one of recipe's virtual nodes, and they are down: "
        "run `recipe hosts up` first"
    )
    assert _from_vagrant("not-in-vagrantfile", project) is None


@needs_vagrant
@pytest.mark.skipif(shutil.which("docker") is None, reason="vagrant's docker provider needs docker")
def test_a_usable_vagrant_is_mentioned_too(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a provider vagrant can use (its built-in docker one), a Vagrant machine of that name
    could be what the user means: both ways are named."""
    _down_nodes(project, monkeypatch)
    monkeypatch.setenv("VAGRANT_DEFAULT_PROVIDER", "docker")
    with pytest.raises(
        UserError,
        match=r"run `recipe hosts up` first; or, for the Vagrant machine "
        r"of that name: `vagrant up docker-node1` \(`vagrant ssh-config docker-node1` "
        r"said: The provider .* not yet ready for SSH",
    ):
        resolve("docker-node1")


@needs_vagrant
def test_another_vagrant_machine_without_a_provider_says_so(project: Path) -> None:
    path = project / "Vagrantfile"
    path.write_text(path.read_text().replace('"docker-node2" =>', '"web" =>'))
    with pytest.raises(
        UserError,
        match=r"defines web, but vagrant cannot run machines here: No "
        "usable default provider",
    ):
        _from_vagrant("web", project)


def test_replay_while_the_nodes_are_down_says_recipe_hosts_up(project: Path) -> None:
    """The reported case, end to end: `recipe replay` of a golden made on the virtual nodes."""
    env = {
        **os.environ,
        "RECIPE_HOSTS_STATE": str(project / "hosts-state"),
        "HOME": str(project / "home"),
        "RECIPE_STATE_DIR": str(project / "labs"),
        "PYTHONPATH": str(ROOT),
    }  # this checkout, from a folder outside it
    env.pop("VAGRANT_DEFAULT_PROVIDER", None)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from generator.cli import main; main()",
            "replay",
            "-q",
            str(ROOT / "transcripts" / "vxlan.transcript"),
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        "recipe: docker-node1 is one of recipe's virtual nodes, and they are down: run "
        "`recipe hosts up` first"
    )
