"""One Shell per host role of a multi-host lab, behind the single-shell interface the runner uses.

The runner asks `shell.on(step.host)` for the shell of each step's role (`#@ on ROLE`); steps
without a role run on the first role's host. Leftover snapshots cover every host, with each name
prefixed by its role, so `netns vx1` on two hosts stays two findings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from generator.errors import UserError
from generator.shell.base import Result, Shell


class RoleShells(Shell):
    name = "multi"

    def __init__(self, shells: Mapping[str, Shell]) -> None:
        if not shells:
            raise ValueError("RoleShells needs at least one role")
        self.shells = dict(shells)
        self.default = next(iter(self.shells))

    def on(self, role: str | None) -> Shell:
        if role is None:
            return self.shells[self.default]
        if role not in self.shells:
            known = ", ".join(self.shells)
            raise UserError(f"a step runs on role {role!r}, but the hosts are given for: {known}")
        return self.shells[role]

    def start(self) -> None:
        # Connect to every host before the first step: a lab must not half-start on one node.
        for shell in self.shells.values():
            shell.start()

    def run(self, command: str, timeout: float) -> Result:
        return self.shells[self.default].run(command, timeout)

    def interact(
        self,
        spawn: str,
        lines: Sequence[str],
        prompt: str | None,
        timeout: float,
        attach: bool = False,
    ) -> Result:
        return self.shells[self.default].interact(spawn, lines, prompt, timeout, attach)

    def close(self) -> None:
        for shell in self.shells.values():
            shell.close()

    def output_of(self, command: str) -> str:
        parts = []
        for role, shell in self.shells.items():
            for line in shell.output_of(command).splitlines():
                parts.append(line if line.startswith("@") or not line.strip() else f"{role}:{line}")
        return "\n".join(parts) + "\n"
