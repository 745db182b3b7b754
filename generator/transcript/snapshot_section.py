"""Reading a snapshot section of a version-2 transcript (docs/transcript-format.md).

```
snapshot 1
after: 12
label: end of main
role: node1
state:
  | {JSON of the Snapshot, sorted keys, one value a line}
end snapshot 1
```
A damaged or hand-edited section is one TranscriptError naming the file and the line: the line
of the JSON fault inside the block, or of the field that is wrong.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from generator.transcript import state_json
from generator.transcript.jsondepth import deeper_than
from generator.transcript.records import SnapshotRecord
from generator.transcript.state import Snapshot
from generator.visible import shown

if TYPE_CHECKING:
    from generator.transcript.reader import _Reader

_FIELDS = frozenset({"after", "label", "role"})
_MAX_DEPTH = 12  # a snapshot nests 6 deep; more is a crafted file (json recursion)


def read(reader: _Reader, opening: str) -> SnapshotRecord | None:
    """One section from its opening line; None when the file ends inside it (cut off)."""
    start = reader.pos
    index = reader.number(opening[len("snapshot ") :], "snapshot", start)
    closing = f"end snapshot {index}"
    fields: dict[str, str] = {}
    state_line, state_text = 0, None
    while True:
        line = reader.next()
        if line is None:
            return None
        if line == closing:
            break
        key, sep, value = line.partition(": ")
        if line == "state:":
            state_line, state_text = reader.pos + 1, reader.block("state")
        elif sep and key in _FIELDS:
            fields[key] = value
        else:
            raise reader.error(f"unexpected line in snapshot {index}: {shown(line, quote=True)}")
    if state_text is None:
        raise reader.error(f"snapshot {index} lacks 'state:'")
    after = reader.number(fields.get("after", ""), "after", start) if "after" in fields else 0
    return SnapshotRecord(
        index=index,
        after_step=after,
        state=_state(reader, index, state_line, state_text),
        role=fields.get("role") or None,
        label=fields.get("label", ""),
    )


def _state(reader: _Reader, index: int, first: int, text: str) -> Snapshot:
    data = decode(reader, f"snapshot {index}", "the state", first, text)
    try:
        return state_json.from_data(data)
    except state_json.StateError as exc:
        raise reader.error(
            f"snapshot {index}: {exc}; re-record it with recipe run", first
        ) from None


def decode(reader: _Reader, section: str, what: str, first: int, text: str) -> object:
    """A section's JSON block, never trusted: too deep, not JSON or a number too long is one
    TranscriptError naming the line."""
    if deeper_than(text, _MAX_DEPTH):
        raise reader.error(f"{section}: {what} nests deeper than a recipe writes", first)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = first + exc.lineno - 1
        raise reader.error(f"{section}: {what} is not JSON: {exc.msg}", where) from None
    except ValueError:  # a number of thousands of digits: Python refuses to convert it
        raise reader.error(f"{section}: {what} holds a number too long", first) from None
