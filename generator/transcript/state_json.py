"""A Snapshot to and from JSON data, strictly: a transcript is never trusted.

The reader checks every object against the dataclass it stands for: no unknown keys, no missing
ones without a default, every value of its declared type (an `int` no bool, a string no number).
The first fault is raised as StateError naming the path to it (`namespaces[2].links[0].mtu`).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from typing import Any, TypeVar

from generator.transcript.state import Snapshot

T = TypeVar("T")
_IGNORED = frozenset({"is_partial"})  # derived; `recipe state --json` prints it


class StateError(ValueError):
    """A state section that does not hold a snapshot; the message names where."""


def to_data(value: Any) -> Any:
    """Plain JSON data, each field left out that holds its default (the reader puts it back)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data: dict[str, Any] = {}
        for spec in dataclasses.fields(value):
            item = getattr(value, spec.name)
            if spec.default is dataclasses.MISSING or item != spec.default:
                data[spec.name] = to_data(item)
        return data
    if isinstance(value, tuple):
        return [to_data(item) for item in value]
    return value


def dumps(data: object, indent: str = "") -> str:
    """JSON with sorted keys, a value on one line when it fits in _WIDTH characters, else one
    member a line: a snapshot stays short, and a changed link or address is one changed line."""
    flat = json.dumps(data, sort_keys=True, ensure_ascii=False)
    if len(flat) + len(indent) <= _WIDTH or not isinstance(data, dict | list | tuple) or not data:
        return flat
    inner = indent + " "
    if isinstance(data, dict):
        items = [
            f"{inner}{json.dumps(k)}: {dumps(v, inner).lstrip()}" for k, v in sorted(data.items())
        ]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    items = [inner + dumps(v, inner).lstrip() for v in data]
    return "[\n" + ",\n".join(items) + "\n" + indent + "]"


_WIDTH = 150


def from_data(data: object) -> Snapshot:
    return read_as(Snapshot, data, "state")


def read_as(cls: type[T], data: object, root: str) -> T:
    """JSON data as the dataclass cls, checked strictly; StateError names the path of a fault."""
    found = _value(cls, data, root)
    assert isinstance(found, cls)
    return found


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _value(hint: Any, data: object, path: str) -> object:
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        options = typing.get_args(hint)
        if data is None and type(None) in options:
            return None
        (inner,) = [o for o in options if o is not type(None)]
        return _value(inner, data, path)
    if origin is tuple:
        if not isinstance(data, list):
            raise StateError(f"{path}: expected a list, got {_kind(data)}")
        (inner, _) = typing.get_args(hint)
        return tuple(_value(inner, item, f"{path}[{i}]") for i, item in enumerate(data))
    if dataclasses.is_dataclass(hint):
        return _object(hint, data, path)
    if hint is bool:
        if not isinstance(data, bool):
            raise StateError(f"{path}: expected true or false, got {_kind(data)}")
        return data
    if hint is float:
        if not isinstance(data, int | float) or isinstance(data, bool):
            raise StateError(f"{path}: expected a number, got {_kind(data)}")
        return float(data)
    if hint is int:
        if not isinstance(data, int) or isinstance(data, bool):
            raise StateError(f"{path}: expected a whole number, got {_kind(data)}")
        return data
    if hint is str:
        if not isinstance(data, str):
            raise StateError(f"{path}: expected a string, got {_kind(data)}")
        return data
    raise StateError(f"{path}: cannot read a value of type {hint}")  # pragma: no cover


def _object(cls: Any, data: object, path: str) -> object:
    if not isinstance(data, dict):
        raise StateError(f"{path}: expected an object, got {_kind(data)}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields) - _IGNORED)
    if unknown:
        raise StateError(f"{path}: unknown field {unknown[0]!r}")
    hints = _hints(cls)
    values: dict[str, object] = {}
    for name, spec in fields.items():
        if name in data:
            values[name] = _value(hints[name], data[name], f"{path}.{name}")
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            raise StateError(f"{path}: missing field {name!r}")
    return cls(**values)


def _kind(data: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true/false"}
    if data is None:
        return "null"
    return names.get(type(data), "a number")
