"""A stack's root: the Debian userland its nodes run on, built once by mmdebstrap and cached.

    root = ensure_root(stacks.get("debian-13"), say)   # cache_dir()/debian-13/root
    versions(root)   # {"debian": "13.2", "dockerd": "26.1.5+dfsg1-9", ...}
    purge(stack)     # the problems, [] when the root is gone

The folder `cache_dir()/<name>/` holds `root/`, `stamp` (the stack's stamp, written only once
the root is complete and in place), `lock` (flock: one builder at a time, the others wait) and,
after a failed build, `build.log`. A root is trusted only when its stamp matches.

A build goes into `.build-<random>/root` beside it and is renamed into place when complete; the
old root, if any, is removed only then. mmdebstrap runs in its own mount and pid namespace, so
the /proc, /sys and /dev it mounts in the chroot are never seen outside, and killing the
namespace's first process ends every apt and dpkg under it: on Ctrl-C or any error the build is
killed, waited for and removed, and nothing half-built is left to trust. A `.build-*` left by a
builder that was killed outright is removed by the next one.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import fcntl
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from generator import atomicfile
from generator.errors import UserError
from generator.hosts.stacks import CACHE_ENV, MIRROR_ENV, Stack, cache_dir, mirror

NEEDED_BYTES = 600 * 1000**2  # the packages downloaded (~150 MB) and the root (~400 MB)
BUILD_PREFIX = ".build-"
VERSIONS_FILE = "etc/recipe-stack"  # inside the root: what the root holds, for people and nodes
_NAMESPACE = ["unshare", "--mount", "--propagation", "private", "--pid", "--fork", "--kill-child"]
# What nobody reads inside a node: man pages, translations, docs (their copyright files stay).
# Changing these (or the command) builds other roots: bump stacks.BUILD, so cached ones rebuild.
_EXCLUDES = (
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/locale/*",
    "path-include=/usr/share/locale/locale.alias",
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
)
# mmdebstrap's steps worth a progress line, as it prints them ("I: running apt-get update...").
_PHASES = ("running apt-get update", "downloading packages", "installing remaining packages")
_PR_SET_PDEATHSIG = 1
# Package -> the name versions() gives it.
_PACKAGES = {"docker.io": "dockerd", "iproute2": "iproute2", "iptables": "iptables"}
_PACKAGES |= {"busybox-static": "busybox", "busybox": "busybox"}


def stack_dir(stack: Stack) -> Path:
    return cache_dir() / stack.name


def root_path(stack: Stack) -> Path:
    return stack_dir(stack) / "root"


def is_trusted(stack: Stack) -> bool:
    """True when the cached root is complete and was built from what the stack is now."""
    where = stack_dir(stack)
    try:
        stamp = (where / "stamp").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return False
    return stamp == stack.stamp and (where / "root").is_dir()


def ensure_root(stack: Stack, say: Callable[[str], None]) -> Path:
    """The stack's root, built first if none is cached or the cached one is stale."""
    root = root_path(stack)
    if is_trusted(stack):
        return root
    _check_tools()
    where = stack_dir(stack)
    if not where.exists():
        _check_space(stack, where)  # before anything is written
    where.mkdir(parents=True, exist_ok=True)
    with _locked(where, stack, say) as lock_fd:
        if is_trusted(stack):  # another builder made it while we waited
            return root
        if problems := _remove_stale(where):
            raise UserError(f"{stack.name}: {problems[0]}", exit_code=1)
        if root.exists() and (using := mounts_using(root)):
            raise UserError(
                f"{stack.name}: the cached root is out of date but in use by {using[0]}; "
                "take its nodes down first (recipe hosts down)"
            )
        _check_space(stack, where)
        _build(stack, where, lock_fd, say)
    return root


def purge(stack: Stack) -> list[str]:
    """Remove the stack's cached root, its stamp and any unfinished build; the problems."""
    where = stack_dir(stack)
    if not where.exists():
        return []
    if using := mounts_using(where):
        return [f"{stack.name}: not removing {where}, in use by {using[0]}"]
    try:
        with _locked(where, stack, lambda _: None):
            with contextlib.suppress(FileNotFoundError):
                (where / "stamp").unlink()  # first: a half-removed root is never trusted
            for path in sorted(where.iterdir()):
                if path.name != "lock":
                    _remove(path)
            (where / "lock").unlink()
        where.rmdir()
    except OSError as exc:
        return [f"{stack.name}: could not remove {where}: {exc.strerror or exc}"]
    return []


def versions(root: Path) -> dict[str, str]:
    """What the root holds: debian, dockerd, iproute2, iptables (with nf_tables or legacy),
    busybox; read from its files, nothing in it is run. {} when it is no root."""
    try:
        text = (root / VERSIONS_FILE).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return _read_versions(root)
    found = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.startswith("#"):
            found[key.strip()] = value.strip()
    return found


def _read_versions(root: Path) -> dict[str, str]:
    try:
        status = (root / "var/lib/dpkg/status").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    found: dict[str, str] = {}
    with contextlib.suppress(OSError):
        found["debian"] = (root / "etc/debian_version").read_text(encoding="utf-8").strip()
    for block in status.split("\n\n"):
        fields = dict(re.findall(r"^([A-Za-z-]+): ?(.*)$", block, re.MULTILINE))
        name = _PACKAGES.get(fields.get("Package", ""))
        if name and " installed" in fields.get("Status", "") and name not in found:
            found[name] = fields.get("Version", "")
    if "iptables" in found:
        with contextlib.suppress(OSError):
            chosen = os.readlink(root / "etc/alternatives/iptables")  # never followed
            kind = "legacy" if chosen.endswith("-legacy") else "nf_tables"
            found["iptables"] += f" ({kind})"
    order = ("debian", *dict.fromkeys(_PACKAGES.values()))
    return {key: found[key] for key in order if key in found}


def mounts_using(path: Path) -> list[str]:
    """The mounts at or under path, and those built on it (an overlay's lowerdir), as text; in
    every mount namespace, since a node's overlay of the root lives in the node's own."""
    prefix = str(path.resolve()) if path.exists() else str(path)
    within = re.compile(rf"(^|[=:,]){re.escape(prefix)}(/|[:,]|$)")
    found = []
    for pid, table in _mount_tables():
        where = "" if pid == "self" else f" (in the mount namespace of pid {pid})"
        for line in table.splitlines():
            fields = line.split()
            if len(fields) < 10 or "-" not in fields:
                continue
            point = _unescape(fields[4])
            if point == prefix or point.startswith(prefix + "/"):
                found.append(f"the mount {point}{where}")
            elif within.search(_unescape(fields[-1])):
                found.append(f"the {fields[fields.index('-') + 1]} mount {point}{where}")
    return found


def _mount_tables() -> Iterator[tuple[str, str]]:
    """(pid, mountinfo) of this process's mount namespace, then of each other one there is."""
    seen = set()
    pids = ["self", *(entry.name for entry in Path("/proc").iterdir() if entry.name.isdigit())]
    for pid in pids:
        try:
            space = os.stat(f"/proc/{pid}/ns/mnt").st_ino
            if space in seen:
                continue
            table = Path(f"/proc/{pid}/mountinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue  # gone, or a kernel thread
        seen.add(space)
        yield pid, table


def _unescape(text: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), text)


def _check_tools() -> None:
    if os.geteuid() != 0:
        raise UserError("building a stack root needs root (mmdebstrap --mode=root)", exit_code=2)
    if shutil.which("mmdebstrap") is None:
        raise UserError(
            "mmdebstrap not found; install the Debian package mmdebstrap "
            "(apt-get install mmdebstrap)",
            exit_code=2,
        )


def _check_space(stack: Stack, where: Path) -> None:
    existing = where
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    found = os.statvfs(existing)
    free = found.f_bavail * found.f_frsize
    if free < NEEDED_BYTES:
        raise UserError(
            f"{stack.name}: not enough space for its root in {where.parent}: "
            f"{free // 1000**2} MB free, about {NEEDED_BYTES // 1000**2} MB needed; "
            f"free some space there, or set {CACHE_ENV} to a folder on a disk with room",
            exit_code=2,
        )


@contextlib.contextmanager
def _locked(where: Path, stack: Stack, say: Callable[[str], None]) -> Iterator[int]:
    fd = os.open(where / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"{stack.name}: waiting for another build of its root to finish")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)


def _remove_stale(where: Path) -> list[str]:
    """Remove the `.build-*` of builders that died (we hold the lock, so none is running)."""
    problems = []
    for path in sorted(where.glob(BUILD_PREFIX + "*")):
        if using := mounts_using(path):
            problems.append(f"not removing the unfinished build {path}, in use by {using[0]}")
            continue
        _remove(path)
    return problems


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _build(stack: Stack, where: Path, lock_fd: int, say: Callable[[str], None]) -> None:
    build = where / f"{BUILD_PREFIX}{secrets.token_hex(4)}"
    build.mkdir(mode=0o755)  # apt's _apt user must reach the lists inside
    target = build / "root"
    started = time.monotonic()
    say(f"{stack.name}: building the root with mmdebstrap (about 30 s, once; cached in {where})")
    try:
        _run_mmdebstrap(stack, target, where, lock_fd, say)
        held = _read_versions(target)
        _write_versions(target, stack, held)
        with contextlib.suppress(FileNotFoundError):
            (where / "stamp").unlink()  # the old root is no longer trusted from here on
        root = where / "root"
        if root.exists():
            root.rename(build / "old")
        target.rename(root)
        atomicfile.write_text(where / "stamp", stack.stamp + "\n")
    finally:
        shutil.rmtree(build, ignore_errors=True)  # the old root, or the unfinished one
    shown = ", ".join(f"{key} {value}" for key, value in held.items() if key != "debian")
    say(f"{stack.name}: root ready in {time.monotonic() - started:.0f} s ({shown})")


def _command(stack: Stack, target: Path) -> list[str]:
    return [
        *_NAMESPACE,
        "--",
        "mmdebstrap",
        "--mode=root",
        "--variant=minbase",
        "--include=" + ",".join(stack.packages),
        *(f"--dpkgopt={option}" for option in _EXCLUDES),
        "--",  # what follows is never read as an option
        stack.suite,
        str(target),
        mirror(),
    ]


def _run_mmdebstrap(
    stack: Stack, target: Path, where: Path, lock_fd: int, say: Callable[[str], None]
) -> None:
    parent = os.getpid()
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def die_with_us() -> None:  # in the child: a recipe killed outright takes the build along
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(1)

    tail: collections.deque[str] = collections.deque(maxlen=400)
    process = subprocess.Popen(
        _command(stack, target),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # a Ctrl-C on the terminal reaches recipe only; recipe kills it
        preexec_fn=die_with_us,
        pass_fds=(lock_fd,),  # the lock is held while anything of the build lives
    )
    try:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            tail.append(line)
            step = line.removeprefix("I: ").rstrip(".")
            if line.startswith("I: ") and step.startswith(_PHASES):
                say(f"{stack.name}: {step}")
        code = process.wait()
    except BaseException:
        _stop(process)
        raise
    if code != 0:
        raise _failure(stack, list(tail), code, where)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Kill the build's pid namespace and wait until every process in it is gone.

    SIGKILL to the namespace's first process (unshare's child) makes the kernel kill all the
    others, and that process is reaped only once they are: so when unshare has waited for it and
    exited, nothing of the build is left, and with its processes goes its mount namespace."""
    deadline = time.monotonic() + 10
    while process.poll() is None and time.monotonic() < deadline:
        children = _children(process.pid)
        for pid in children or [process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=0.5)
    if process.poll() is None:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


def _children(pid: int) -> list[int]:
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return []
    found = []
    for task in tasks:
        with contextlib.suppress(OSError, ValueError):
            found += [int(word) for word in (task / "children").read_text().split()]
    return found


def _write_versions(root: Path, stack: Stack, held: dict[str, str]) -> None:
    lines = [f"# what the {stack.name} root ({stack.suite}) holds; recipe, stamp {stack.stamp}"]
    lines += [f"{key}={value}" for key, value in held.items()]
    atomicfile.write_text(root / VERSIONS_FILE, "\n".join(lines) + "\n")


def _failure(stack: Stack, tail: list[str], code: int, where: Path) -> UserError:
    """One line for a failed build: the mirror's fault named as such, else mmdebstrap's error."""
    log = where / "build.log"
    with contextlib.suppress(OSError):
        atomicfile.write_text(log, "\n".join(tail) + "\n")
    reason = _mirror_reason(stack, tail)
    if reason:
        return UserError(
            f"{stack.name}: the Debian mirror {mirror()} failed: {reason}; check the network, "
            f"or set {MIRROR_ENV} to a mirror that works",
            exit_code=2,
        )
    errors = [line[3:] for line in tail if line.startswith("E: ")]
    said = errors[0] if errors else (tail[-1] if tail else f"exit status {code}")
    return UserError(f"{stack.name}: mmdebstrap failed: {said} (its output: {log})", exit_code=1)


def _mirror_reason(stack: Stack, tail: list[str]) -> str:
    for line in tail:
        if line.startswith("E: Failed to fetch "):
            _, _, reason = line.partition("  ")
            return (reason or line[3:]).strip().replace(". - ", ": ").rstrip(".")
        if "does not have a Release file" in line:
            return f"it has no Release file for {stack.suite}"
        if "Temporary failure resolving" in line or "Could not resolve" in line:
            return line.split("]")[-1].strip().removeprefix("E: ")
    return ""
