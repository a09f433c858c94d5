"""Errors lrkit raises on purpose.

Every error here is one a user can fix, so its message is one line that names the
parameter, the value received, the rule it broke and the fix:
``<parameter> = <value>: <rule>; <fix>``. The CLI prints it and exits with status 2; the web
API answers 422 with it.

A ``ConfigError`` built from its parts keeps them (``parameter``, ``value``, ``rule``,
``fix``) and names the parameter the way each surface spells it: ``str(err)`` and
``err.render("python")`` use the Python name, ``render("cli")`` the command-line flag and
``render("web")`` the JSON field. A plain message still works, and reads the same on
every surface.

>>> err = ConfigError(parameter="batch_size", value=0, rule="must be >= 1", fix="pass e.g. 256")
>>> print(err)
batch_size = 0: must be >= 1; pass e.g. 256
>>> print(err.render("cli"))
--batch-size = 0: must be >= 1; pass e.g. 256
>>> try:
...     raise ConfigError("cosine.total_steps = 0: must be positive; pass the number of updates")
... except ValueError as err:
...     print(err.render("cli"))
cosine.total_steps = 0: must be positive; pass the number of updates
"""

from __future__ import annotations

import re
from typing import Any, Literal

__all__ = ["SURFACES", "ConfigError", "DataError", "LrkitError", "MissingDependencyError",
           "SpecError", "Surface", "UserCodeError", "clip_message", "respell", "spell"]

#: Longest message the CLI prints or the web API answers: messages quote the input, and
#: an uploaded file or a pasted value can be megabytes (one line stays one line).
MAX_MESSAGE = 1000


Surface = Literal["python", "cli", "web"]
SURFACES: tuple[Surface, ...] = ("python", "cli", "web")

_UNSET: Any = object()
_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")
_FLAG = re.compile(r"(?<![\w-])--([a-z][a-z0-9-]*)")
# a quoted span opens and closes off a word (an apostrophe inside one is no quote)
_QUOTED = re.compile(r"(?<!\w)'[^']*'(?!\w)")


def spell(parameter: str, surface: Surface) -> str:
    """``parameter`` (a Python name) as ``surface`` spells it.

    A plain name becomes the CLI flag (``base_lr`` -> ``--base-lr``) and stays itself as a
    JSON field; a dotted or indexed name (``cosine.total_steps``, ``lrs[2]``) is a part of
    a spec, which reads the same everywhere.

    >>> spell("batch_size", "cli"), spell("batch_size", "web"), spell("cosine.peak_lr", "cli")
    ('--batch-size', 'batch_size', 'cosine.peak_lr')
    """
    if surface == "cli" and _IDENTIFIER.fullmatch(parameter):
        return "--" + parameter.replace("_", "-")
    return parameter


def respell(text: str, surface: Surface) -> str:
    """Parameters named in a text (a rule, a fix, a warning): written as flags, read as
    names off the CLI.

    A command in quotes is one to type, and keeps its flags; an apostrophe is not a quote.

    >>> respell("needs --batch-size too", "web")
    'needs batch_size too'
    >>> respell("pass --calc, the output of 'lrkit calc --json'", "python")
    "pass calc, the output of 'lrkit calc --json'"
    >>> respell("AdamW's range (e.g. --optimizer momentum)", "python")
    "AdamW's range (e.g. optimizer momentum)"
    """
    if surface == "cli":
        return text
    out, start = [], 0
    for quoted in _QUOTED.finditer(text):
        out += [_names(text[start:quoted.start()]), quoted.group()]
        start = quoted.end()
    return "".join([*out, _names(text[start:])])


def _names(text: str) -> str:
    return _FLAG.sub(lambda m: m.group(1).replace("-", "_"), text)


class LrkitError(Exception):
    """Base class of the errors lrkit raises for a problem the user can fix.

    Every subclass can be built from its parts, so the parameter it names reads the way each
    surface spells it (see ``ConfigError`` for the arguments); a plain message reads the
    same everywhere.

    Args:
        message: the whole one-line message (the older form; read the same everywhere).
        parameter: the parameter's Python name (``batch_size``, ``cosine.total_steps``).
        value: the value received (left out of the message when not given).
        rule: what the value broke (``must be >= 1``).
        fix: what to pass instead (``pass e.g. 256``). Another parameter named in the rule
            or the fix is written as its flag (``--batch-size``) and read as its name
            (``batch_size``) from Python and the web.
        flag, field: the CLI flag and the JSON field, where they are not spelled from
            ``parameter`` by ``spell``.
        cli_note: said only on the command line, after the fix (e.g. which flag shows
            more); other surfaces have their own way.
    """

    def __init__(self, message: str | None = None, *, parameter: str | None = None,
                 value: Any = _UNSET, rule: str | None = None, fix: str | None = None,
                 flag: str | None = None, field: str | None = None,
                 cli_note: str | None = None) -> None:
        self.parameter = parameter
        self.value = None if value is _UNSET else value
        self.rule = rule
        self.fix = fix
        self._has_value = value is not _UNSET
        self._names = {"cli": flag, "web": field}
        self._cli_note = cli_note
        self._parts = message is None  # a whole message given by hand reads the same anywhere
        super().__init__(message if message is not None else self._compose("python"))

    def _compose(self, surface: Surface) -> str:
        name = self._names.get(surface) or spell(self.parameter or "input", surface)
        head = f"{name} = {self.value!r}" if self._has_value else name
        tail = f"; {respell(self.fix, surface)}" if self.fix else ""
        note = f" {self._cli_note}" if self._cli_note and surface == "cli" else ""
        return f"{head}: {respell(self.rule or 'is not valid', surface)}{tail}{note}"

    def render(self, surface: Surface = "python") -> str:
        """The message with the parameter named as ``surface`` spells it.

        >>> ConfigError(parameter="task", value="nope", rule="unknown",
        ...             fix="use digits-mlp").render("cli")
        "--task = 'nope': unknown; use digits-mlp"
        """
        if surface == "python":
            return str(self)
        if not self._parts:
            note = f" {self._cli_note}" if self._cli_note and surface == "cli" else ""
            return str(self) + note
        return self._compose(surface)


class ConfigError(LrkitError, ValueError):
    """A parameter is missing, of the wrong type, or outside its valid range.

    Built from its parts (``parameter``, ``value``, ``rule``, ``fix``) or from a whole
    message, as every ``LrkitError``.
    """


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

    def __init__(self, message: str | None = None, *, function: str = "", where: str = "",
                 **parts: Any) -> None:
        super().__init__(message, **parts)
        self.function = function
        self.where = where


def clip_message(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` on one line and at most ``limit`` characters (cut with an ellipsis).

    >>> clip_message("a\\nb" + "x" * 2000, 10)
    'a bxxxx...'
    """
    text = " ".join(text.splitlines())
    return text if len(text) <= limit else text[: limit - 3] + "..."
