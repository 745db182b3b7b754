"""Docker images for offline labs: a `busybox` image made from the host's static busybox binary.

No registry is reachable on the machines this tool targets, and a pull would send packets off the
machine. So the busybox image is built locally: an in-memory root filesystem holding /bin/busybox
and one symlink per applet, fed to `docker import`. Actions (import, pull, rmi) are docker CLI
lines; reading (is the engine up, is an image there, its id and labels) goes through the SDK
(engine.py), imported only when called, so `recipe render` never pays for it.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from generator.errors import UserError
from generator.hosts import engine

if TYPE_CHECKING:
    from docker import DockerClient
    from docker.models.images import Image

BUSYBOX = Path("/bin/busybox")
BUILDABLE = "busybox"
# The image remembers which binary it came from, so a rebuild happens only when that changes.
SOURCE_LABEL = "io.github.recipe.busybox-sha256"
# Applets the recipes type; a busybox without them cannot run the labs.
# fmt: off
REQUIRED_APPLETS = (
    "sh", "ping", "ip", "ifconfig", "route", "sleep", "cat", "ls", "nslookup", "telnet", "nc",
    "hostname", "wget", "grep", "sed", "awk", "ps", "echo", "head",
)
# fmt: on
# Directories a container expects; Docker mounts /etc/hosts, resolv.conf and hostname into /etc.
_DIRS = ("bin", "sbin", "usr/bin", "usr/sbin", "etc", "root", "tmp", "proc", "sys", "dev", "var")
_FILES = {
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
    "etc/group": "root:x:0:\nnogroup:x:65534:\n",
}
_TIMEOUT = 120.0
_PT_INTERP = 3  # ELF program header type naming the dynamic loader

ImageOutcome = Literal["present", "built", "pulled"]


@dataclass(frozen=True)
class BuildResult:
    tag: str
    image_id: str
    built: bool  # False when an image from the same binary was already there
    version: str  # from the banner busybox prints, e.g. "BusyBox v1.35.0 (Debian ...)"


def docker(
    *args: str, stdin: bytes | None = None, timeout: float = _TIMEOUT
) -> subprocess.CompletedProcess[bytes]:
    """Run the docker CLI; a missing CLI or a hung engine is a user error, not a traceback."""
    exe = shutil.which("docker")
    if exe is None:
        raise UserError("docker is not installed; install docker.io (scripts/install.sh does it)")
    try:
        return subprocess.run(
            [exe, *args], input=stdin, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise UserError(f"docker {args[0]} did not answer within {timeout:g} s") from None


def require_engine() -> None:
    """The docker CLI that builds and pulls, and an engine that answers the SDK."""
    if shutil.which("docker") is None:
        raise UserError("docker is not installed; install docker.io (scripts/install.sh does it)")
    try:
        engine.read(lambda client: client.version(), timeout=30)
    except engine.EngineError as exc:
        raise UserError(exc.advice()) from None


def is_static_elf(path: Path) -> bool:
    """True for an ELF executable without a dynamic loader, i.e. one that runs in an empty
    rootfs."""
    with path.open("rb") as handle:
        ident = handle.read(64)
        if len(ident) < 52 or ident[:4] != b"\x7fELF":
            raise UserError(f"{path} is not an ELF executable")
        wide, endian = ident[4] == 2, "<" if ident[5] == 1 else ">"
        if wide:
            (phoff,) = struct.unpack_from(endian + "Q", ident, 32)
            phentsize, phnum = struct.unpack_from(endian + "HH", ident, 54)
        else:
            (phoff,) = struct.unpack_from(endian + "I", ident, 28)
            phentsize, phnum = struct.unpack_from(endian + "HH", ident, 42)
        handle.seek(phoff)
        table = handle.read(phentsize * phnum)
    types = (struct.unpack_from(endian + "I", table, i * phentsize)[0] for i in range(phnum))
    return _PT_INTERP not in types


def busybox_binary(path: Path = BUSYBOX) -> Path:
    """The static busybox to build from, or a one-line error saying how to get it."""
    if not path.is_file():
        raise UserError(
            f"{path} not found; install busybox-static (apt-get install busybox-static)"
        )
    if not is_static_elf(path):
        raise UserError(
            f"{path} is dynamically linked and cannot run in an empty image; "
            "install busybox-static (apt-get install busybox-static)"
        )
    return path


def applet_paths(binary: Path) -> list[str]:
    """Where each applet lives in a standard busybox layout, e.g. bin/sh, usr/bin/wget."""
    done = subprocess.run([str(binary), "--list-full"], capture_output=True, text=True, check=False)
    paths = [line.strip().lstrip("/") for line in done.stdout.splitlines() if line.strip()]
    names = {p.rsplit("/", 1)[-1] for p in paths}
    missing = [a for a in REQUIRED_APPLETS if a not in names]
    if done.returncode != 0 or missing:
        raise UserError(
            f"{binary} lacks applets the labs use: {', '.join(missing) or '--list-full'}"
        )
    return [p for p in paths if p != "bin/busybox"]


def rootfs_tar(binary: Path, applets: list[str]) -> bytes:
    """A tar of the root filesystem: the binary, its applet links, and a minimal /etc."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name in _DIRS:
            tar.addfile(_entry(name, tarfile.DIRTYPE, 0o1777 if name == "tmp" else 0o755))
        data = binary.read_bytes()
        info = _entry("bin/busybox", tarfile.REGTYPE, 0o755)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        for path in applets:
            link = _entry(path, tarfile.SYMTYPE, 0o777)
            link.linkname = "/bin/busybox"
            tar.addfile(link)
        for path, text in _FILES.items():
            blob = text.encode()
            info = _entry(path, tarfile.REGTYPE, 0o644)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return buffer.getvalue()


def _entry(name: str, kind: bytes, mode: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = kind, mode, 0  # a fixed mtime keeps the tar reproducible
    return info


def image_label(tag: str, label: str) -> str | None:
    """A label of a local image, "" when it has none, None when there is no such image."""
    found = _inspect(tag)
    return None if found is None else str(found.labels.get(label, ""))


def image_present(name: str) -> bool:
    return _inspect(name) is not None


def build_busybox(
    tag: str = "busybox:latest", *, force: bool = False, binary: Path = BUSYBOX
) -> BuildResult:
    """Import the host's busybox as `tag`. Idempotent: an image from the same binary is kept."""
    import hashlib

    source = busybox_binary(binary)
    require_engine()
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    version = _busybox_version(source)
    if not force and image_label(tag, SOURCE_LABEL) == digest:
        return BuildResult(tag, _image_id(tag), built=False, version=version)
    previous = _image_id(tag)
    done = docker(
        "import",
        "--change",
        f"LABEL {SOURCE_LABEL}={digest}",
        "--change",
        'CMD ["sh"]',
        "--message",
        f"recipe image build: {version}",
        "-",
        tag,
        stdin=rootfs_tar(source, applet_paths(source)),
    )
    if done.returncode != 0:
        raise UserError(f"docker import failed: {_first_line(done.stderr)}")
    image_id = done.stdout.decode().strip()
    if previous and previous != image_id:
        # The old image lost its tag; drop it rather than leave it dangling. Docker refuses while
        # a container or another tag still uses it, and that refusal is fine.
        docker("rmi", previous)
    return BuildResult(tag, image_id, built=True, version=version)


def ensure_image(name: str, *, pull: bool = False) -> ImageOutcome:
    """Make sure image `name` exists locally.

    busybox is built from the host binary rather than pulled: the build needs no network, so no
    packet leaves the machine. Other images are pulled only when `pull` is true.
    """
    require_engine()
    if image_present(name):
        return "present"
    repo = name.split(":", 1)[0]
    if repo == BUILDABLE:
        build_busybox(name if ":" in name else f"{name}:latest")
        return "built"
    if not pull:
        raise UserError(
            f"image {name} is not on this machine and only busybox can be built offline; "
            f"run `docker pull {name}` where a registry is reachable, or use --set image=busybox"
        )
    done = docker("pull", name, timeout=600)
    if done.returncode != 0:
        raise UserError(
            f"image {name} is missing and docker pull failed: {_first_line(done.stderr)}"
        )
    return "pulled"


def _image_id(tag: str) -> str:
    found = _inspect(tag)
    return "" if found is None else str(found.id)


def _inspect(name: str) -> Image | None:
    """The image `name` (a tag or an id) through the SDK, None when there is no such image.
    A name Docker rejects as a reference names no image either, as `docker image inspect`
    says."""

    def get(client: DockerClient) -> Image | None:
        from docker.errors import APIError, ImageNotFound

        try:
            return client.images.get(name)
        except ImageNotFound:
            return None
        except APIError as exc:
            if exc.is_client_error():
                return None
            raise

    try:
        return engine.read(get)
    except engine.EngineError as exc:
        raise UserError(exc.advice()) from None


def _busybox_version(binary: Path) -> str:
    done = subprocess.run([str(binary)], capture_output=True, text=True, check=False)
    line = _first_line((done.stdout or done.stderr).encode())
    return line.removesuffix(" multi-call binary.") or "BusyBox"


def _first_line(data: bytes) -> str:
    lines = data.decode(errors="replace").strip().splitlines()
    return lines[0].strip() if lines else "no message"
