"""How recipe reads Docker's state: the Docker SDK, on this machine's socket or from printed JSON.

Every function imports the SDK inside itself: the import costs 0.2-0.5 s, and `recipe render`,
or a lab that never calls docker, must not pay it. Actions (`docker import`, a lab's own steps)
stay docker CLI lines; only reading goes through here. docs/state.md says why remote hosts print
JSON rather than lending their socket.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from generator.errors import UserError

if TYPE_CHECKING:
    from docker import DockerClient
    from docker.models.containers import Container
    from docker.models.networks import Network
    from docker.models.nodes import Node

T = TypeVar("T")
NO_SDK = "the Docker SDK (python package docker) is not installed"
UNREACHABLE = "the Docker engine is not reachable"
START_HINT = "start it with scripts/start-docker.sh (or systemctl start docker)"


class EngineError(UserError):
    """The engine cannot be read. `message` is the short reason a partial snapshot records;
    `advice()` adds where it was looked for and how to fix it, for a finding or a user error."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail

    def advice(self) -> str:
        if self.message == NO_SDK:
            return f"{NO_SDK}; reinstall recipe, or pip install docker"
        return (
            f"the Docker engine is not running at {where()} ({self.detail}); {START_HINT}"
            if self.detail
            else f"the Docker engine is not running at {where()}; {START_HINT}"
        )


def where() -> str:
    """The engine address the SDK uses, as from_env reads it."""
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def read(fn: Callable[[DockerClient], T], timeout: int = 10) -> T:
    """fn's answer from this machine's engine, over one client that is closed afterwards.
    Raises EngineError, never a traceback, when the SDK is missing or the engine does not
    answer. fn handles the errors it expects (an absent image, say) itself."""
    try:
        import docker
        from docker.errors import DockerException
    except ImportError:
        raise EngineError(NO_SDK) from None
    try:
        # from_env asks the engine its API version, so a dead socket fails here.
        client = docker.from_env(timeout=timeout)
    except (DockerException, OSError) as exc:  # requests' errors are OSErrors
        raise _unreachable(exc) from None
    try:
        return fn(client)
    except (DockerException, OSError) as exc:
        raise _unreachable(exc) from None
    finally:
        client.close()


def containers(attrs: Iterable[Mapping[str, Any]]) -> list[Container]:
    """The SDK's models from `docker inspect` JSON, as if the SDK had fetched it."""
    try:
        from docker.models.containers import Container
    except ImportError:
        raise EngineError(NO_SDK) from None
    return [Container(attrs=dict(a)) for a in attrs]


def networks(attrs: Iterable[Mapping[str, Any]]) -> list[Network]:
    """The SDK's models from `docker network inspect` JSON."""
    try:
        from docker.models.networks import Network
    except ImportError:
        raise EngineError(NO_SDK) from None
    return [Network(attrs=dict(a)) for a in attrs]


def nodes(attrs: Iterable[Mapping[str, Any]]) -> list[Node]:
    """The SDK's models from `docker node inspect` JSON."""
    try:
        from docker.models.nodes import Node
    except ImportError:
        raise EngineError(NO_SDK) from None
    return [Node(attrs=dict(a)) for a in attrs]


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _unreachable(exc: BaseException) -> EngineError:
    return EngineError(f"{UNREACHABLE}: {first_line(exc)}", first_line(exc))
