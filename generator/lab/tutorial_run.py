"""What a tutorial's run checks beyond a script's, step by step: whether a step may run at all
(a destination outside the lab, an image this machine does not have), and the page check.

Checked when the step comes, on the step's host: a private address is inside the lab when this
host routes it over a device of its own making (a bridge, a veth), not over the default route's
device and not through a gateway; an image is here when `docker image ls` lists it. Nothing is
sent anywhere to find out.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Callable
from dataclasses import replace
from functools import cached_property

from generator.lab.page_check import PageCheck
from generator.lab.steps import Script, Step
from generator.lab.tutorial_outside import destinations
from generator.shell.base import Shell
from generator.tutorial.console import docker_verb

# docker run/create options that take no value; any other option takes the next word.
_FLAGS = frozenset(
    {
        "--rm", "--privileged", "--init", "--read-only", "--detach", "--interactive", "--tty",
        "--no-healthcheck", "--oom-kill-disable", "--publish-all", "--sig-proxy",
        "--quiet", "--use-api-socket",
        "-d", "-i", "-t", "-P", "-q",
    }
)  # fmt: skip
_SHORT_FLAGS = re.compile(r"^-[ditPq]+$")
# Docker's own name for a container run without --name: `eager_turing`.
_DOCKER_NAMED = re.compile(r"^[a-z]+_[a-z]+\d*$")
# A probe run inside a namespace: `ip netns exec red ping ...`, `ip -n red ...`.
_NAMESPACE = re.compile(r"\bip\s+(?:netns\s+exec|-n|-netns)\s+(?P<ns>[\w.-]+)")
_CHANGES_IMAGES = re.compile(
    r"\bdocker\s+(build|pull|import|load|tag|commit|rmi|image\s+(tag|load|import|rm|prune)"
    r"|system\s+prune)\b"
)


class TutorialRun:
    def __init__(self, script: Script, shell: Shell) -> None:
        self.script = script
        self.shell = shell
        self._images: dict[str, frozenset[str]] = {}
        self.removed: list[str] = []  # what the safety net removed after the teardown

    @cached_property
    def page(self) -> PageCheck:
        return PageCheck(self.script.images)

    def skipped(self, step: Step) -> str | None:
        """Why the step does not run, or None."""
        if step.skip:
            return step.skip
        command = step.interactive.spawn if step.interactive else step.command
        if _CHANGES_IMAGES.search(command):
            self._images.pop(step.host or "", None)
        image = next((i for i in images_of(command) if not self._has_image(step.host, i)), None)
        if image is not None:
            given = [source for source, local in self.script.images if local == image.split(":")[0]]
            if given:
                return (
                    f"the image {image} (--image {given[0]}={image.split(':')[0]}) is not on this "
                    "machine; build it (recipe image build busybox) or give another --image"
                )
            return (
                f"the image {image} is not on this machine and no registry is reached; "
                f"run it as a local image: --image {image.split(':')[0]}=busybox"
            )
        if step.interactive is None:
            namespace = _NAMESPACE.search(command)
            for address in destinations(command)[1]:
                if namespace is not None:
                    if not self._routed_in(step.host, namespace.group("ns"), address):
                        return f"outside the lab: {namespace.group('ns')} has no route to {address}"
                elif not self._inside(step.host, address):
                    return f"outside the lab: no lab network holds {address}"
        return None

    def narrowed(self, step: Step) -> Step:
        """The session step without the lines that would send a packet out of the lab: a
        container's traffic leaves through this host's routes, so they are checked here."""
        if step.interactive is None:
            return step
        outside: dict[str, str] = {}
        for line in step.interactive.lines:
            for address in destinations(line)[1]:
                if line not in outside and not self._inside(step.host, address):
                    outside[line] = f"outside the lab: no lab network holds {address}"
        if not outside:
            return step
        lines = tuple(line for line in step.interactive.lines if line not in outside)
        shown = tuple(
            replace(s, skip=outside[s.command]) if s.command in outside and not s.skip else s
            for s in step.expect.shown
        )
        return replace(
            step,
            interactive=replace(step.interactive, lines=lines),
            expect=replace(step.expect, shown=shown),
        )

    def safety_net(
        self, added: list[tuple[str, str]], again: Callable[[], list[tuple[str, str]]]
    ) -> list[tuple[str, str]]:
        """Remove what the tutorial made and left standing, judged from the state before and
        after; what is still there after that stays a leftover. Only what the page could have
        made goes: a name it mentions (or builds, `ns$i`), a container Docker named; something
        another program made meanwhile is reported, never removed."""
        from generator.lab.record_teardown import plan

        removal = plan([item for item in added if self._made_here(*item)])
        for command in removal.commands:
            self.shell.output_of(command)
        if removal.removes:
            self.removed = [f"{kind} {name}" for kind, name in removal.removes]
        return again()

    def _made_here(self, kind: str, name: str) -> bool:
        if kind.startswith("iptables"):
            # Docker's own rules, which go with their network; never another run's guard.
            return "recipe-egress-guard-" not in name
        if kind == "container" and _DOCKER_NAMED.match(name):
            return True
        return name in self._words or name.startswith(self._stems)

    @cached_property
    def _words(self) -> frozenset[str]:
        return frozenset(re.findall(r"[\w.:-]+", self._text))

    @cached_property
    def _stems(self) -> tuple[str, ...]:
        return tuple(set(re.findall(r"([\w.-]+)\$", self._text)))

    @cached_property
    def _text(self) -> str:
        steps = self.script.all_steps
        lines = [line for s in steps if s.interactive for line in s.interactive.lines]
        return "\n".join([*(s.command for s in steps), *lines])

    def removed_text(self) -> str:
        """`container a, network n (and 5 firewall rules)`: Docker's own rules go by count."""
        named = [item for item in self.removed if not item.startswith("iptables")]
        rules = len(self.removed) - len(named)
        return ", ".join(named) + (f" (and {rules} firewall rules)" if rules else "")

    def _has_image(self, host: str | None, image: str) -> bool:
        key = host or ""
        if key not in self._images:
            listed = self.shell.on(host).output_of(
                "docker image ls --format '{{.Repository}}:{{.Tag}} {{.ID}}' 2>/dev/null"
            )
            names = set()
            for line in listed.split("\n"):
                for word in line.split():
                    names.update({word, word.removesuffix(":latest")})
            self._images[key] = frozenset(names)
        wanted = image if ":" in image or "@" in image else image
        return wanted in self._images[key] or wanted.removesuffix(":latest") in self._images[key]

    def _routed_in(self, host: str | None, namespace: str, address: str) -> bool:
        """From inside a namespace: any route will do, since what it forwards through the host
        meets the egress guard (egress_guard.py) before it could leave."""
        family = "-6" if ":" in address else "-4"
        out = self.shell.on(host).output_of(
            f"ip -n {shlex.quote(namespace)} {family} -o route get {shlex.quote(address)} 2>&1"
        )
        return bool(re.search(r"\bdev \S+", out))

    def _inside(self, host: str | None, address: str) -> bool:
        if ipaddress.ip_address(address).is_loopback:
            return True
        family = "-6" if ":" in address else "-4"
        quoted = shlex.quote(address)
        out = self.shell.on(host).output_of(
            f"ip {family} -o route get {quoted} 2>&1; echo ---; ip {family} -o route show default"
        )
        route, _, default = out.partition("---")
        if route.startswith("local "):
            return True  # this machine's own address
        device = re.search(r"\bdev (\S+)", route)
        if device is None or " via " in f" {route} ":
            return False
        defaults = set(re.findall(r"\bdev (\S+)", default))
        return device.group(1) not in defaults


def images_of(command: str) -> list[str]:
    """The images every `docker run` and `docker create` in the command starts, continuation
    lines joined, each simple command read."""
    joined = command.replace("\\\n", " ")
    parts = re.split(r"&&|\|\||[;|\n&]", joined)
    return [image for part in parts if (image := image_of(part)) is not None]


def image_of(command: str) -> str | None:
    """The image a `docker run` or `docker create` starts, or None for any other command."""
    found = docker_verb(command.split("\n", 1)[0])
    if found is None or found[0] not in ("run", "create"):
        return None
    rest = found[1]
    i = 0
    while i < len(rest) and rest[i].startswith("-"):
        word = rest[i]
        takes_value = not ("=" in word or word in _FLAGS or _SHORT_FLAGS.match(word))
        i += 2 if takes_value else 1
    return rest[i] if i < len(rest) else None
