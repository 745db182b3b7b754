"""`--stack NAME` on run: the lab runs on a node of that stack, made for the run when none is up
and removed again afterwards."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from generator.commands.choices import Choice, choice_option
from generator.errors import UserError


class StackName(Choice):
    """The stacks of generator/hosts/stacks.py (tests/hosts/test_stack_nodes.py holds the two
    lists equal)."""

    DEBIAN_12 = "debian-12"
    DEBIAN_13 = "debian-13"


def stack_option(help: str) -> Any:
    """typer.Option for `--stack NAME` (one word of StackName), with this help."""
    return choice_option(StackName, "--stack", help=help, show_default=False)


StackOption = Annotated[
    StackName | None,
    stack_option(
        "Run on a node of this stack: its Docker, iproute2, iptables and busybox, on this "
        "kernel. Made for the run when none is up, and removed after."
    ),
]


def _say(line: str) -> None:
    print(f"recipe: {line}", file=sys.stderr)


@contextmanager
def on_stack(
    stack: StackName | None, host: list[str], roles: tuple[str, ...] = ()
) -> Iterator[list[str]]:
    """The --host list the run uses: a node of the stack, or for a two-host lab (roles) the
    stack's pair, ROLE=NODE each; else host unchanged."""
    if stack is None:
        yield host
        return
    from generator.hosts import stack_leases

    if host:
        raise UserError("--stack chooses the host itself; leave out --host, or leave out --stack")
    if len(roles) > 2:
        raise UserError(f"--stack runs labs of one or two hosts; this one has {len(roles)}")
    if len(roles) == 2:
        with stack_leases.leased_pair(stack.value, _say) as pair:
            yield [f"{role}={node}" for role, node in zip(roles, pair.values(), strict=True)]
        return
    with stack_leases.leased_nodes(stack.value, 1, _say) as names:
        yield names
