"""The parts of `recipe record` that need no terminal: the teardown plan, the marker splitter,
the side channel's records and the script they make, read back by the script parser."""

from __future__ import annotations

from generator.lab import record_hooks
from generator.lab import script as script_format
from generator.lab.record_hooks import Entry, Splitter, Typed, typed_steps
from generator.lab.record_script import script_text
from generator.lab.record_teardown import plan


def test_the_teardown_removes_in_a_safe_order_with_every_name_quoted() -> None:
    teardown = plan(
        [
            ("netns", "x; rm -rf /"),
            ("link", "br0"),
            ("network", "net1"),
            ("container", "web"),
            ("iptables-nat", '-A POSTROUTING -m comment --comment "a b" -j MASQUERADE'),
            ("iptables-filter", "-N MINE"),
            ("iptables-filter", "-A MINE -j ACCEPT"),
            ("link", "docker0"),
            ("link", "veth0123abc"),
        ]
    )
    assert teardown.commands == (
        "docker rm -f -- web >/dev/null 2>/dev/null",
        "docker network rm -- net1 >/dev/null 2>/dev/null",
        "iptables -w -t nat -D POSTROUTING -m comment --comment 'a b' -j MASQUERADE 2>/dev/null",
        "iptables -w -D MINE -j ACCEPT 2>/dev/null",
        "iptables -w -X MINE 2>/dev/null",
        "ip link delete dev br0 2>/dev/null",
        "ip netns delete 'x; rm -rf /' 2>/dev/null",
    )
    assert any("docker0" in kept for kept in teardown.kept)
    assert any("veth0123abc" in kept for kept in teardown.kept)  # Docker's, goes with web


def test_markers_split_across_reads_cut_the_output_and_are_removed() -> None:
    token = "feedc0de"
    stream = (
        b"prompt$ echo hi\r\n\x1b]133;C;feedc0de\x07hi\r\n\x1b]133;D;0;1;feedc0de\x07prompt$ "
        b"\x1b]133;D;130;2;feedc0de\x07"  # a Ctrl-C at the prompt: no command
        b"\x1b]133;C;feedc0de\x07\x1b]133;D;1;3;other\x07x\r\n\x1b]133;D;1;3;feedc0de\x07"
    )
    splitter = Splitter(token)
    for i in range(0, len(stream), 5):
        splitter.feed(stream[i : i + 5])
    entries = [Entry(1, 0, 1.0, 1.5, "echo hi"), Entry(3, 1, 2.0, 2.25, "false")]
    steps = typed_steps(entries, splitter.segments)
    assert steps[0] == Typed("echo hi", "hi\n", 0, 0.5)
    assert steps[1].output == "x\n"  # a marker with a foreign token is only output, removed
    assert steps[1].exit == 1


def test_side_channel_records_read_back() -> None:
    data = b"1\t0\t1.5\t2.0\t    7  cd /tmp\x002\t2\t\t3.0\t    8  if then\x003\t0\t4"
    entries = record_hooks.parse_entries(data)
    assert entries == [Entry(1, 0, 1.5, 2.0, "cd /tmp"), Entry(2, 2, None, 3.0, "if then")]


def test_the_script_reads_back_with_its_steps_and_teardown() -> None:
    typed = [
        Typed("ip netns add rcp-rec-a", "", 0, 0.1),
        Typed("ipp link", "bash: ipp: command not found\n", 127, 0.0),
        Typed("for i in 1 2\ndo echo $i\ndone", "1\n2\n", 0, 0.0),
        Typed("ping 10.0.0.1", "", 0, 2.04, interrupted=True),
        Typed("while :; do :; done", "", 130, 1.0, interrupted=True),
        Typed("cat <<EOF\nx\nEOF", "x\n", 0, 0.0),
    ]
    written = script_text(typed, plan([("netns", "rcp-rec-a")]), "local", "now")
    parsed = script_format.parse(written.text)
    assert [s.command for s in parsed.steps] == [
        "ip netns add rcp-rec-a",
        "ipp link",
        "{\nfor i in 1 2\ndo echo $i\ndone\n}",
        "timeout -s INT --preserve-status 2 ping 10.0.0.1",
        "cat <<EOF\nx\nEOF",
    ]
    assert [s.expect.exit for s in parsed.steps] == [0, 127, 0, 0, 0]
    assert [s.command for s in parsed.teardown] == ["ip netns delete rcp-rec-a 2>/dev/null"]
    assert written.left_out == (5,)
    assert "#   while :; do :; done" in written.text
