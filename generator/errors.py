"""The one exception type that the CLI turns into a single clear line and an exit code."""


class UserError(Exception):
    """A problem with the user's input or environment, never a bug.

    The CLI prints ``message`` as one line on stderr and exits with ``exit_code``.
    """

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
