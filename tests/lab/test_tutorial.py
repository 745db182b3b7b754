"""Markdown tutorials run for real: Docker-docs-style pages (default bridge, user-defined
bridge, an attach session across blocks, a block that shows a failure, a block that pings the
internet) judged block by block, replayed, updated in place, and their bad input refused."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from generator import transcript as tr
from generator.hosts import images
from generator.transcript.blocks import verdicts
from tests.lab.lab_cli import recipe

pytestmark = pytest.mark.root
TUTORIALS = Path(__file__).parent / "tutorials"
BUSYBOX = ("--image", "alpine=busybox")


@pytest.fixture
def docker_lab(docker_engine: None, clean_machine: None) -> str:
    images.ensure_image("busybox:latest")
    return "busybox"


def _containers() -> set[str]:
    out = subprocess.run(
        ["docker", "ps", "-a", "--format", "{{.Names}}"], capture_output=True, text=True, check=True
    )
    return {line for line in out.stdout.split() if line.startswith("rcp-tut-")}


def test_the_default_bridge_tutorial_holds_block_by_block(
    docker_lab: str, env: dict[str, str], tmp_path: Path
) -> None:
    record = tmp_path / "t.transcript"
    page = TUTORIALS / "default-bridge.md"
    done = recipe("run", str(page), *BUSYBOX, "--record", str(record), env=env)
    assert done.returncode == 0, done.stderr
    assert "6 of 7 blocks hold (1 skipped)" in done.stderr
    # The internet is never asked: the ping to a public name is skipped, and says why.
    assert "outside the lab: www.example.com is not a name in the lab" in done.stderr
    transcript = tr.read(record)
    found = {b.number: b.verdict for b in verdicts(transcript.steps)}
    assert found == {
        1: "holds",
        2: "holds",
        3: "holds",
        4: "holds",
        5: "skipped",
        6: "holds",
        7: "holds",
    }
    session = next(s for s in transcript.steps if s.interactive)
    # The attach session ran the `/ # ` lines of the next block in the container.
    assert "ping: bad address 'rcp-tut-a2'" in session.stdout
    assert not _containers()
    _check_pages(record, tmp_path / "pages", env)
    # Its commands are a page's: replaying the record as a script would run what was skipped.
    again = recipe("replay", str(record), "--recorded-commands", env=env)
    assert again.returncode == 2
    assert "this is a Markdown tutorial's run; replay the tutorial itself" in again.stderr


def _check_pages(record: Path, out: Path, env: dict[str, str]) -> None:
    """`recipe docs` on the run: the summary line with the stack, a verdict per block, the
    steps under the block they stand in, in Markdown and in HTML."""
    for fmt in ("md", "html"):
        done = recipe("docs", str(record), "-o", str(out), "--format", fmt, env=env)
        assert done.returncode == 0, done.stderr
    page = (out / "t.md").read_text()
    html = (out / "t.html").read_text()
    assert "# Tutorial default-bridge.md" in page
    summary = re.search(
        r"\*\*6 of 7 blocks hold on (\w+ [\d.]+), Docker ([\d.]+) \(1 skipped\)", page
    )
    assert summary is not None, page[:400]
    assert f"{summary.group(0)[2:]}</strong>" in html
    rows = re.findall(r"^\| (\d) \| (\d+) \| (\w+) \| (.*) \|$", page, re.M)
    assert [(n, v) for n, _, v, _ in rows] == [
        ("1", "holds"), ("2", "holds"), ("3", "holds"), ("4", "holds"),
        ("5", "skipped"), ("6", "holds"), ("7", "holds"),
    ]  # fmt: skip
    assert "outside the lab: www.example.com is not a name in the lab" in rows[4][3]
    assert page.index("### Blocks 3 to 5: one session") < page.index("docker attach rcp-tut-a1")
    assert "- Block 5 (line 41): skipped" in page
    assert "> **Not run:** outside the lab" not in page  # the skipped line was in the session
    assert "output read against the page" in page
    # The skipped line of the session says why; the block's paragraph stands once.
    assert "> - ping -c 2 www.example.com: outside the lab: www.example.com is not a name" in page
    assert page.count("Run two long-lived shells in the background.") == 1
    assert '<tr class="skipped">' in html and "<li>Block 4 (line 32): holds</li>" in html


def test_a_drifted_block_is_named_with_a_diff_and_the_exit_status_is_1(
    docker_lab: str, env: dict[str, str], tmp_path: Path
) -> None:
    page = tmp_path / "drift.md"
    text = (TUTORIALS / "default-bridge.md").read_text()
    page.write_text(text.replace("eth0 172.17.0.2/16", "eth0 10.9.9.9/24"))
    done = recipe("run", str(page), *BUSYBOX, "--no-record", env=env)
    assert done.returncode == 1
    assert "block 4 (line 32) differs:" in done.stderr
    assert "-eth0 10.9.9.9/24" in done.stderr and "+eth0 172.17.0.2/16" in done.stderr
    assert not _containers()


def test_replay_update_rewrites_only_the_drifted_output_lines(
    docker_lab: str, env: dict[str, str], tmp_path: Path
) -> None:
    page = tmp_path / "drift.md"
    original = (TUTORIALS / "default-bridge.md").read_text()
    # Two drifts (an address, an error text) and one volatile difference (the status' age).
    drifted = original.replace("eth0 172.17.0.2/16", "eth0 10.9.9.9/24").replace(
        "ping: bad address", "ping: unknown host"
    )
    assert "Up 3 seconds" in drifted
    page.write_text(drifted)
    done = recipe("replay", str(page), *BUSYBOX, "--update", env=env)
    assert done.returncode == 0, done.stderr
    assert "updated the output of 2 commands" in done.stderr
    after = page.read_text()
    # Every other byte stays, the page's own "Up 3 seconds" included.
    assert after == original
    again = recipe("replay", str(page), *BUSYBOX, env=env)
    assert again.returncode == 0, again.stderr


def test_a_user_defined_bridge_tutorial_without_cleanup_leaves_nothing(
    docker_lab: str, env: dict[str, str]
) -> None:
    done = recipe("run", str(TUTORIALS / "user-bridge.md"), *BUSYBOX, "--no-record", env=env)
    assert done.returncode == 0, done.stderr
    assert "5 of 5 blocks hold" in done.stderr
    assert "the safety net removed container rcp-tut-b1" in done.stderr
    assert not _containers()


def test_an_image_that_is_not_here_is_skipped_never_pulled(
    docker_lab: str, env: dict[str, str], tmp_path: Path
) -> None:
    page = tmp_path / "pull.md"
    page.write_text("```console\n$ docker run --rm rcp-no-such-image:1 true\n```\n")
    done = recipe("run", str(page), "--no-record", env=env)
    assert done.returncode == 0, done.stderr
    assert "the image rcp-no-such-image:1 is not on this machine" in done.stderr
    assert "0 of 1 block holds (1 skipped)" in done.stderr
    page.write_text("```console\n$ docker run --rm alpine true\n```\n")
    mapped = recipe("run", str(page), "--image", "alpine=rcp-nosuch", "--no-record", env=env)
    assert "the image rcp-nosuch (--image alpine=rcp-nosuch) is not on this machine" in (
        mapped.stderr
    )


def test_a_plain_bash_block_that_fails_where_the_page_shows_no_failure_differs(
    env: dict[str, str], tmp_path: Path, clean_machine: None
) -> None:
    page = tmp_path / "fail.md"
    page.write_text(
        "Make a namespace.\n\n```bash\nip netns add rcp-tut-ns\n```\n\n"
        "```console\n$ ip netns list\nrcp-tut-ns\n$ ls /no/such/dir-rcp\n```\n\n"
        "<!-- recipe: expect-fail -->\n```console\n$ ip netns add rcp-tut-ns\n"
        'Cannot create namespace file "/run/netns/rcp-tut-ns": File exists\n```\n'
    )
    done = recipe("run", str(page), "--no-record", "--json", env=env)
    assert done.returncode == 1
    assert "block 2, line 10: exited 2; the page shows no failure" in done.stderr
    found = json.loads(done.stdout)
    assert [b["verdict"] for b in found["blocks"]] == ["holds", "differs", "holds"]
    assert found["blocks"][1]["reasons"] == [
        "block 2, line 10: exited 2; the page shows no failure"
    ]
    assert "2 of 3 blocks hold (1 differs)" in done.stderr
    assert "the safety net removed netns rcp-tut-ns" in done.stderr


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        ("Just prose.\n", (), "x.md:1: no runnable block"),
        ("```console\n$ echo hi\n", (), "x.md:1: the code fence ``` opened here is never closed"),
        ("```console\n$ docker attach rcp-tut-none\n```\n", (), "x.md:2: docker attach"),
        ("<!-- recipe: expect-fial -->\n```bash\ntrue\n```\n", (), "did you mean 'expect-fail'"),
        ("```bash\ntrue\n```\n", ("--image", "alpine"), "--image alpine: needs FROM=TO"),
    ],
)
def test_bad_tutorials_get_one_line_and_exit_2(
    env: dict[str, str], tmp_path: Path, text: str, args: tuple[str, ...], message: str
) -> None:
    page = tmp_path / "x.md"
    page.write_text(text)
    _refused_in_one_line(["x.md", *args], tmp_path, env, message)


def test_on_role_runs_its_blocks_in_another_hosts_shell(
    env: dict[str, str], tmp_path: Path
) -> None:
    page = tmp_path / "roles.md"
    page.write_text(
        "```console\n$ export MARK=one\n```\n\n<!-- recipe: on other -->\n"
        '```console\n$ echo "mark=${MARK:-none}"\nmark=none\n```\n\n'
        '```console\n$ echo "mark=${MARK:-none}"\nmark=one\n```\n'
    )
    done = recipe("run", str(page), "--host", "other=local", "--no-record", env=env)
    assert done.returncode == 0, done.stderr
    assert "3 of 3 blocks hold" in done.stderr
    crowded = recipe("run", str(page), "--host", "a", "--host", "b", "--host", "c", env=env)
    assert crowded.returncode == 2
    assert "runs on 2 hosts (roles main, other)" in crowded.stderr


def test_a_tutorial_runs_with_no_way_off_the_machine(env: dict[str, str], tmp_path: Path) -> None:
    """What the page's words hide (`ping $IP`) still sends nothing: the run's shell sits in a
    cgroup whose new connections out of the default route are rejected, and so is anything the
    host forwards; the guard is gone after the run. Nothing is sent to show it."""
    page = tmp_path / "guard.md"
    page.write_text(
        "```console\n$ grep -c ::/recipe-egress-guard- /proc/self/cgroup\n1\n"
        "$ iptables -S OUTPUT | grep -q -- '-m cgroup --path recipe-egress-guard-' && echo out\n"
        "out\n"
        "$ iptables -S FORWARD | grep -- '--comment recipe-egress-guard-' | grep -c NEW\n1\n```\n"
        # The shell dies; the one that takes its place starts inside the guard too.
        "\n<!-- recipe: expect-exit 3 -->\n```console\n$ exit 3\n```\n"
        "\n```console\n$ grep -c ::/recipe-egress-guard- /proc/self/cgroup\n1\n```\n"
    )
    done = recipe("run", str(page), "--no-record", env=env)
    assert done.returncode == 0, done.stderr
    assert "3 of 3 blocks hold" in done.stderr
    for family in ("iptables", "ip6tables"):
        rules = subprocess.run([family, "-w", "-S"], capture_output=True, text=True, check=True)
        assert "recipe-egress-guard" not in rules.stdout
    mounts = Path("/proc/mounts").read_text().splitlines()
    root = next(line.split()[1] for line in mounts if line.split()[2] == "cgroup2")
    assert not list(Path(root).glob("recipe-egress-guard-*"))


def test_a_ping_inside_a_namespace_is_routed_there(
    env: dict[str, str], clean_machine: None
) -> None:
    """`ip netns exec red ping ...` looks for its route in red, not on the host: the veth
    pair's peer is in the lab, an address red has no route to is not."""
    done = recipe("run", str(TUTORIALS / "veth.md"), "--no-record", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert "4 of 4 blocks hold" in done.stderr
    ping = json.loads(done.stdout)["blocks"][2]
    assert ping["verdict"] == "holds"  # the ping that ran holds; the other was not sent
    assert ping["reasons"] == ["skipped: outside the lab: rcp-tut-r has no route to 10.9.0.2"]


def test_the_safety_net_removes_only_what_the_page_could_have_made(
    env: dict[str, str], tmp_path: Path, clean_machine: None
) -> None:
    """Another program's namespace, made during the run, is reported, never removed."""
    page = tmp_path / "net.md"
    page.write_text("```console\n$ ip netns add rcp-tut-mine\n$ sleep 2\n```\n")
    other = subprocess.Popen(
        [
            "bash",
            "-c",
            "for i in $(seq 100); do [ -e /run/netns/rcp-tut-mine ] && break; sleep 0.05; done;"
            " ip netns add rcp-tut-other",
        ]
    )
    try:
        done = recipe("run", str(page), "--no-record", env=env)
        other.wait(timeout=30)
        assert done.returncode == 1, done.stderr
        assert "the safety net removed netns rcp-tut-mine" in done.stderr
        assert "netns rcp-tut-other" in done.stderr.split("LEFTOVERS", 1)[1]
        assert Path("/run/netns/rcp-tut-other").exists()
    finally:
        other.kill()
        subprocess.run(["ip", "netns", "del", "rcp-tut-other"], check=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("veth-pair", "--image", "alpine=busybox"), "--image works with a Markdown tutorial"),
        (("notes.txt",), "notes.txt looks like Markdown (it has code fences); name it .md"),
        (("x.md", "--image", "a=b", "--image", "a=c"), "--image a=... is given twice"),
    ],
)
def test_what_is_not_a_tutorial_run_is_refused_in_one_line(
    env: dict[str, str], tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    page = "```console\n$ ip netns list\n```\n"
    (tmp_path / "notes.txt").write_text(page)
    (tmp_path / "x.md").write_text(page)
    _refused_in_one_line(list(args), tmp_path, env, message)


def _refused_in_one_line(args: list[str], cwd: Path, env: dict[str, str], message: str) -> None:
    """`recipe run ARGS` in CWD: exit 2, and the message as the one line on stderr."""
    done = subprocess.run(
        ["recipe", "run", *args, "--no-record"],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr
