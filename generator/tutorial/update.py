"""`recipe replay TUTORIAL.md --update`: the page with the shown output of the commands that
drifted replaced by what ran, and every other byte as it was (trycmd's overwrite)."""

from __future__ import annotations

from collections.abc import Sequence

from generator.tutorial.model import Command


def rewrite(text: str, outputs: Sequence[tuple[Command, str]]) -> str:
    """Replace each command's output_span lines with its new output, indented as the fence is.
    CRLF files stay CRLF; a zero-length span inserts where the output belongs."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.split("\n")
    ordered = sorted(outputs, key=lambda pair: pair[0].output_span, reverse=True)
    previous_start = len(lines) + 1
    for command, output in ordered:
        start, end = command.output_span
        if end > previous_start or start > end:
            raise ValueError(f"overlapping or bad output span at line {command.line}")
        previous_start = start
        cr = "\r" if newline == "\r\n" else ""
        body = output.removesuffix("\n").split("\n") if output else []
        lines[start:end] = [f"{command.indent}{line}{cr}" if line else cr for line in body]
    return "\n".join(lines)
