"""Multi-host plumbing without the network: RoleShells over two real local bash sessions, how
--host values are assigned to roles, and how the session checks a script's hosts."""

from __future__ import annotations

import pytest

from generator.errors import UserError
from generator.lab.script import parse
from generator.lab.session import Lab, connect_hosts, host_facts
from generator.shell.local import LocalShell
from generator.shell.multi import RoleShells
from generator.shell.remote import assign

MULTI = """#@ hosts node-a node-b
#@ steps
#@ on node-a
export WHO=a
#@ on node-b
export WHO=b
"""


@pytest.fixture
def shells() -> RoleShells:
    return RoleShells({"node-a": LocalShell(env={"ROLE": "a"}), "node-b": LocalShell()})


def test_each_role_keeps_its_own_session(shells: RoleShells) -> None:
    with shells:
        shells.on("node-a").run("export WHO=a", 5)
        shells.on("node-b").run("export WHO=b", 5)
        assert shells.on("node-a").run('echo "$WHO"', 5).stdout == "a\n"
        assert shells.on("node-b").run('echo "$WHO"', 5).stdout == "b\n"
        # A step without `#@ on` runs on the first role.
        assert shells.on(None) is shells.on("node-a")
        assert shells.run('echo "$WHO"', 5).stdout == "a\n"


def test_an_unknown_role_is_one_user_error(shells: RoleShells) -> None:
    with pytest.raises(
        UserError, match="role 'node-c', but the hosts are given for: node-a, node-b"
    ):
        shells.on("node-c")


def test_leftover_snapshots_name_each_line_by_role(shells: RoleShells) -> None:
    with shells:
        out = shells.output_of("echo one; echo; echo @section")
    assert out.splitlines() == ["node-a:one", "", "@section", "node-b:one", "", "@section"]


def test_close_ends_every_session(shells: RoleShells) -> None:
    import os

    shells.start()
    pids = [shell.pid for shell in shells.shells.values() if isinstance(shell, LocalShell)]
    assert len(pids) == 2 and all(pids)
    shells.close()
    for pid in pids:
        assert pid is not None
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    shells.close()  # twice is safe


def test_facts_of_a_multi_host_lab_name_every_host(shells: RoleShells) -> None:
    with shells:
        facts = host_facts(shells)
    host = facts.host.split(",")
    assert [h.partition("=")[0] for h in host] == ["node-a", "node-b"]
    assert facts.kernel  # the first role's own facts


@pytest.mark.parametrize(
    ("hosts", "expected"),
    [
        (["h1", "h2"], {"node-a": "h1", "node-b": "h2"}),
        (["node-b=h2", "h1"], {"node-a": "h1", "node-b": "h2"}),
        (["node-b=h2", "node-a=h1"], {"node-a": "h1", "node-b": "h2"}),
        (["other=x", "h2"], {"node-a": "other=x", "node-b": "h2"}),  # not a role: a host name
    ],
)
def test_hosts_are_assigned_in_role_order_or_by_name(
    hosts: list[str], expected: dict[str, str]
) -> None:
    assert assign(hosts, ["node-a", "node-b"]) == expected


@pytest.mark.parametrize("hosts", [[], ["h1"], ["h1", "h2", "h3"], ["node-a=h1", "node-a=h2"]])
def test_a_wrong_number_of_hosts_is_one_user_error(hosts: list[str]) -> None:
    with pytest.raises(UserError, match="runs on 2 hosts \\(roles node-a, node-b\\)"):
        assign(hosts, ["node-a", "node-b"])


def test_the_session_gives_each_role_its_shell() -> None:
    shell, label = connect_hosts(Lab(parse(MULTI), ["local", "node-b=local"]))
    assert isinstance(shell, RoleShells) and list(shell.shells) == ["node-a", "node-b"]
    assert label == "node-a=local,node-b=local"


def test_a_single_host_script_takes_one_host() -> None:
    with pytest.raises(UserError, match="runs on one host; give --host once"):
        connect_hosts(Lab(parse("#@ steps\ntrue\n"), ["local", "local"]))


def test_a_step_on_a_role_the_script_does_not_declare_is_refused() -> None:
    script = parse(MULTI.replace("#@ on node-b", "#@ on node-z"))
    with pytest.raises(UserError, match="steps run on node-z, not among its hosts"):
        connect_hosts(Lab(script, ["local", "local"]))
