"""What the user's ~/.ssh says about trust, against a real sshd on loopback: @revoked and
@cert-authority lines in known_hosts, StrictHostKeyChecking and UserKnownHostsFile in
~/.ssh/config, and a private key that others can read. HOME is the test's own folder, so the
real ~/.ssh is never read or written."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.errors import UserError
from generator.hosts import inventory
from generator.shell import known_hosts
from generator.shell.ssh_connect import HostKeyRevoked, HostKeyUnknown, connect
from generator.shell.ssh_target import resolve

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(
        shutil.which("ssh-keygen") is None or not Path("/usr/sbin/sshd").exists(),
        reason="needs openssh-server and ssh-keygen",
    ),
]
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Sshd:
    port: int
    host_pub: str  # "ssh-ed25519 AAAA..."
    client_key: Path

    @property
    def name(self) -> str:  # how known_hosts names a host off port 22
        return f"[127.0.0.1]:{self.port}"


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True, mode=0o700)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv(inventory.STATE_ENV, str(tmp_path / "hosts-state"))
    monkeypatch.setenv("RECIPE_KNOWN_HOSTS", str(tmp_path / "tool_known_hosts"))
    monkeypatch.chdir(tmp_path)  # no Vagrantfile here
    return home


@pytest.fixture
def sshd(clean_machine: None, home: Path) -> Iterator[Sshd]:
    """A root-only sshd on 127.0.0.1 that accepts one key; removed after."""
    base = Path(tempfile.mkdtemp(prefix="recipe-trust-", dir="/run"))
    made_privsep = not Path("/run/sshd").exists()
    server = None
    try:
        _keygen(base / "host_key")
        _keygen(base / "client_key")
        (base / "authorized_keys").write_text((base / "client_key.pub").read_text())
        port = _free_port()
        (base / "sshd_config").write_text(
            "\n".join(
                [
                    f"Port {port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {base / 'host_key'}",
                    f"PidFile {base / 'sshd.pid'}",
                    f"AuthorizedKeysFile {base / 'authorized_keys'}",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    "PermitRootLogin prohibit-password",
                    "AllowUsers root",
                    "",
                ]
            )
        )
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation
        server = subprocess.Popen(
            ["/usr/sbin/sshd", "-D", "-e", "-f", str(base / "sshd_config")],
            stderr=subprocess.DEVNULL,
        )
        _wait_for(port, server)
        pub = " ".join((base / "host_key.pub").read_text().split()[:2])
        yield Sshd(port, pub, base / "client_key")
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        shutil.rmtree(base, ignore_errors=True)
        if made_privsep:
            shutil.rmtree("/run/sshd", ignore_errors=True)


def _wait_for(port: int, server: subprocess.Popen[bytes]) -> None:
    for _ in range(100):
        if server.poll() is not None:
            raise RuntimeError("sshd exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("sshd did not listen within 5 s")


def _address(server: Sshd) -> str:
    return f"root@127.0.0.1:{server.port}"


def _other_pub(tmp_path: Path) -> str:
    """A fresh key that is nobody's host key here."""
    path = Path(tempfile.mkdtemp(dir=tmp_path)) / "other"
    _keygen(path)
    return " ".join(path.with_suffix(".pub").read_text().split()[:2])


def _tool_file() -> Path:
    return Path(os.environ["RECIPE_KNOWN_HOSTS"])


def test_a_revoked_key_is_refused_even_where_it_is_also_listed(
    sshd: Sshd, home: Path, tmp_path: Path
) -> None:
    (home / ".ssh" / "known_hosts").write_text(
        f"{sshd.name} {sshd.host_pub}\n@revoked * {sshd.host_pub}\n"
    )
    target = resolve(_address(sshd), identity=str(sshd.client_key))
    with pytest.raises(HostKeyRevoked, match=r"marked @revoked .* never accepted"):
        connect(target, timeout=5)
    assert not _tool_file().exists()  # never accepted on first use either
    # Known only in recipe's own file: still refused.
    (home / ".ssh" / "known_hosts").write_text(f"@revoked {sshd.name} {sshd.host_pub}\n")
    _tool_file().write_text(f"{sshd.name} {sshd.host_pub}\n")
    with pytest.raises(HostKeyRevoked):
        connect(target, timeout=5)


def test_cert_authority_and_damaged_lines_leave_the_other_lines_working(
    sshd: Sshd, home: Path, tmp_path: Path
) -> None:
    from paramiko.hostkeys import HostKeys

    hashed = HostKeys.hash_host(sshd.name)
    (home / ".ssh" / "known_hosts").write_text(
        f"@cert-authority *.example.org {_other_pub(tmp_path)}\n"
        "@revoked\n@bogus-marker x ssh-ed25519 AAAA\nbroken ssh-ed25519 !!notbase64\n"
        f"other.example.org {_other_pub(tmp_path)}\n"
        f"{hashed} {sshd.host_pub}\n"
    )
    target = resolve(_address(sshd), identity=str(sshd.client_key))
    connect(target, strict=True, timeout=5).close()  # known, through the hashed line
    assert not _tool_file().exists()


def test_a_host_trusted_only_through_a_ca_is_explained(
    sshd: Sshd, home: Path, tmp_path: Path
) -> None:
    (home / ".ssh" / "known_hosts").write_text(
        f"@cert-authority [127.0.0.1]:* {_other_pub(tmp_path)}\n"
    )
    target = resolve(_address(sshd), identity=str(sshd.client_key))
    with pytest.raises(HostKeyUnknown, match="@cert-authority.*cannot check host certificates"):
        connect(target, timeout=5)
    assert not _tool_file().exists()


def _config(home: Path, server: Sshd, *lines: str) -> None:
    (home / ".ssh" / "config").write_text(
        f"Host lab\n  HostName 127.0.0.1\n  Port {server.port}\n  User root\n"
        + "".join(f"  {line}\n" for line in lines)
    )


def test_strict_host_key_checking_yes_in_ssh_config_refuses_an_unknown_key(
    sshd: Sshd, home: Path
) -> None:
    _config(home, sshd, "StrictHostKeyChecking yes")
    target = resolve("lab", identity=str(sshd.client_key))
    with pytest.raises(HostKeyUnknown, match=r"StrictHostKeyChecking yes in ~/.ssh/config says so"):
        connect(target, timeout=5)
    assert not _tool_file().exists()
    # `Host *` applies to a plain address too, as for `ssh ADDRESS`.
    (home / ".ssh" / "config").write_text("Host *\n  StrictHostKeyChecking yes\n")
    with pytest.raises(HostKeyUnknown, match="StrictHostKeyChecking yes"):
        connect(resolve(_address(sshd), identity=str(sshd.client_key)), timeout=5)


def test_the_command_line_wins_over_ssh_config(sshd: Sshd, home: Path) -> None:
    _config(home, sshd, "StrictHostKeyChecking accept-new")
    target = resolve("lab", identity=str(sshd.client_key))
    with pytest.raises(HostKeyUnknown, match="--strict-host-key is set"):
        connect(target, strict=True, timeout=5)
    connect(target, timeout=5).close()  # the config's accept-new, as recipe's default
    assert _tool_file().read_text().startswith(f"{sshd.name} ssh-ed25519 ")


def test_user_known_hosts_file_replaces_the_default_one(sshd: Sshd, home: Path) -> None:
    (home / ".ssh" / "known_hosts").write_text(f"{sshd.name} {sshd.host_pub}\n")
    _config(home, sshd, "StrictHostKeyChecking yes", "UserKnownHostsFile %d/lab_hosts")
    target = resolve("lab", identity=str(sshd.client_key))
    assert target.user_known_hosts == (str(home / "lab_hosts"),)
    with pytest.raises(HostKeyUnknown):  # ~/.ssh/known_hosts is no longer read
        connect(target, timeout=5)
    (home / "lab_hosts").write_text(f"{sshd.name} {sshd.host_pub}\n")
    before = _digest(home / ".ssh")
    connect(target, timeout=5).close()
    assert _digest(home / ".ssh") == before and not _tool_file().exists()


def _digest(folder: Path) -> str:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return hashlib.sha256(b"".join(p.name.encode() + p.read_bytes() for p in files)).hexdigest()


def test_an_identity_others_can_read_is_refused(home: Path, tmp_path: Path) -> None:
    key = tmp_path / "id_open"
    _keygen(key)
    key.chmod(0o640)
    with pytest.raises(UserError, match="UNPROTECTED PRIVATE KEY FILE: mode 0640"):
        resolve("root@127.0.0.1:2222", identity=str(key))
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from generator.cli import main; main()",
            "run",
            "veth-pair",
            "--no-record",
            "--host",
            "root@127.0.0.1:1",
            "--identity",
            str(key),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"recipe: --identity {key}: UNPROTECTED PRIVATE KEY FILE: mode 0640 lets other users "
        f"read it, so it is not used; make it private: chmod 600 {key}"
    )
    key.chmod(0o600)
    assert resolve("root@127.0.0.1:2222", identity=str(key)).identities == (str(key),)


def test_an_ssh_config_identity_others_can_read_is_refused(home: Path) -> None:
    key = home / ".ssh" / "lab_key"
    _keygen(key)
    key.chmod(0o644)
    (home / ".ssh" / "config").write_text(
        "Host lab\n  HostName 10.0.0.5\n  IdentityFile ~/.ssh/lab_key\n"
    )
    with pytest.raises(UserError, match="IdentityFile in ssh-config .*UNPROTECTED"):
        resolve("lab")


@pytest.mark.parametrize(
    ("name", "patterns", "expected"),
    [
        ("[10.0.0.5]:2222", ("[10.0.0.5]:2222",), True),
        ("[10.0.0.5]:2222", ("[10.0.0.5]:*",), True),
        ("10.0.0.5", ("[10.0.0.5]:2222",), False),  # brackets are literal, not a class
        ("web1.lab", ("*.lab", "!web1.lab"), False),
        ("Web2.LAB", ("*.lab",), True),
        ("x", ("|1|bad|salt",), False),
    ],
)
def test_host_patterns(name: str, patterns: tuple[str, ...], expected: bool) -> None:
    assert known_hosts.matches(name, patterns) is expected
