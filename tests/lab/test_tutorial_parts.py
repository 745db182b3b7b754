"""A tutorial's steps as to_script makes them and the outside-the-lab rule, without a run: which
lines reach a container, which run on the host, which are never sent."""

from __future__ import annotations

import pytest

from generator.commands.tutorial import tutorial_hosts
from generator.errors import UserError
from generator.lab.steps import Script
from generator.lab.tutorial_outside import needs_internet
from generator.lab.tutorial_script import to_script, with_images
from generator.tutorial import markdown

KNOWN = frozenset({"localhost", "web"})


def _script(text: str) -> Script:
    return to_script(markdown.parse(text, "t.md"))


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ("ping -c 1 www.example.com", "www.example.com is not a name in the lab"),
        ("docker exec web ping -c 1 example.com", "example.com is not a name in the lab"),
        ("ip netns exec red curl -s http://example.org/x", "example.org is not a name in the lab"),
        ("docker run --rm busybox wget -qO- http://example.net", "example.net is not a name"),
        ("sh -c 'ping -c1 8.8.8.8'", "8.8.8.8 is a public address"),
        ("timeout 5 ping 1.1.1.1", "1.1.1.1 is a public address"),
        ("kubectl exec p -- nslookup example.com", "example.com is not a name in the lab"),
        ("docker exec -it web sh -c 'apk add curl'", "apk add needs the internet"),
        ("sudo apt-get install -y curl", "apt-get install needs the internet"),
        ("docker pull alpine", "docker pull needs the internet"),
        ("docker run -d --dns 8.8.8.8 busybox sleep 9", "--dns 8.8.8.8 sends the container's"),
        ("docker run -d --net=host busybox httpd", "a container on the host's network is beyond"),
        ("docker run --pull always busybox true", "--pull always asks a registry"),
        ("docker compose up -d", "docker compose needs the internet"),
        ("docker build -t web .", "docker build needs the internet"),
    ],
)
def test_what_would_leave_the_machine_is_named(command: str, reason: str) -> None:
    found = needs_internet(command, KNOWN)
    assert found is not None and found.startswith(reason), found


@pytest.mark.parametrize(
    "command",
    [
        "ping -c 1 web",
        "docker exec web ping -c 1 web",
        "sudo ip netns exec red ping -c 1 10.0.0.2",
        "docker run --name ping busybox true",  # a container named ping pings nothing
        "docker run -d --dns 172.17.0.1 busybox sleep 9",
        "curl -s http://localhost:8080/",
        "ip addr add 10.0.0.1/24 dev veth0",
        "ip link add host type veth peer name guest",  # a link named host is no lookup
    ],
)
def test_what_stays_in_the_lab_may_run(command: str) -> None:
    assert needs_internet(command, KNOWN) is None


def test_a_container_line_after_its_session_never_runs_on_the_host() -> None:
    script = _script(
        "```console\n$ docker run -dit --name web busybox sh\n$ docker attach web\n```\n\n"
        "Inside:\n\n```console\n/ # hostname\nweb\n```\n\nDetach with CTRL-p CTRL-q.\n\n"
        "```console\n/ # rm -rf /tmp/x\n```\n"
    )
    session = next(s for s in script.steps if s.interactive is not None)
    assert session.interactive is not None and session.interactive.lines == ("hostname",)
    orphan = script.steps[-1]
    assert orphan.command == "rm -rf /tmp/x" and orphan.skip is not None
    assert "whose session is not open here" in orphan.skip
    assert orphan.phase == "main"  # not taken for the page's cleanup either


def test_a_session_block_last_is_no_teardown() -> None:
    script = _script(
        "```console\n$ docker run -dit --name web busybox sh\n$ docker attach web\n```\n\n"
        "```console\n/ # hostname\nweb\n```\n"
    )
    assert not script.teardown
    session = script.steps[-1]
    assert session.interactive is not None and session.interactive.lines == ("hostname",)


def test_trailing_removals_are_the_teardown_and_a_cleanup_session_keeps_its_phase() -> None:
    script = _script(
        "```console\n$ docker run -dit --name web busybox sh\n```\n\n"
        "## Clean up\n\n```console\n$ docker exec -it web sh\n/ # rm /tmp/state\n/ # exit\n"
        "$ docker rm -f web\nweb\n```\n"
    )
    assert [s.command for s in script.steps] == ["docker run -dit --name web busybox sh"]
    first, second = script.teardown
    assert first.interactive is not None and first.phase == "teardown"
    assert second.command == "docker rm -f web" and second.phase == "teardown"
    removal = _script("```bash\nip netns add red\n```\n\n```bash\n# done\nip netns del red\n```\n")
    assert [s.command for s in removal.teardown] == ["ip netns del red"]
    mixed = _script("```bash\nip netns add red\n```\n\n```bash\nip netns del red\nls /\n```\n")
    assert not mixed.teardown  # a block that does more than remove is the tutorial's own


def test_a_container_id_prompt_stays_in_the_session() -> None:
    script = _script(
        "```console\n$ docker run -it --rm ubuntu bash\nroot@3f2a1b9c0d4e:/# hostname\n"
        "3f2a1b9c0d4e\nroot@3f2a1b9c0d4e:/# exit\n$ docker ps\n```\n"
    )
    session, after = script.steps
    assert session.interactive is not None and session.interactive.lines == ("hostname",)
    assert after.command == "docker ps" and after.interactive is None


def test_crlf_pages_parse_as_their_lf_twins() -> None:
    text = "# T\n\n```console\n$ ip netns list\nred\n```\n"
    crlf = markdown.parse(text.replace("\n", "\r\n"), "t.md")
    lf = markdown.parse(text, "t.md")
    assert crlf.blocks == lf.blocks


def test_an_attach_to_a_skipped_block_is_not_refused_but_an_unknown_one_is() -> None:
    skipped = _script("<!-- recipe: skip -->\n```console\n$ docker attach elsewhere\n```\n")
    assert skipped.steps[0].skip is not None
    with pytest.raises(UserError, match=r"t\.md:2: docker attach nowhere: no container"):
        _script("```console\n$ docker attach nowhere\n```\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("```bash\ntrue\n```\n\n<!-- recipe: skip -->\n", "t.md:5: the annotation skip comes"),
        ("<!-- recipe: on -->\n```bash\ntrue\n```\n", "needs a host role, got nothing"),
        ("<!-- recipe: timeout soon -->\n```bash\ntrue\n```\n", "needs seconds, got soon"),
    ],
)
def test_annotation_mistakes_name_their_line(text: str, message: str) -> None:
    with pytest.raises(UserError) as raised:
        markdown.parse(text, "t.md")
    assert message in str(raised.value)


def test_images_are_replaced_as_words_never_as_names() -> None:
    images = (("alpine", "busybox"),)
    assert with_images("docker run -d --name alpine alpine:3.19 ash", images) == (
        "docker run -d --name alpine busybox ash"
    )
    assert with_images("echo alpine-linux", images) == "echo alpine-linux"


def test_a_tutorials_roles_take_hosts_in_order_by_name_or_by_default() -> None:
    script = _script("```bash\ntrue\n```\n\n<!-- recipe: on docker-node2 -->\n```bash\ntrue\n```\n")
    assert script.hosts == ("main", "docker-node2")
    assert tutorial_hosts(script, []) == ["main=local", "docker-node2=docker-node2"]
    assert tutorial_hosts(script, ["docker-node1"]) == [
        "main=docker-node1",
        "docker-node2=docker-node2",
    ]
    assert tutorial_hosts(script, ["docker-node2=local", "n1"]) == [
        "main=n1",
        "docker-node2=local",
    ]
    plain = _script("```bash\ntrue\n```\n")
    assert plain.hosts == () and tutorial_hosts(plain, ["h"]) == ["h"]


def test_every_docker_run_of_a_command_names_its_image() -> None:
    from generator.lab.tutorial_run import images_of

    assert images_of("docker run -d --name web \\\n  nginx") == ["nginx"]
    assert images_of("echo hi; docker run -d busybox sleep 1 && docker run -q nginx") == [
        "busybox",
        "nginx",
    ]
    assert images_of("docker network create n") == []
