"""The offline busybox image: the root filesystem we feed to `docker import`, the build, its
errors."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.errors import UserError
from generator.hosts import images

CLI = [sys.executable, "-c", "from generator.cli import main; main()"]
needs_busybox = pytest.mark.skipif(
    not images.BUSYBOX.is_file(), reason="needs busybox-static (/bin/busybox)"
)


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


@needs_busybox
def test_host_busybox_is_static_and_a_dynamic_binary_is_not() -> None:
    assert images.is_static_elf(images.BUSYBOX)
    assert not images.is_static_elf(Path(sys.executable).resolve())


def test_a_dynamic_or_missing_busybox_is_refused_with_the_package_to_install(
    tmp_path: Path,
) -> None:
    with pytest.raises(UserError, match="dynamically linked.*busybox-static"):
        images.busybox_binary(Path(sys.executable).resolve())
    with pytest.raises(UserError, match="not found; install busybox-static"):
        images.busybox_binary(tmp_path / "busybox")
    text = tmp_path / "text"
    text.write_text("#!/bin/sh\n")
    with pytest.raises(UserError, match="not an ELF executable"):
        images.busybox_binary(text)


@needs_busybox
def test_rootfs_holds_the_binary_every_applet_link_and_an_etc() -> None:
    data = images.rootfs_tar(images.BUSYBOX, images.applet_paths(images.BUSYBOX))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = {m.name: m for m in tar.getmembers()}
        binary = members["bin/busybox"]
        assert binary.isfile() and binary.mode == 0o755
        assert binary.size == images.BUSYBOX.stat().st_size
        for path in (
            "bin/sh",
            "bin/ping",
            "sbin/ip",
            "sbin/ifconfig",
            "usr/bin/nslookup",
            "usr/bin/telnet",
            "usr/bin/nc",
            "usr/bin/wget",
            "sbin/route",
            "bin/hostname",
        ):
            assert members[path].issym() and members[path].linkname == "/bin/busybox", path
        assert members["tmp"].isdir() and members["tmp"].mode == 0o1777
        passwd = tar.extractfile("etc/passwd")
        assert passwd is not None and passwd.read().startswith(b"root:x:0:0:")
    # Same input, same bytes: fixed mtimes make the tar reproducible.
    assert data == images.rootfs_tar(images.BUSYBOX, images.applet_paths(images.BUSYBOX))


def test_cli_refuses_images_it_cannot_build_in_one_line() -> None:
    done = run_cli("image", "build", "alpine")
    assert done.returncode == 2
    assert done.stderr == (
        "recipe: cannot build alpine: only busybox is built offline; "
        "pull other images with docker pull\n"
    )
    bad = run_cli("image", "build", "Bad Name")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


@needs_busybox
def test_cli_says_so_when_docker_is_missing_or_the_engine_is_down(tmp_path: Path) -> None:
    no_docker = {**os.environ, "PATH": str(tmp_path)}
    done = run_cli("image", "build", "busybox", env=no_docker)
    assert done.returncode == 2
    assert (
        done.stderr.startswith("recipe: docker is not installed") and done.stderr.count("\n") == 1
    )
    if shutil.which("docker") is None:
        return
    # A socket path where no engine listens: the real docker CLI fails to connect.
    down = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/nothing.sock"}
    done = run_cli("image", "build", "busybox", env=down)
    assert done.returncode == 2
    assert done.stderr.startswith("recipe: the Docker engine is not running")


@pytest.fixture
def scratch_tag(docker_engine: None, clean_machine: None) -> Iterator[str]:
    """A tag of our own, so the test never replaces the busybox:latest that labs are using."""
    tag = f"busybox:recipe-test-{os.getpid()}"
    yield tag
    images.docker("rmi", "-f", tag)


@needs_busybox
def test_build_is_idempotent_and_the_image_runs_the_lab_commands(scratch_tag: str) -> None:
    first = images.build_busybox(scratch_tag)
    assert first.built and first.image_id.startswith("sha256:")
    again = images.build_busybox(scratch_tag)
    assert not again.built and again.image_id == first.image_id
    assert images.image_label(scratch_tag, images.SOURCE_LABEL) is not None
    forced = images.build_busybox(scratch_tag, force=True)
    assert forced.built and forced.image_id != first.image_id
    assert not images.image_present(first.image_id), "the replaced image was left dangling"

    check = (
        "for a in sh ping ip ifconfig sleep cat ls nslookup telnet nc hostname wget route; "
        "do command -v $a >/dev/null || { echo missing $a; exit 1; }; done; "
        "ping -c 1 -W 2 127.0.0.1 && ip -o addr show lo"
    )
    name = f"recipe-test-probe-{os.getpid()}"
    try:
        done = images.docker("run", "--rm", "--name", name, scratch_tag, "sh", "-c", check)
    finally:
        images.docker("rm", "-f", name)
    output = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 0, output
    assert " 0% packet loss" in output and "127.0.0.1/8" in output


@needs_busybox
def test_ensure_image_builds_busybox_once_and_never_pulls_other_images(scratch_tag: str) -> None:
    assert images.ensure_image(scratch_tag) == "built"
    assert images.ensure_image(scratch_tag) == "present"
    missing = f"recipe-test-absent-{os.getpid()}:1"
    with pytest.raises(
        UserError, match="not on this machine and only busybox can be built offline"
    ):
        images.ensure_image(missing)
    assert not images.image_present(missing)


@needs_busybox
def test_cli_build_reports_up_to_date_on_the_second_run(scratch_tag: str) -> None:
    tag = f"{scratch_tag}-cli"
    try:
        first = run_cli("image", "build", tag)
        second = run_cli("image", "build", tag)
    finally:
        images.docker("rmi", "-f", tag)
    assert first.returncode == 0 and f"{tag}: built (BusyBox v" in first.stderr
    assert second.returncode == 0 and f"{tag}: already up to date" in second.stderr
    assert first.stdout == second.stdout == ""


@pytest.mark.docker
def test_image_reads_go_through_the_sdk(
    docker_engine: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Present, absent, a name Docker rejects, and an engine that is not there: no traceback."""
    from tests import busybox_image

    busybox_image.ensure()
    assert images.image_present("busybox")
    assert images.image_label("busybox", "no.such.label") == ""
    absent = f"recipe-test-absent-{os.getpid()}:1"
    assert not images.image_present(absent) and images.image_label(absent, "x") is None
    assert not images.image_present("Bad Name")
    images.require_engine()
    where = f"unix://{tmp_path}/no-engine.sock"
    monkeypatch.setenv("DOCKER_HOST", where)
    for check in (images.require_engine, lambda: images.image_present("busybox")):
        with pytest.raises(UserError, match=f"the Docker engine is not running at {where}"):
            check()
