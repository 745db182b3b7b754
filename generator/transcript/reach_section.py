"""Reading a reach section of a version-3 transcript (docs/transcript-format.md).

```
reach 1
after: 7
role: node1
directive: c3 -> c1: no
matrix:
  | {JSON of the Matrix, sorted keys}
end reach 1
```
A damaged or hand-edited section is one TranscriptError naming the file and the line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from generator.transcript import matrix, state_json
from generator.transcript.records import ReachRecord
from generator.transcript.snapshot_section import decode
from generator.visible import shown

if TYPE_CHECKING:
    from generator.transcript.reader import _Reader


def read(reader: _Reader, opening: str) -> ReachRecord | None:
    """One section from its opening line; None when the file ends inside it (cut off)."""
    start = reader.pos
    index = reader.number(opening[len("reach ") :], "reach", start)
    closing = f"end reach {index}"
    after, role, directives = 0, None, []
    found: matrix.Matrix | None = None
    while True:
        line = reader.next()
        if line is None:
            return None
        if line == closing:
            break
        key, sep, value = line.partition(": ")
        if line == "matrix:":
            first = reader.pos + 1
            data = decode(reader, f"reach {index}", "the matrix", first, reader.block("matrix"))
            try:
                found = matrix.from_data(data)
            except state_json.StateError as exc:
                raise reader.error(f"reach {index}: {exc}; re-record it", first) from None
        elif sep and key == "after":
            after = reader.number(value, "after", reader.pos)
        elif sep and key == "role":
            role = value
        elif line == "directive:" or (sep and key == "directive"):
            directives.append(value)
        else:
            raise reader.error(f"unexpected line in reach {index}: {shown(line, quote=True)}")
    if found is None:
        raise reader.error(f"reach {index} lacks 'matrix:'")
    return ReachRecord(index, after, found, tuple(directives), role or None)
