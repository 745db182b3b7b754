"""A checker for the JSON Schema subset docs/schemas/*.json use: type (one or a list), enum,
required, properties, additionalProperties: false, items, minimum. jsonschema is no dependency
of recipe, and this much is enough to hold each --json output to its documented shape; a keyword
outside the subset fails loudly rather than passing unchecked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMAS = Path(__file__).resolve().parent.parent / "docs" / "schemas"
_KNOWN = {
    "$schema", "$id", "title", "description", "type", "enum", "required", "properties",
    "additionalProperties", "items", "minimum",
}  # fmt: skip
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def schema(name: str) -> dict[str, Any]:
    loaded = json.loads((SCHEMAS / f"{name}.json").read_text())
    assert isinstance(loaded, dict)
    return loaded


def problems(value: object, rules: dict[str, Any], where: str = "$") -> list[str]:
    """Every way VALUE breaks RULES, each naming its place; [] when it fits."""
    unknown = set(rules) - _KNOWN
    assert not unknown, f"{where}: schema keywords this checker does not know: {unknown}"
    found: list[str] = []
    if "type" in rules and not _typed(value, rules["type"]):
        return [f"{where}: {type(value).__name__} is not {rules['type']}"]
    if "enum" in rules and value not in rules["enum"]:
        found.append(f"{where}: {value!r} not in {rules['enum']}")
    if "minimum" in rules and isinstance(value, int | float) and value < rules["minimum"]:
        found.append(f"{where}: {value} < {rules['minimum']}")
    if isinstance(value, dict):
        found += _object(value, rules, where)
    if isinstance(value, list) and "items" in rules:
        for index, item in enumerate(value):
            found += problems(item, rules["items"], f"{where}[{index}]")
    return found


def _typed(value: object, names: str | list[str]) -> bool:
    for name in [names] if isinstance(names, str) else names:
        is_bool = isinstance(value, bool)
        if isinstance(value, _TYPES[name]) and (name == "boolean" or not is_bool):
            return True
    return False


def _object(value: dict[str, Any], rules: dict[str, Any], where: str) -> list[str]:
    found = [f"{where}: no {key!r}" for key in rules.get("required", []) if key not in value]
    properties = rules.get("properties", {})
    for key, item in value.items():
        if key in properties:
            found += problems(item, properties[key], f"{where}.{key}")
        elif rules.get("additionalProperties") is False:
            found.append(f"{where}: {key!r} is not in the schema")
    return found
