"""`recipe run` end to end: real namespaces, real bash, real signals; every run must tear down,
leave nothing behind, and leave a transcript that reads back."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import termios
import time
from pathlib import Path

import pytest

from generator import transcript as tr
from tests import busybox_image as busybox_image_module
from tests.cli_runner import assert_one_line_error

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


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "RECIPE_STATE_DIR": str(tmp_path / "state")}


def recipe(
    *args: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["recipe", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def recipe_cli(
    *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`recipe` with a time limit that a hang on a FIFO or an endless file would hit."""
    return subprocess.run(
        ["recipe", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def _netns() -> set[str]:
    done = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    return {line.split()[0] for line in done.stdout.splitlines() if line.strip()}


def test_veth_pair_runs_green_and_records(
    clean_machine: None, tmp_path: Path, env: dict[str, str]
) -> None:
    path = tmp_path / "veth.transcript"
    done = recipe("run", "veth-pair", "--record", str(path), "--json", env=env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (
        summary["status"] == "passed"
        and summary["leftovers"] == []
        and summary["verdicts"]["FAIL"] == 0
    )
    assert "[1/18] ok" in done.stderr and "passed:" in done.stderr
    read = tr.read(path)
    assert read.status == "passed" and read.complete and not read.truncated
    assert read.header.recipe == "veth-pair" and read.header.params["ns1"] == "test1"
    assert read.header.facts.kernel == os.uname().release
    assert "0% packet loss" in read.main_steps[-1].stdout
    assert len(read.teardown_steps) >= 2
    assert not (tmp_path / "state").exists() or not list((tmp_path / "state").iterdir())


def test_a_failed_step_stops_tears_down_and_exits_1(
    clean_machine: None, tmp_path: Path, env: dict[str, str]
) -> None:
    script = tmp_path / "fail.sh"
    script.write_text(FAILING)
    path = tmp_path / "fail.transcript"
    done = recipe("run", str(script), "--record", str(path), env=env)
    assert done.returncode == 1, done.stderr
    assert "FAIL" in done.stderr and '$ echo "something else"' in done.stderr
    assert "output lacks 'no such word'" in done.stderr and "| and a warning" in done.stderr
    assert NS not in _netns()
    read = tr.read(path)
    assert read.status == "failed" and not read.complete and read.outcome is not None
    assert [s.verdict for s in read.main_steps] == ["ok", "FAIL"]  # the third step never ran
    assert read.main_steps[1].stderr == "and a warning\n"
    assert [s.command for s in read.teardown_steps] == [
        f"ip netns delete {NS} 2>/dev/null",
        f"ip netns delete {NS2} 2>/dev/null",
    ]


def test_keep_going_runs_every_step(
    clean_machine: None, tmp_path: Path, env: dict[str, str]
) -> None:
    script = tmp_path / "fail.sh"
    script.write_text(FAILING)
    done = recipe("run", str(script), "--keep-going", "--no-record", "--json", env=env)
    assert done.returncode == 1
    summary = json.loads(done.stdout)
    assert summary["steps"] == 3 and summary["complete"] and summary["transcript"] is None
    assert not {NS, NS2} & _netns()


def test_a_hung_step_times_out(clean_machine: None, tmp_path: Path, env: dict[str, str]) -> None:
    script = tmp_path / "hang.sh"
    script.write_text("#@ steps\nsleep 60\necho never\n")
    started = time.monotonic()
    done = recipe("run", str(script), "--timeout", "1", "--no-record", env=env)
    assert done.returncode == 1 and "timed out after 1 s" in done.stderr
    assert time.monotonic() - started < 20


def test_leftovers_are_reported_loudly(
    clean_machine: None, tmp_path: Path, env: dict[str, str]
) -> None:
    script = tmp_path / "leaky.sh"
    script.write_text(f"#@ steps\nip netns add {NS}\n")  # no teardown at all
    path = tmp_path / "leaky.transcript"
    try:
        done = recipe("run", str(script), "--record", str(path), env=env)
        assert done.returncode == 1
        assert f"LEFTOVERS after the teardown: netns {NS}" in done.stderr
        read = tr.read(path)
        assert read.status == "failed" and read.outcome is not None
        assert read.outcome.leftovers == (f"netns {NS}",)
    finally:
        subprocess.run(["ip", "netns", "delete", NS], capture_output=True, check=False)


def _start_veth_pair(count: int, path: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["recipe", "run", "veth-pair", "--set", f"count={count}", "--record", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _partial(path: Path) -> Path | None:
    """The run's own `PATH.RANDOM.partial`, once it has made one."""
    found = tr.partials(path)
    assert len(found) <= 1, found
    return found[0] if found else None


def _wait_for_step(path: Path, count: int, proc: subprocess.Popen[str]) -> Path:
    """The partial file of the run recording to PATH, once it holds `count` steps."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        partial = _partial(path)
        if partial is not None and partial.read_text().count("\nend step ") >= count:
            return partial
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError(f"{path}: the partial file never reached step {count}")


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)]
)
def test_a_signal_mid_run_tears_down(
    clean_machine: None, tmp_path: Path, env: dict[str, str], signum: int, code: int
) -> None:
    path = tmp_path / "signal.transcript"
    # count=100 makes the first ping last 20 s: the signal lands in the middle of that step.
    proc = _start_veth_pair(count=100, path=path, env=env)
    _wait_for_step(path, 16, proc)
    time.sleep(0.5)
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr
    assert "stopping, then tearing down" in stderr
    assert not {"test1", "test2"} & _netns()
    read = tr.read(path)
    assert read.status == "interrupted" and not read.complete
    assert read.outcome is not None and "during step 17 of 18" in read.outcome.reason
    assert len(read.main_steps) == 17 and len(read.teardown_steps) >= 2
    # The stopped step is recorded as interrupted, with the replies ping printed before it died.
    stopped = read.main_steps[-1]
    assert stopped.index == 17 and stopped.interrupted and stopped.verdict == "FAIL"
    assert stopped.problems[0].startswith(f"interrupted by {signal.Signals(signum).name} after ")
    assert "icmp_seq=1 " in stopped.stdout and "Killed" in stopped.stderr
    assert not any(s.interrupted for s in read.steps[:16] + read.teardown_steps)
    # The summary counts the lab's steps and the teardown's apart; the stopped step in neither.
    name = signal.Signals(signum).name
    teardown = len(read.teardown_steps)
    assert (
        f"interrupted by {name} during step 17 of 18: 16 ok; teardown {teardown} ok in " in stderr
    )
    assert "[17/18] stopped" in stderr
    # The stopped step's end (bash's "Killed" note, its status) does not spill into the teardown.
    first = read.teardown_steps[0]
    assert (first.exit, first.stdout, first.stderr) == (0, "", "")
    assert not tr.partials(path)


def test_a_signal_during_an_interactive_step_keeps_its_screen(
    clean_machine: None, tmp_path: Path, env: dict[str, str]
) -> None:
    script = tmp_path / "session.sh"
    script.write_text(
        "#@ steps\necho first\n\n"
        "#@ interactive sh\nsh <<'EOF'\necho typed-$((6*7))\nsleep 30\nEOF\n"
    )
    path = tmp_path / "session.transcript"
    proc = subprocess.Popen(
        ["recipe", "run", str(script), "--record", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    _wait_for_step(path, 1, proc)
    time.sleep(1.5)  # the session is in `sleep 30` by now
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    stopped = tr.read(path).main_steps[-1]
    assert stopped.index == 2 and stopped.interrupted and stopped.interactive == "sh"
    # What the person saw until Ctrl-C: the echo of both lines and the first one's output.
    assert "typed-42" in stopped.stdout and "sleep 30" in stopped.stdout, stopped.stdout


def test_closing_the_terminal_tears_down(
    clean_machine: None, tmp_path: Path, env: dict[str, str]
) -> None:
    """The real SIGHUP: recipe runs on a terminal, which then goes away (its master side closes,
    as when the window closes or the SSH login drops). The kernel sends SIGHUP, and from then on
    every progress write fails with EIO; the teardown must run all the same."""
    script = tmp_path / "hup.sh"
    script.write_text(
        f"#@ teardown\nteardown() {{\n  ip netns delete {NS} 2>/dev/null\n}}\n#@ end-teardown\n"
        f"#@ steps\nip netns add {NS}\n\nsleep 60\n"
    )
    path = tmp_path / "hup.transcript"
    master, slave = os.openpty()

    def take_the_terminal() -> None:  # after setsid: the pty becomes the controlling terminal
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(
        ["recipe", "run", str(script), "--record", str(path)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
        preexec_fn=take_the_terminal,  # noqa: PLW1509 - the child only takes its terminal
    )
    os.close(slave)
    try:
        os.set_blocking(master, False)
        deadline = time.monotonic() + 60
        while not ((partial := _partial(path)) and "\nend step 1\n" in partial.read_text()):
            assert proc.poll() is None and time.monotonic() < deadline
            try:
                os.read(master, 65536)  # keep the terminal's buffer from filling
            except BlockingIOError:
                time.sleep(0.05)
        time.sleep(0.3)
    finally:
        os.close(master)  # the terminal goes away
    assert proc.wait(timeout=60) == 129
    assert NS not in _netns()
    read = tr.read(path)
    assert read.status == "interrupted" and read.outcome is not None
    assert "interrupted by SIGHUP during step 2 of 2" in read.outcome.reason
    assert read.main_steps[-1].interrupted
    assert [s.command for s in read.teardown_steps] == [f"ip netns delete {NS} 2>/dev/null"]
    assert read.teardown_steps[0].verdict == "ok"


def test_a_bad_record_path_is_refused_before_any_step(tmp_path: Path, env: dict[str, str]) -> None:
    """A transcript that could not be saved is found out before the lab is built: one line,
    exit 2, no step run, no lab recorded as standing, no .partial left anywhere."""
    ran = tmp_path / "ran"
    script = tmp_path / "touch.sh"
    script.write_text(f"#@ steps\ntouch {ran}\n")
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    cases = [
        (tmp_path, "is a directory"),
        (Path("/proc/nope/x.transcript"), "cannot create /proc/nope"),
        (Path("/dev/null"), "is not a regular file"),  # os.replace would replace the device
        (a_file / "x.transcript", "is not a directory"),
    ]
    for path, message in cases:
        done = recipe_cli("run", str(script), "--record", str(path), env=env)
        line = assert_one_line_error(done, f"--record {path}", message)
        assert "--no-record" in line or "name a file" in line, line
        assert not ran.exists(), path
        assert path == Path("/dev/null") or not tr.partials(path), path
        assert not (tmp_path / "state").exists() or not list((tmp_path / "state").iterdir())
    assert Path("/dev/null").is_char_device()


def test_odd_targets_are_one_line(tmp_path: Path, env: dict[str, str]) -> None:
    """A FIFO is not a recipe name, /dev/zero never ends, a huge file is the wrong file."""
    fifo = tmp_path / "ff"
    os.mkfifo(fifo)
    big = tmp_path / "big.sh"
    big.write_bytes(b"#@ steps\n" + b"# padding\n" * (11 * 1024 * 1024 // 10))
    cases = [
        ([str(fifo)], "is a FIFO (named pipe), not a script file", "recipe run - <"),
        (["ff"], "ff is a FIFO (named pipe)", "recipe run - < ff"),  # relative, no slash
        (["/dev/zero"], "/dev/zero is a character device", "recipe run - < /dev/zero"),
        ([str(tmp_path)], "is a directory", "recipe name"),
        ([str(big)], "is larger than 10 MB", "recipe render NAME > lab.sh"),
    ]
    for args, *fragments in cases:
        done = recipe_cli("run", *args, env=env, cwd=tmp_path)
        assert_one_line_error(done, *fragments)
    with open("/dev/zero", "rb") as endless:  # stdin that never ends: the cap stops the read
        done = subprocess.run(
            ["recipe", "run", "-"],
            stdin=endless,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert_one_line_error(done, "the script on stdin is larger than 10 MB")


def test_export_to_a_bad_place_is_one_line(tmp_path: Path, env: dict[str, str]) -> None:
    transcript = tmp_path / "t.transcript"
    transcript.write_text(
        "recipe-transcript 1\nscript: sha256:00\nstarted: 2026-11-29T05:01:02.345Z\n"
    )
    cases = [
        ("/nonexistent/x.cast", "directory /nonexistent does not exist"),
        (str(tmp_path), f"is a directory; name a file in it, e.g. {tmp_path / 'lab.cast'}"),
        (str(transcript / "x.cast"), "is not a directory"),
    ]
    for output, message in cases:
        done = recipe_cli("export", str(transcript), "-o", output, env=env)
        assert_one_line_error(done, f"-o {output}: ", message)
    done = recipe_cli("export", str(transcript), "-o", str(tmp_path / "x.cast"), env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "x.cast").read_text().splitlines()[0])["version"] == 2


def test_a_killed_run_leaves_a_readable_partial_and_clean_removes_the_lab(
    clean_machine: None, tmp_path: Path, env: dict[str, str]
) -> None:
    path = tmp_path / "killed.transcript"
    proc = _start_veth_pair(count=20, path=path, env=env)
    try:
        partial = _wait_for_step(path, 16, proc)
        proc.kill()  # no handler runs: as after a crash
        proc.communicate(timeout=30)
        read = tr.read(partial)
        assert read.status == "incomplete" and read.outcome is None and len(read.main_steps) == 16
        assert not path.exists()
        assert "test1" in _netns()
    finally:
        cleaned = recipe("clean", "veth-pair", env=env)
    assert cleaned.returncode == 0, cleaned.stderr
    assert not {"test1", "test2"} & _netns()
    again = recipe("clean", "veth-pair", env=env)  # twice is harmless
    assert again.returncode == 0, again.stderr
    _wait_for_orphan_ping()


def _wait_for_orphan_ping() -> None:
    """The killed run's bash finishes its ping (at most 4 s) in a namespace that is now gone."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if subprocess.run(
            ["pgrep", "-f", "ping -c 20 -i 0.2"], capture_output=True, check=False
        ).returncode:
            return
        time.sleep(0.2)


def test_keep_then_clean(clean_machine: None, env: dict[str, str]) -> None:
    done = recipe("run", "veth-pair", "--keep", "--no-record", "--quiet", env=env)
    try:
        assert done.returncode == 0, done.stderr
        assert {"test1", "test2"} <= _netns()
    finally:
        cleaned = recipe("clean", "veth-pair", "--quiet", env=env)
    assert cleaned.returncode == 0 and not {"test1", "test2"} & _netns()


def test_a_script_on_stdin(clean_machine: None, env: dict[str, str]) -> None:
    rendered = recipe("render", "veth-pair", "--set", "count=1", env=env)
    done = recipe("run", "--no-record", "--json", env=env, stdin=rendered.stdout)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["lab"] == "veth-pair"
    dash = recipe("run", "-", "--no-record", "--quiet", env=env, stdin=rendered.stdout)
    assert dash.returncode == 0 and dash.stderr == ""


def test_default_transcript_goes_to_transcripts_dir(
    clean_machine: None, tmp_path: Path, env: dict[str, str]
) -> None:
    script = tmp_path / "echo.sh"
    script.write_text("#@ steps\necho hello\n")
    done = subprocess.run(
        ["recipe", "run", str(script), "--quiet"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (written,) = (tmp_path / "transcripts").iterdir()
    assert written.name.startswith("script-") and written.suffix == ".transcript"
    assert tr.read(written).steps[0].stdout == "hello\n"


def test_cast_export_plays(clean_machine: None, tmp_path: Path, env: dict[str, str]) -> None:
    path = tmp_path / "veth.transcript"
    assert (
        recipe(
            "run", "veth-pair", "--set", "count=1", "--record", str(path), "-q", env=env
        ).returncode
        == 0
    )
    cast = tmp_path / "veth.cast"
    done = recipe("export", "--format", "cast", str(path), "-o", str(cast), env=env)
    assert done.returncode == 0, done.stderr
    header, *events = [json.loads(line) for line in cast.read_text().splitlines()]
    assert header["version"] == 2 and header["width"] > 0 and header["title"] == "veth-pair"
    markers = [e for e in events if e[1] == "m"]
    assert len(markers) == len(tr.read(path).steps)
    times = [e[0] for e in events]
    assert times == sorted(times)
    if shutil.which("asciinema"):
        play = subprocess.run(
            ["script", "-qec", f"asciinema cat {cast}", "/dev/null"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert play.returncode == 0 and "0% packet loss" in play.stdout


@pytest.fixture
def busybox_image(docker_engine: None) -> None:
    busybox_image_module.ensure()


def test_container_link_records_interactive_sessions(
    busybox_image: None, clean_machine: None, tmp_path: Path, env: dict[str, str]
) -> None:
    path = tmp_path / "link.transcript"
    done = recipe("run", "container-link", "--record", str(path), env=env)
    assert done.returncode == 0, done.stderr
    read = tr.read(path)
    sessions = [s for s in read.steps if s.interactive]
    assert len(sessions) >= 2
    failing, working = sessions[0], sessions[-1]
    assert failing.verdict == "expected-failure" and "bad address" in failing.stdout
    assert "/ # ping -c" in working.stdout and " 0% packet loss" in working.stdout
    assert working.stdout.rstrip().endswith("/ # exit")
    assert "\x1b" not in working.stdout


def test_preflight_errors_are_one_line_and_exit_2(tmp_path: Path, env: dict[str, str]) -> None:
    binary = tmp_path / "bin.sh"
    binary.write_bytes(b"\x7fELF\x00\x01")
    cases = [
        (["run", "no-such-recipe"], "unknown recipe 'no-such-recipe'"),
        (["run", str(binary)], "is not a text script"),
        (["run", str(tmp_path / "missing.sh")], "cannot read script"),
        (["run", "veth-pair", "--host", "no host!"], "not of the form [user@]host[:port]"),
        (["run", "veth-pair", "--set", "count=0"], "count"),
    ]
    for args, message in cases:
        done = recipe(*args, env=env)
        assert done.returncode == 2, (args, done.stderr)
        assert (
            done.stderr.count("\n") == 1
            and message in done.stderr
            and "Traceback" not in done.stderr
        )


def _recipe_needing(tmp_path: Path, tools: list[str]) -> Path:
    """A recipe directory holding `needs-tool`, one step that requires these tools."""
    lab = tmp_path / "recipes" / "needs-tool"
    lab.mkdir(parents=True)
    requires = ", ".join(f'"{tool}"' for tool in tools)
    (lab / "recipe.toml").write_text(
        f'title = "t"\nsummary = "s"\ndescription = "d"\nrequires = [{requires}]\n'
    )
    (lab / "lab.sh.j2").write_text(
        '{% extends "base.sh.j2" %}{% block steps %}true\n{% endblock %}'
    )
    return lab.parent


def test_preflight_missing_tool_and_stopped_engine(tmp_path: Path, env: dict[str, str]) -> None:
    recipes = _recipe_needing(tmp_path, ["ip", "no-such-tool-rcp"])
    done = recipe("--recipes", str(recipes), "run", "needs-tool", env=env)
    assert (
        done.returncode == 2
        and done.stderr == "recipe: preflight: missing tool 'no-such-tool-rcp'\n"
    )
    stopped = {**env, "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"}
    done = recipe("run", "container-link", env=stopped)
    assert done.returncode == 2 and "Docker engine is not running" in done.stderr
    assert done.stderr.count("\n") == 1


def test_not_root_is_a_preflight_error() -> None:
    """A forked child really drops to nobody and runs the run's preflight. (A fresh `recipe`
    process as nobody would not start: the Python installation is under root's home.) The CLI
    turns the UserError into the one line and exit 2, as the other preflight tests show."""
    if os.geteuid() != 0:
        pytest.skip("needs root to drop to nobody")
    from generator.errors import UserError
    from generator.lab import preflight

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe and its exit status
        code = 99
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            preflight.enforce(preflight.for_run(["ip"], docker=False))
            code = 0
        except UserError as error:
            os.write(write_end, f"{error.message}|{error.exit_code}".encode())
            code = 2
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as stream:
        message = stream.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 2
    assert (
        message
        == "preflight: labs change the machine's network: run as root (sudo recipe run ...)|2"
    )


def test_doctor_lists_every_finding(env: dict[str, str]) -> None:
    done = recipe("doctor", env=env)
    lines = done.stdout.splitlines()
    assert any(line.startswith("ok: ip found") for line in lines)
    assert any("FORWARD policy" in line for line in lines)
    # 2 on errors, as a run's failed preflight exits (docs/recipe-run.md).
    assert done.returncode == (2 if any(line.startswith("error:") for line in lines) else 0)


def test_doctor_exits_2_on_an_error(tmp_path: Path, env: dict[str, str]) -> None:
    """A recipe needing a tool this machine lacks makes a sure error."""
    recipes = _recipe_needing(tmp_path, ["no-such-tool-rcp"])
    done = recipe("--recipes", str(recipes), "doctor", env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert any("no-such-tool-rcp" in line for line in done.stdout.splitlines())


def test_a_second_signal_does_not_cut_the_teardown_short(
    clean_machine: None, tmp_path: Path, env: dict[str, str]
) -> None:
    mark = tmp_path / "teardown-started"
    script = tmp_path / "slow-teardown.sh"
    script.write_text(
        "#@ teardown\nteardown() {\n"
        f"  touch {mark}; sleep 2\n  ip netns delete {NS} 2>/dev/null\n}}\n#@ end-teardown\n"
        f"#@ steps\nip netns add {NS}\n\nsleep 60\n"
    )
    path = tmp_path / "slow.transcript"
    proc = subprocess.Popen(
        ["recipe", "run", str(script), "--record", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    _wait_for_step(path, 1, proc)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 20
    while not mark.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "still tearing down; SIGINT again is ignored until it finishes" in stderr
    assert NS not in _netns()
    read = tr.read(path)
    assert read.status == "interrupted"
    assert [s.command.split("\n")[0] for s in read.teardown_steps] == [
        f"touch {mark}; sleep 2",
        f"ip netns delete {NS} 2>/dev/null",
    ]


def test_ctrl_c_during_the_teardown_finishes_it_and_exits_130(
    clean_machine: None, tmp_path: Path, env: dict[str, str]
) -> None:
    """Every lab step passed; Ctrl-C, twice, while the teardown runs: the teardown still runs to
    the end, but the run does not read as a success (issue 9)."""
    mark = tmp_path / "teardown-started"
    script = tmp_path / "slow-teardown.sh"
    script.write_text(
        "#@ teardown\nteardown() {\n"
        f"  touch {mark}; sleep 1.5\n  sleep 0.5\n  ip netns delete {NS} 2>/dev/null\n}}\n"
        f"#@ end-teardown\n#@ steps\nip netns add {NS}\n\nip netns list\n"
    )
    path = tmp_path / "teardown.transcript"
    proc = subprocess.Popen(
        ["recipe", "run", str(script), "--record", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 30
    while not mark.exists() and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert stderr.count("still tearing down; SIGINT again is ignored until it finishes") == 2
    assert NS not in _netns()
    read = tr.read(path)
    assert read.complete and read.status == "interrupted", read.outcome
    assert read.outcome is not None
    assert read.outcome.reason == "interrupted by SIGINT during the teardown, which finished"
    assert [s.verdict for s in read.main_steps] == ["ok", "ok"]
    assert len(read.teardown_steps) == 3 and all(s.verdict == "ok" for s in read.teardown_steps)
    assert (
        "interrupted by SIGINT during the teardown, which finished: 2 ok; teardown 3 ok" in stderr
    )
