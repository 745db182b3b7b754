"""A stack's root: the trust in its stamp, the versions it holds, a real build into the shared
cache, and the bad cases: no space, no mirror, Ctrl-C mid-build, a second builder, a purge of a
root in use. All real: mmdebstrap, tmpfs mounts, signals."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from generator.errors import UserError
from generator.hosts import stack_root as roots
from generator.hosts import stacks

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
needs_mmdebstrap = pytest.mark.skipif(
    shutil.which("mmdebstrap") is None, reason="needs mmdebstrap (scripts/install.sh)"
)
DEAD_MIRROR = "http://127.0.0.1:9/debian"  # loopback, port 9 (discard): nothing listens
BUILD = (
    "from generator.hosts import stacks, stack_root\n"
    "print(stack_root.ensure_root(stacks.get('debian-13'), lambda l: print(l, flush=True)))\n"
)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache of this test's own."""
    where = tmp_path / "stacks"
    monkeypatch.setenv(stacks.CACHE_ENV, str(where))
    monkeypatch.delenv(stacks.MIRROR_ENV, raising=False)
    return where


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 50 MB tmpfs, unmounted after the test."""
    where = tmp_path / "small"
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=50M", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=True)


def fake_root(cache: Path, stamp: str) -> Path:
    """A tree where a root would be, with a stamp: what the trust looks at, no build."""
    root = cache / "debian-13" / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "marker").write_text("the old root\n")
    (cache / "debian-13" / "stamp").write_text(stamp + "\n")
    return root


def mounts_under(path: Path) -> list[str]:
    lines = Path("/proc/self/mountinfo").read_text().splitlines()
    return [line for line in lines if str(path) in line]


def processes_under(path: Path) -> list[str]:
    """Processes whose root, cwd or command line is in path (mmdebstrap, apt, dpkg, ...)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or entry.name == str(os.getpid()):
            continue
        try:
            links = [os.readlink(entry / "root"), os.readlink(entry / "cwd")]
            argv = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(link.startswith(str(path)) for link in links) or str(path) in argv:
            found.append(f"{entry.name}: {argv}")
    return found


def left_in(cache: Path) -> list[str]:
    """What a failed build must not leave: an unfinished build, a root, a stamp."""
    where = cache / "debian-13"
    return [p.name for p in where.glob("*") if p.name not in ("lock", "build.log")]


def test_an_unknown_stack_is_one_line_naming_the_stacks() -> None:
    with pytest.raises(UserError) as caught:
        stacks.get("debian-99")
    assert caught.value.exit_code == 2
    assert "\n" not in caught.value.message
    assert "debian-12, debian-13" in caught.value.message


def test_a_root_is_trusted_only_with_its_stamp(cache: Path) -> None:
    stack = stacks.get("debian-13")
    root = fake_root(cache, stack.stamp)
    assert roots.is_trusted(stack)
    assert roots.ensure_root(stack, pytest.fail) == root  # no build, not a word said
    (cache / "debian-13" / "stamp").write_text("0123456789abcdef\n")
    assert not roots.is_trusted(stack)
    (cache / "debian-13" / "stamp").write_text(stack.stamp)
    shutil.rmtree(root)
    assert not roots.is_trusted(stack)  # a stamp without its root is nothing


@needs_root
@needs_mmdebstrap
def test_a_wrong_stamp_rebuilds_and_the_old_root_stays_until_the_new_is_complete(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(stacks.MIRROR_ENV, DEAD_MIRROR)  # the rebuild starts, then fails fast
    stack = stacks.get("debian-13")
    root = fake_root(cache, "0123456789abcdef")
    said: list[str] = []
    with pytest.raises(UserError, match="mirror"):
        roots.ensure_root(stack, said.append)
    assert any("building the root" in line for line in said)
    assert (root / "etc" / "marker").read_text() == "the old root\n"
    assert not roots.is_trusted(stack)
    assert sorted(left_in(cache)) == ["root", "stamp"]  # the old ones, no .build-*


def test_versions_are_read_from_the_roots_dpkg_status(tmp_path: Path) -> None:
    status = tmp_path / "var/lib/dpkg/status"
    status.parent.mkdir(parents=True)
    blocks = [
        ("docker.io", "install ok installed", "26.1.5+dfsg1-9"),
        ("iproute2", "install ok installed", "6.15.0-1"),
        ("iptables", "install ok installed", "1.8.11-2"),
        ("busybox-static", "install ok installed", "1:1.37.0-6"),
        ("tcpdump", "deinstall ok config-files", "4.99"),
    ]
    status.write_text("\n".join(f"Package: {n}\nStatus: {s}\nVersion: {v}\n" for n, s, v in blocks))
    (tmp_path / "etc/alternatives").mkdir(parents=True)
    (tmp_path / "etc/debian_version").write_text("13.2\n")
    (tmp_path / "etc/alternatives/iptables").symlink_to("/usr/sbin/iptables-legacy")
    assert roots.versions(tmp_path) == {
        "debian": "13.2",
        "dockerd": "26.1.5+dfsg1-9",
        "iproute2": "6.15.0-1",
        "iptables": "1.8.11-2 (legacy)",
        "busybox": "1:1.37.0-6",
    }
    assert roots.versions(tmp_path / "nothing") == {}


@needs_root
@needs_mmdebstrap
def test_no_space_is_one_line_before_anything_is_written(
    small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(stacks.CACHE_ENV, str(small_disk / "stacks"))
    with pytest.raises(UserError) as caught:
        roots.ensure_root(stacks.get("debian-13"), lambda line: None)
    message = caught.value.message
    assert caught.value.exit_code == 2 and "\n" not in message
    assert "MB free" in message and "600 MB needed" in message
    assert stacks.CACHE_ENV in message
    assert list(small_disk.iterdir()) == []


@needs_root
@needs_mmdebstrap
def test_a_dead_mirror_is_one_line_naming_it_and_leaves_nothing(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(stacks.MIRROR_ENV, DEAD_MIRROR)
    with pytest.raises(UserError) as caught:
        roots.ensure_root(stacks.get("debian-13"), lambda line: None)
    message = caught.value.message
    assert caught.value.exit_code == 2 and "\n" not in message
    assert DEAD_MIRROR in message and "Connection refused" in message
    assert stacks.MIRROR_ENV in message
    assert left_in(cache) == []
    assert mounts_under(cache) == [] and processes_under(cache) == []


def _interrupt_after(
    cache: Path, line: str, wait: float
) -> tuple[subprocess.Popen[str], list[str]]:
    """A real build in its own process, sent SIGINT `wait` s after it printed `line`; and the
    mounts in the cache just before, in any mount namespace."""
    env = {**os.environ, stacks.CACHE_ENV: str(cache)}
    env.pop(stacks.MIRROR_ENV, None)
    build = subprocess.Popen(
        [sys.executable, "-c", BUILD],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert build.stdout is not None
    for said in build.stdout:
        if line in said:
            break
    time.sleep(wait)
    assert build.poll() is None, "the build ended before the interrupt"
    mounted = roots.mounts_using(cache)
    build.send_signal(signal.SIGINT)
    return build, mounted


@needs_root
@needs_mmdebstrap
@pytest.mark.parametrize(
    ("line", "wait"),
    [("running apt-get update", 4.0), ("installing remaining packages", 2.0)],
    ids=["downloading", "installing"],
)
def test_ctrl_c_mid_build_leaves_no_mount_no_process_and_nothing_trusted(
    cache: Path, line: str, wait: float
) -> None:
    build, mounted = _interrupt_after(cache, line, wait)
    if line.startswith("installing"):  # dpkg runs in the chroot: its mounts are up, not here
        assert mounted and all("in the mount namespace of pid" in m for m in mounted)
    try:
        _, err = build.communicate(timeout=60)
    finally:
        if build.poll() is None:
            build.kill()
            build.wait()
    assert build.returncode != 0 and "KeyboardInterrupt" in err
    assert mounts_under(cache) == []
    assert processes_under(cache) == []
    assert left_in(cache) == []
    assert not roots.is_trusted(stacks.get("debian-13"))


@needs_root
@needs_mmdebstrap
def test_a_second_builder_waits_and_takes_the_root_the_first_made(cache: Path) -> None:
    stack = stacks.get("debian-13")
    where = cache / "debian-13"
    where.mkdir(parents=True)
    with (where / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # we are the first builder
        second = subprocess.Popen([sys.executable, "-c", BUILD], stdout=subprocess.PIPE, text=True)
        assert second.stdout is not None
        assert "waiting for another build" in second.stdout.readline()
        fake_root(cache, stack.stamp)  # what the first builder made
    out, _ = second.communicate(timeout=30)
    assert second.returncode == 0
    assert out.strip() == str(where / "root")


@needs_root
def test_purge_refuses_a_root_with_a_mount_and_removes_it_after(cache: Path) -> None:
    stack = stacks.get("debian-13")
    root = fake_root(cache, stack.stamp)
    (root / "proc").mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(root / "proc")], check=True)
    try:
        problems = roots.purge(stack)
    finally:
        subprocess.run(["umount", str(root / "proc")], check=True)
    assert len(problems) == 1 and "proc" in problems[0]
    assert (root / "etc" / "marker").exists()
    assert roots.purge(stack) == []
    assert not (cache / "debian-13").exists()
    assert roots.purge(stack) == []  # nothing there: nothing to do


def test_a_real_root_holds_the_stack_and_says_its_versions(
    stack_root: Callable[[str], Path],
) -> None:
    root = stack_root("debian-13")
    held = roots.versions(root)
    assert set(held) == {"debian", "dockerd", "iproute2", "iptables", "busybox"}
    assert held["debian"].startswith("13")
    assert held["iptables"].endswith(("(nf_tables)", "(legacy)"))
    for program in ("usr/sbin/dockerd", "usr/sbin/ip", "bin/busybox", "usr/sbin/sshd"):
        assert (root / program).exists(), program
    assert roots.is_trusted(stacks.get("debian-13"))
