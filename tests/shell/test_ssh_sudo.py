"""A non-root SSH user, as on a Vagrant box, gets root through `sudo -n`.

Real parts: a user made for the test, an sshd on loopback that admits only that user, and the
distribution's sudo. Without a NOPASSWD rule, one clear line says so; with it, a lab runs as root.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.shell.ssh import SSHShell, SudoRefused
from generator.shell.ssh_target import SSHTarget

USER = "recipe-sudo-t"
SUDOERS = Path("/etc/sudoers.d/recipe-sudo-test")
TOOLS = ("sudo", "useradd", "userdel", "pkill", "ssh-keygen", "/usr/sbin/sshd")
pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(
        any(shutil.which(tool) is None for tool in TOOLS),
        reason="needs sudo, useradd and openssh-server (.ci/run installs them)",
    ),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _sshd_config(base: Path, port: int) -> str:
    return "\n".join(
        [
            f"Port {port}",
            "ListenAddress 127.0.0.1",
            f"HostKey {base / 'host_key'}",
            f"PidFile {base / 'sshd.pid'}",
            f"AuthorizedKeysFile {base / 'authorized_keys'}",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            f"AllowUsers {USER}",
            "",
        ]
    )


def _wait_for(port: int, sshd: subprocess.Popen[bytes]) -> None:
    for _ in range(100):
        if sshd.poll() is not None:
            raise RuntimeError(f"sshd exited: {sshd.stderr.read() if sshd.stderr else b''!r}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("sshd did not listen within 5 s")


@pytest.fixture
def target(clean_machine: None, tmp_path: Path) -> Iterator[SSHTarget]:
    """USER, without sudo rights, reachable over SSH on loopback; all of it removed after."""
    base = Path(tempfile.mkdtemp(prefix="recipe-sudo-", dir="/run"))
    base.chmod(0o755)  # sshd reads authorized_keys as the user, through this directory
    made_privsep = not Path("/run/sshd").exists()
    sshd = None
    _remove_user()  # left by a run that was killed
    try:
        subprocess.run(
            [
                "useradd",
                "--create-home",
                "--home-dir",
                str(base / "home"),
                "--shell",
                "/bin/bash",
                USER,
            ],
            check=True,
            capture_output=True,
        )
        # useradd locks the password with "!", and sshd refuses locked accounts even for keys.
        subprocess.run(["usermod", "-p", "*", USER], check=True, capture_output=True)
        for key in ("host_key", "client_key"):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(base / key)], check=True
            )
        (base / "authorized_keys").write_text((base / "client_key.pub").read_text())
        (base / "authorized_keys").chmod(0o644)
        port = _free_port()
        (base / "sshd_config").write_text(_sshd_config(base, port))
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation
        sshd = subprocess.Popen(
            ["/usr/sbin/sshd", "-D", "-e", "-f", str(base / "sshd_config")], stderr=subprocess.PIPE
        )
        _wait_for(port, sshd)
        yield SSHTarget(
            f"{USER}@127.0.0.1:{port}",
            "127.0.0.1",
            port,
            USER,
            identities=(str(base / "client_key"),),
            known_hosts=tmp_path / "known_hosts",
            trust_user_known_hosts=False,
        )
    finally:
        if sshd is not None:
            sshd.terminate()
            sshd.wait(10)
        SUDOERS.unlink(missing_ok=True)
        _remove_user()
        shutil.rmtree(base, ignore_errors=True)
        if made_privsep:
            shutil.rmtree("/run/sshd", ignore_errors=True)


def _remove_user() -> None:
    """userdel refuses while the user's sessions are still ending: end them, then retry."""
    for _ in range(50):
        subprocess.run(["pkill", "-KILL", "-u", USER], capture_output=True, check=False)
        done = subprocess.run(
            ["userdel", "--remove", USER], capture_output=True, text=True, check=False
        )
        if done.returncode in (0, 6):  # 6: no such user
            return
        time.sleep(0.1)
    raise RuntimeError(f"cannot remove the test user {USER}: {done.stderr.strip()}")


def _allow_sudo() -> None:
    SUDOERS.write_text(f"{USER} ALL=(root) NOPASSWD: ALL\n")
    SUDOERS.chmod(0o440)
    check = subprocess.run(
        ["visudo", "-c", "-f", str(SUDOERS)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr


def _recipe(target: SSHTarget, *args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["recipe", *args, "--host", target.name, "--identity", target.identities[0]],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": str(tmp_path),
            "RECIPE_KNOWN_HOSTS": str(target.known_hosts),
        },
    )


def test_without_nopasswd_one_clear_line_says_sudo_wants_a_password(
    target: SSHTarget, tmp_path: Path
) -> None:
    with (
        pytest.raises(SudoRefused, match=f"sudo wants a password for {USER}.*NOPASSWD"),
        SSHShell(target) as shell,
    ):
        shell.run("true", 10)
    done = _recipe(target, "run", "veth-pair", "--no-record", tmp_path=tmp_path)
    assert done.returncode != 0
    assert f"sudo wants a password for {USER}" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) <= 2


def test_with_nopasswd_steps_run_as_root_and_a_lab_runs(target: SSHTarget, tmp_path: Path) -> None:
    _allow_sudo()
    with SSHShell(target) as shell:
        who = shell.run("id -un; whoami >&2", 10)
        assert (who.stdout, who.stderr, who.exit) == ("root\n", "root\n", 0)
        # Interactive steps go through sudo too.
        screen = shell.interact("sh", ["id -u"], None, 20)
        assert screen.exit == 0 and "\n0\n" in screen.stdout, screen.stdout
    record = tmp_path / "veth-pair.transcript"
    done = _recipe(target, "run", "veth-pair", "--record", str(record), tmp_path=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    text = record.read_text()
    assert (
        "127.0.0.1" in text.split("target: ", 1)[1].split("\n", 1)[0] and "\nuser: root\n" in text
    )
    assert " 0% packet loss" in text
