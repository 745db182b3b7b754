"""The schema checker the CLI tests use catches what it claims to."""

from __future__ import annotations

from tests.json_schema import problems

RULES = {
    "type": "object",
    "required": ["n", "state"],
    "additionalProperties": False,
    "properties": {
        "n": {"type": "integer", "minimum": 0},
        "state": {"enum": ["up", "down"]},
        "tags": {"type": "array", "items": {"type": ["string", "null"]}},
    },
}


def test_a_fitting_value_has_no_problem() -> None:
    assert problems({"n": 1, "state": "up", "tags": ["a", None]}, RULES) == []


def test_each_breach_is_named_with_its_place() -> None:
    found = problems({"n": True, "tags": [3], "extra": 1}, RULES)
    assert found == [
        "$: no 'state'",
        "$.n: bool is not integer",
        "$.tags[0]: int is not ['string', 'null']",
        "$: 'extra' is not in the schema",
    ]
    assert problems({"n": -1, "state": "sideways"}, RULES) == [
        "$.n: -1 < 0",
        "$.state: 'sideways' not in ['up', 'down']",
    ]
