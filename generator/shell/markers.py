"""The end-marker protocol both persistent shells speak (local bash, bash over an SSH channel).

A step goes to bash's stdin as `{ eval 'CMD'\\n} </dev/null`, then bash prints a random token and
`$?` on stdout and the token alone on stderr. Reading each stream up to its token splits one
step's output from the next. The token is printed in two halves, so that `set -x`/`set -v`
echoing the printf line can never be taken for the marker itself.
"""

from __future__ import annotations

import secrets
import shlex

# After the token on stdout comes `:STATUS` and a newline; a look for a marker split across reads
# starts this far before the new bytes, so it also finds a marker whose status line was cut short.
_TAIL = 16


class Markers:
    """One session's token, the wrapping of commands, and the splitting of what came back."""

    def __init__(self) -> None:
        self._left = "__RECIPE_" + secrets.token_hex(8)
        self._right = "_" + secrets.token_hex(8) + "__"
        self.token = (self._left + self._right).encode()
        # What a background job printed after the last marker belongs to the next step.
        self.carry = (b"", b"")

    def wrap(self, command: str, prelude: str = "") -> bytes:
        """The bytes to send for one step; `prelude` is a line run first, outside the step."""
        return (
            f"{prelude}"
            f"{{ eval {shlex.quote(command)}\n}} </dev/null\n"
            f"printf '%s%s:%d\\n' {self._left} {self._right} \"$?\"\n"
            f"printf '%s%s\\n' {self._left} {self._right} >&2\n"
        ).encode()

    def find(self, seen: bytes | bytearray, start: int = 0) -> int:
        """Where the marker is in `seen`, once its line is whole (its newline came), else -1."""
        at = seen.find(self.token, start)
        if at < 0 or seen.find(b"\n", at + len(self.token)) < 0:
            return -1
        return at

    def resume(self, seen: bytes | bytearray) -> int:
        """Where find() must look from once more bytes are added to `seen`."""
        return max(0, len(seen) - len(self.token) - _TAIL)

    def take_carry(self) -> tuple[bytearray, bytearray]:
        """Start a step's buffers with what arrived after the previous step's markers."""
        out, err = bytearray(self.carry[0]), bytearray(self.carry[1])
        self.carry = (b"", b"")
        return out, err

    def split(
        self, out: bytes | bytearray, err: bytes | bytearray, out_end: int, err_end: int
    ) -> tuple[bytes, bytes, int]:
        """A step's stdout, stderr and exit status, once find() found both markers at out_end
        and err_end; what follows the marker lines is kept for the next step."""
        status_line, _, out_rest = out[out_end + len(self.token) :].partition(b"\n")
        _, _, err_rest = err[err_end + len(self.token) :].partition(b"\n")
        self.carry = (bytes(out_rest), bytes(err_rest))
        return bytes(out[:out_end]), bytes(err[:err_end]), int(status_line.lstrip(b":") or b"0")

    def before(self, seen: bytes | bytearray) -> bytes:
        """What a stream held before its marker (all of it when the marker never came)."""
        return bytes(seen).split(self.token, 1)[0]
