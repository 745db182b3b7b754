"""JSON output (`docker network inspect`, `ip -j`) compared as data, not as text.

Key order and white space never count. Paths the lab does not care about can be ignored, written
like JSONPath: `[*].Id`, `[*].Containers.*.MacAddress`, `..Created` (at any depth). What is left
is normalized value by value, with the transcript's bindings, and printed canonically (sorted
keys); documents that differ are laid out one value per line, so the diff is readable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from generator.compare.normalize import PLACEHOLDER, Normalizer

# Keys whose integer values are volatile identities, bound like their textual forms.
# Docker's IPPrefixLen is the size of the range Docker picked (a /16 fresh, a /20 once its /16s
# are used), masked: which network of a container is which size follows the order of creation
# across labs, so not even a binding would read the same.
_KEY_KINDS = {"ifindex": "IF", "link_index": "IF", "Pid": "PID", "IPPrefixLen": "<PREFIX>"}
_TOKEN = re.compile(
    r"\.\.|\.?\[\*\]|\.?\[(\d+)\]|\.?\[\"((?:[^\"\\]|\\.)*)\"\]|\.?\*|\.?([^.\[\]*]+)"
)
_DIGIT = re.compile(r"\d")
_REMOVE = object()  # marker: drop this member

Token = tuple[str, Any]
Path = tuple[Token, ...]


class PathError(ValueError):
    """An ignore path that cannot be read; the message quotes it."""


def parse_path(text: str) -> Path:
    """`[*].Containers.*.MacAddress` -> tokens; `$` at the start is optional."""
    rest = text.strip().removeprefix("$")
    tokens: list[Token] = []
    pos = 0
    while pos < len(rest):
        found = _TOKEN.match(rest, pos)
        if not found or found.end() == pos:
            raise PathError(f"cannot read JSON path {text!r} at character {pos + 1}")
        piece = found.group()
        if piece == "..":
            tokens.append(("deep", None))
        elif found.group(1) is not None:
            tokens.append(("index", int(found.group(1))))
        elif found.group(2) is not None:
            tokens.append(("key", json.loads(f'"{found.group(2)}"')))
        elif found.group(3) is not None:
            tokens.append(("key", found.group(3)))
        else:
            tokens.append(("any", None))
        pos = found.end()
    if not tokens or tokens[-1][0] == "deep":
        raise PathError(f"JSON path {text!r} names nothing to ignore")
    return tuple(tokens)


def _children(node: Any, token: Token) -> Iterable[Any]:
    """Keys (dict) or indexes (list) of node that token selects."""
    kind, arg = token
    if isinstance(node, dict):
        if kind == "any":
            return list(node)
        if kind == "key" and arg in node:
            return [arg]
    elif isinstance(node, list):
        if kind == "any":
            return range(len(node))
        if kind == "index" and -len(node) <= arg < len(node):
            return [arg % len(node)]
    return ()


def _prune(node: Any, path: Path) -> Any:
    """node without what path selects; _REMOVE when path selects node itself."""
    if not path:
        return _REMOVE
    token, rest = path[0], path[1:]
    if token[0] == "deep":
        node = _prune(node, rest)
        if node is _REMOVE:
            return node
        for child in _children(node, ("any", None)):
            node[child] = _prune(node[child], path)
        return _drop_removed(node)
    for child in _children(node, token):
        node[child] = _prune(node[child], rest)
    return _drop_removed(node)


def _drop_removed(node: Any) -> Any:
    if isinstance(node, dict):
        for key in [k for k, v in node.items() if v is _REMOVE]:
            del node[key]
    elif isinstance(node, list) and any(v is _REMOVE for v in node):
        node[:] = [v for v in node if v is not _REMOVE]
    return node


def parse_json(text: str) -> Any | None:
    """The document when text is one JSON array or object, else None (compare it as text)."""
    head = text.lstrip()[:1]
    if head not in ("[", "{"):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def canonical(data: Any, normalizer: Normalizer, ignore: Iterable[Path] = ()) -> str:
    """The normalized document as stable, line-diffable text."""
    _drop_daemon_history(data)
    for path in ignore:
        data = _prune(data, path)
        if data is _REMOVE:
            return "null"
    # Compact, through the C encoder: pretty() re-renders only documents that differ.
    return json.dumps(_normalize(data, normalizer), sort_keys=True, separators=(",", ":"))


_DEFAULT_BRIDGE = "com.docker.network.bridge.default_bridge"


def _drop_daemon_history(data: Any) -> None:
    """Forget the IPAM gateway of Docker's default bridge network.

    dockerd writes it into `IPAM.Config` only when docker0 already had an address as the daemon
    started: absent on a fresh machine, present after any restart. It says how long the daemon
    has been around, not what the lab did. Gateways of user-defined networks still count.
    """
    for network in data if isinstance(data, list) else [data]:
        if not isinstance(network, dict) or not isinstance(options := network.get("Options"), dict):
            continue
        ipam = network.get("IPAM")
        if options.get(_DEFAULT_BRIDGE) == "true" and isinstance(ipam, dict):
            for config in ipam.get("Config") or []:
                if isinstance(config, dict):
                    config.pop("Gateway", None)


def pretty(text: str) -> str:
    """A canonical document laid out one value per line for a readable diff; other text as is."""
    data = parse_json(text)
    return text if data is None else json.dumps(data, indent=2, sort_keys=True) + "\n"


class _Str(int):
    """Skeleton slot: the n-th string of the document."""


class _Int(int):
    """Skeleton slot: the n-th volatile integer of the document."""


def _normalize(data: Any, normalizer: Normalizer) -> Any:
    """Every string (keys too) normalized in one regex pass, then volatile integers bound."""
    strings: list[str] = []
    numbers: list[tuple[str, int]] = []
    skeleton = _skeleton(data, None, strings, numbers, normalizer)
    texts = normalizer.many(strings)
    bound = [kind if kind[0] == "<" else normalizer.scalar(kind, value) for kind, value in numbers]
    return _fill(skeleton, texts, bound)


def _skeleton(
    node: Any, key: str | None, strings: list[str], numbers: list[tuple[str, int]], norm: Normalizer
) -> Any:
    if isinstance(node, str):
        strings.append(node)
        return _Str(len(strings) - 1)
    if isinstance(node, list):
        return [_skeleton(item, key, strings, numbers, norm) for item in node]
    if isinstance(node, dict):
        pairs = []
        for name, value in _in_stable_order(node, norm):
            strings.append(name)
            pairs.append((_Str(len(strings) - 1), _skeleton(value, name, strings, numbers, norm)))
        return tuple(pairs)  # a tuple marks an object: lists stay lists
    if isinstance(node, int) and not isinstance(node, bool) and (kind := _KEY_KINDS.get(key or "")):
        numbers.append((kind, node))
        return _Int(len(numbers) - 1)
    return node


def _fill(node: Any, texts: list[str], bound: list[str]) -> Any:
    if isinstance(node, _Str):
        return texts[node]
    if isinstance(node, _Int):
        return bound[node]
    if isinstance(node, list):
        return [_fill(item, texts, bound) for item in node]
    if isinstance(node, tuple):
        return {texts[k]: _fill(v, texts, bound) for k, v in node}
    return node


def _in_stable_order(node: dict[str, Any], normalizer: Normalizer) -> list[tuple[str, Any]]:
    """Members in an order that does not depend on volatile keys.

    Docker keys `Containers` by container ID, which differs on every run; visiting them in ID
    order would number them differently each time. Such members are ordered by their content
    with every volatile value masked (the container's name, its address), which is stable.
    """
    items = sorted(node.items())
    # Volatile keys (IDs, MACs, addresses) nearly always hold a digit; most ("Name") have none.
    keys = [key for key, _ in items if _DIGIT.search(key)]
    scratch = Normalizer(normalizer.rules)  # its own bindings: looking must not bind
    if normalizer.rules:
        keys = [key for key, _ in items]
    if not keys or scratch.many(keys) == keys:
        return items

    def shape(item: tuple[str, Any]) -> str:
        text = scratch.text(json.dumps(item, sort_keys=True, default=str))
        return PLACEHOLDER.sub(r"\1#", text)

    return sorted(items, key=shape)
