"""Any bytes at all, and any damage to a real transcript: the reader's only exception is its own
TranscriptError, one line naming the file and line, never a traceback."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from generator import transcript as tr

GOLDEN = sorted((Path(__file__).parents[2] / "transcripts").glob("*.transcript"))
LINES = [path.read_text().split("\n") for path in GOLDEN]
# Values a field could be given instead of its own: the hostile kinds found by hand, and any text.
FIELD_VALUES = st.one_of(
    st.sampled_from(
        [
            "²",
            "¹",
            "9" * 5000,
            "-9" * 3,
            "1.5",
            "nan",
            "inf",
            "-1",
            "",
            " ",
            "\0",
            "(",
            "[[[[[",
            '{"match": ["("]}',
            '{"exit": 1.5}',
            '{"exit": "x"}',
            "[" * 50_000,
            "{" * 3000,
            "null",
            '{"output": [1]}',
            "step 1",
            "end step 1",
            "  | x",
            "result: passed",
        ]
    ),
    st.text(max_size=30),
)


def _check(text: str) -> None:
    try:
        tr.parse(text, "lab.transcript")
    except tr.TranscriptError as exc:
        assert exc.message.startswith("lab.transcript"), exc.message
        assert "\n" not in exc.message and len(exc.message) < 400, exc.message


@settings(max_examples=1500, deadline=None)
@given(
    which=st.integers(0, len(LINES) - 1),
    at=st.integers(0, 10_000),
    value=FIELD_VALUES,
    how=st.sampled_from(["value", "line", "drop", "cut"]),
)
def test_a_damaged_golden_transcript_fails_only_as_a_transcript_error(
    which: int, at: int, value: str, how: str
) -> None:
    lines = list(LINES[which])
    at %= len(lines)
    key, colon, _ = lines[at].partition(": ")
    if how == "value" and colon:
        lines[at] = f"{key}: {value}"  # a field keeps its name and gets a hostile value
    elif how == "line":
        lines[at] = value
    elif how == "drop":
        del lines[at]
    else:
        lines = lines[:at]
    _check("\n".join(lines))


@settings(max_examples=1000, deadline=None)
@given(data=st.binary(max_size=400))
def test_any_bytes_fail_only_as_a_transcript_error(data: bytes) -> None:
    _check(data.decode("utf-8", errors="replace"))
    _check("recipe-transcript 1\n" + data.decode("latin-1"))
