"""Errors lrkit raises on purpose.

Every error here is one a user can fix, so its message is one line that names the
parameter, the value received and the fix. The CLI prints it and exits with status 2;
the web API answers 422 with the same text.

>>> try:
...     raise ConfigError("cosine.total_steps = 0: must be positive; pass the number of updates")
... except ValueError as err:
...     print(err)
cosine.total_steps = 0: must be positive; pass the number of updates
"""

from __future__ import annotations

__all__ = ["ConfigError", "DataError", "LrkitError", "MissingDependencyError", "SpecError",
           "UserCodeError", "clip_message"]

#: Longest message the CLI prints or the web API answers: messages quote the input, and
#: an uploaded file or a pasted value can be megabytes (one line stays one line).
MAX_MESSAGE = 1000


class LrkitError(Exception):
    """Base class of the errors lrkit raises for a problem the user can fix."""


class ConfigError(LrkitError, ValueError):
    """A parameter is missing, of the wrong type, or outside its valid range."""


class SpecError(ConfigError):
    """A schedule spec (JSON or compact string) cannot be parsed or names an unknown thing."""


class DataError(LrkitError):
    """An input file or data set cannot be read: missing, empty, truncated or malformed."""


class MissingDependencyError(LrkitError, ImportError):
    """An optional dependency is not installed; the message gives the pip line that adds it."""


class UserCodeError(LrkitError):
    """The user's own code (a task's model, loss, optimizer or factory) raised or misbehaved.

    The message names the user's function, the last line of *their* code that ran, and the
    exception; the CLI prints it as one line (``--debug`` adds the full traceback). The
    original exception is kept as ``__cause__``.

    Attributes:
        function: the user's function that failed, as the message names it.
        where: ``file:line`` of the last frame of the user's code, or "".
    """

    def __init__(self, message: str, *, function: str = "", where: str = "") -> None:
        super().__init__(message)
        self.function = function
        self.where = where


def clip_message(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` on one line and at most ``limit`` characters (cut with an ellipsis).

    >>> clip_message("a\\nb" + "x" * 2000, 10)
    'a bxxxx...'
    """
    text = " ".join(text.splitlines())
    return text if len(text) <= limit else text[: limit - 3] + "..."
