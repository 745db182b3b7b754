"""How `--host NAME` is resolved: inventory first, then ~/.ssh/config, then the address itself.
HOME and the inventory point into tmp, so the user's own ~/.ssh is never read or written."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.errors import UserError
from generator.hosts import inventory
from generator.shell.ssh_connect import HostUnreachable, connect
from generator.shell.ssh_target import SSHTarget, resolve, tool_known_hosts


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv(inventory.STATE_ENV, str(tmp_path / "state"))
    monkeypatch.delenv("RECIPE_KNOWN_HOSTS", raising=False)
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.chdir(tmp_path)  # no Vagrantfile here
    return home


@pytest.mark.parametrize(
    ("text", "user", "host", "port"),
    [
        ("10.0.0.5", None, "10.0.0.5", 22),
        ("vagrant@10.0.0.5", "vagrant", "10.0.0.5", 22),
        ("ops@lab.example:2222", "ops", "lab.example", 2222),
        ("[::1]:2200", None, "::1", 2200),
    ],
)
def test_addresses(text: str, user: str | None, host: str, port: int) -> None:
    target = resolve(text)
    assert (target.hostname, target.port, target.source) == (host, port, "address")
    if user:
        assert target.user == user
    assert target.known_hosts == tool_known_hosts()
    assert str(target.known_hosts).endswith(".local/state/recipe/known_hosts")


@pytest.mark.parametrize("text", ["no host!", "a@b@c", "host:99999", ""])
def test_bad_addresses_are_user_errors(text: str) -> None:
    with pytest.raises(UserError):
        resolve(text)


def test_ssh_config_host(isolated: Path) -> None:
    key = isolated / ".ssh" / "lab_key"
    key.write_text("not read here")
    key.chmod(0o600)
    (isolated / ".ssh" / "config").write_text(
        "Host lab1\n  HostName 10.9.8.7\n  User labber\n  Port 2201\n"
        "  IdentityFile ~/.ssh/lab_key\n"
        "Host *\n  ServerAliveInterval 30\n"
    )
    target = resolve("lab1")
    assert (target.source, target.hostname, target.user, target.port) == (
        "ssh-config",
        "10.9.8.7",
        "labber",
        2201,
    )
    assert target.identities == (str(key),)
    assert target.trust_user_known_hosts and not target.notes
    # Only `Host *` matches: the name is an address, not a configured host.
    assert resolve("other").source == "address"


def test_inventory_wins_and_pins_its_known_hosts(isolated: Path) -> None:
    (isolated / ".ssh" / "config").write_text("Host docker-node1\n  HostName 10.1.1.1\n")
    inventory.state_dir().mkdir(parents=True)
    inventory.write(
        [
            inventory.HostEntry(
                "docker-node1", "192.168.205.10", "root", 22, "/k/id", "/k/known_hosts"
            )
        ]
    )
    target = resolve("docker-node1")
    assert (target.source, target.hostname) == ("inventory", "192.168.205.10")
    assert target.known_hosts == Path("/k/known_hosts") and not target.trust_user_known_hosts


def test_a_virtual_node_by_address_is_reached_through_its_switch(isolated: Path) -> None:
    inventory.state_dir().mkdir(parents=True)
    inventory.write(
        [
            inventory.HostEntry(
                "docker-node1",
                "192.168.205.10",
                "root",
                22,
                "/k/id",
                "/k/known_hosts",
                netns="/run/x/switch.net",
            )
        ]
    )
    assert resolve("docker-node1").netns == "/run/x/switch.net"
    by_address = resolve("root@192.168.205.10")
    assert (by_address.source, by_address.netns) == ("address", "/run/x/switch.net")
    assert resolve("root@192.168.205.11").netns == ""


def test_a_node_whose_namespace_is_gone_says_to_bring_the_nodes_up(tmp_path: Path) -> None:
    gone = SSHTarget(
        "docker-node1",
        "192.168.205.10",
        22,
        "root",
        known_hosts=tmp_path / "kh",
        netns=str(tmp_path / "switch.net"),
    )
    with pytest.raises(HostUnreachable, match=r"switch.net is gone .*run `recipe hosts up`"):
        connect(gone, timeout=1)


def test_identity_option_comes_first_and_must_exist(tmp_path: Path) -> None:
    key = tmp_path / "mine"
    key.write_text("x")
    key.chmod(0o600)
    assert resolve("10.0.0.5", identity=str(key)).identities[0] == str(key)
    with pytest.raises(UserError, match="no such key file"):
        resolve("10.0.0.5", identity=str(tmp_path / "missing"))


def test_damaged_inventory_is_one_clear_error() -> None:
    inventory.state_dir().mkdir(parents=True)
    inventory.inventory_path().write_text("[hosts.x]\nport = 'twenty'\n")
    with pytest.raises(UserError, match="inventory .* is damaged"):
        resolve("x")
