"""`recipe run` end to end: real namespaces, real bash; every run must tear down, leave nothing
behind, and leave a transcript that reads back."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from generator import transcript as tr
from tests import busybox_image as busybox_image_module
from tests.cli_runner import assert_one_line_error
from tests.lab.lab_cli import FAILING, NS, NS2, netns_names, recipe


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
    assert NS not in netns_names()
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
    assert not {NS, NS2} & netns_names()


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
        done = recipe("run", str(script), "--record", str(path), env=env, timeout=60)
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
        done = recipe("run", *args, env=env, cwd=tmp_path, timeout=60)
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
        done = recipe("export", str(transcript), "-o", output, env=env, timeout=60)
        assert_one_line_error(done, f"-o {output}: ", message)
    done = recipe("export", str(transcript), "-o", str(tmp_path / "x.cast"), env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "x.cast").read_text().splitlines()[0])["version"] == 2


def test_keep_then_clean(clean_machine: None, env: dict[str, str]) -> None:
    done = recipe("run", "veth-pair", "--keep", "--no-record", "--quiet", env=env)
    try:
        assert done.returncode == 0, done.stderr
        assert {"test1", "test2"} <= netns_names()
    finally:
        cleaned = recipe("clean", "veth-pair", "--quiet", env=env)
    assert cleaned.returncode == 0 and not {"test1", "test2"} & netns_names()


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
