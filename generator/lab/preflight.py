"""Checks before any step runs: root, the tools a recipe needs, a running Docker engine; and, for
`recipe doctor`, what silently breaks labs (Docker's FORWARD DROP policy, a missing image)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from generator.errors import UserError

# The tools the walkthrough's labs use; `recipe doctor` looks for all of them.
LAB_TOOLS = ("ip", "docker", "brctl", "tcpdump", "ping", "iptables")
_HINTS = {
    "ip": "apt-get install iproute2",
    "docker": "apt-get install docker.io",
    "brctl": "apt-get install bridge-utils",
    "tcpdump": "apt-get install tcpdump",
    "ping": "apt-get install iputils-ping",
    "iptables": "apt-get install iptables",
}
_BRIDGE_NF = Path("/proc/sys/net/bridge/bridge-nf-call-iptables")


@dataclass(frozen=True)
class Finding:
    level: str  # "error" stops a run; "warning" is for doctor; "ok" is a passed check
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.message}"


def check_root() -> Finding:
    if os.geteuid() != 0:
        return Finding(
            "error", "labs change the machine's network: run as root (sudo recipe run ...)"
        )
    return Finding("ok", "running as root")


def check_tools(tools: Iterable[str]) -> list[Finding]:
    found = []
    for tool in dict.fromkeys(tools):
        if shutil.which(tool) is None:
            hint = _HINTS.get(tool)
            found.append(
                Finding("error", f"missing tool {tool!r}" + (f" ({hint})" if hint else ""))
            )
        else:
            found.append(Finding("ok", f"{tool} found"))
    return found


def check_docker_engine() -> Finding:
    """The engine's version through the SDK: one request on its socket, no CLI output parsed."""
    from generator.hosts import engine

    try:
        version = engine.read(lambda client: str(client.version().get("Version", "")), timeout=15)
    except engine.EngineError as exc:
        return Finding("error", exc.advice())
    return Finding("ok", f"Docker engine {version or '(version unknown)'} running")


def check_forward_policy() -> Finding:
    """Docker sets the FORWARD policy to DROP; with br_netfilter on, that drops traffic between
    the ports of any bridge made by hand, without an error anywhere."""
    if shutil.which("iptables") is None:
        return Finding("warning", "iptables missing: cannot check the FORWARD policy")
    done = subprocess.run(
        ["iptables", "-w", "-S", "FORWARD"], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        return Finding("warning", f"cannot read the FORWARD chain: {done.stderr.strip()}")
    if "-P FORWARD DROP" not in done.stdout.splitlines():
        return Finding("ok", "iptables FORWARD policy is ACCEPT")
    bridged = _BRIDGE_NF.exists() and _BRIDGE_NF.read_text().strip() == "1"
    return Finding(
        "warning",
        "iptables FORWARD policy is DROP (Docker sets it)"
        + (" and br_netfilter is on" if bridged else "")
        + ": traffic across a bridge you make yourself is dropped unless a rule accepts it, "
        "e.g. iptables -I DOCKER-USER -i BR -o BR -j ACCEPT "
        "(the bridge recipes add and remove one)",
    )


def check_image(name: str) -> Finding:
    from generator.hosts import images

    try:
        present = images.image_present(name)
    except UserError as exc:
        return Finding("warning", f"cannot check the {name} image: {exc.message}")
    if not present:
        return Finding("warning", f"no {name} image; build it offline: recipe image build {name}")
    return Finding("ok", f"{name} image present")


def for_run(requires: Iterable[str], docker: bool) -> list[Finding]:
    """What a run needs, in the order a person would fix it."""
    findings = [check_root(), *check_tools(["bash", *requires, *(["docker"] if docker else [])])]
    if docker and shutil.which("docker") is not None:
        findings.append(check_docker_engine())
    return findings


def enforce(findings: list[Finding]) -> None:
    """Stop before any step with one clear line (exit 2) when a check failed."""
    errors = [f.message for f in findings if f.level == "error"]
    if errors:
        more = f" (and {len(errors) - 1} more; see recipe doctor)" if len(errors) > 1 else ""
        raise UserError(f"preflight: {errors[0]}{more}")


def for_doctor(tools: Iterable[str]) -> list[Finding]:
    findings = [check_root(), *check_tools([*LAB_TOOLS, *tools])]
    if shutil.which("docker") is not None:
        engine = check_docker_engine()
        findings.append(engine)
        if engine.level == "ok":
            findings.append(check_image("busybox"))
    findings.append(check_forward_policy())
    return findings
