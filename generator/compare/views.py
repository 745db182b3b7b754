"""Which namespace a step's output was seen from, as far as its command's words tell."""

from __future__ import annotations

from generator.transcript.state import HOST

_DOCKER_EXEC_VALUED = frozenset(
    {"-e", "--env", "-u", "--user", "-w", "--workdir", "--env-file", "--detach-keys"}
)


def netns_view(command: str, role: str | None = None) -> str:
    """Which namespace a step's command looks from, as far as its words tell: `ip netns exec
    NS`, `ip -n NS`, `docker exec [options] NAME`, `nsenter ...`; "" is the shell's own. The
    role tells the hosts of a multi-host run apart."""
    words = command.split()
    where = ""
    for i, word in enumerate(words):
        rest = words[i + 1 :]
        if word == "ip" and rest[:2] == ["netns", "exec"] and len(rest) > 2:
            where = "netns " + rest[2]
        elif word == "ip" and len(rest) > 1 and rest[0] in ("-n", "-netns", "--netns"):
            where = "netns " + rest[1]
        elif word == "docker":
            where = _docker_exec_target(rest)
        elif word == "nsenter":
            where = "nsenter " + " ".join(w for w in rest if w.startswith("-"))
        if where:
            break
    return f"{role}: {where}" if role else where


def viewer(view: str) -> tuple[str, str] | None:
    """netns_view's answer as (role, namespace id) of state_names; None when it cannot tell."""
    role, sep, where = view.rpartition(": ")
    kind, _, name = where.partition(" ")
    if not where:
        return role, HOST
    if kind in ("netns", "container") and name:
        return role, f"{kind}:{name}"
    return None


def _docker_exec_target(words: list[str]) -> str:
    if words[:1] == ["container"]:
        words = words[1:]
    if words[:1] != ["exec"]:
        return ""
    skip = False
    for word in words[1:]:
        if skip:
            skip = False
        elif word in _DOCKER_EXEC_VALUED:
            skip = True
        elif not word.startswith("-"):
            return "container " + word
    return ""
