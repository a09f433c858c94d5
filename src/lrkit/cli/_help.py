"""The command class every verb uses: help that reads as a user expects.

typer (0.29) labels every flag with its Python type, so help shows ``--json <bool>`` and
``--help <bool>`` as if the flag took a value, and writes a required argument as
``{path}`` in the usage line. ``LrkitCommand`` leaves flags unlabelled and writes an
argument as ``PATH`` (required) or ``[PATH]`` (optional), as click and POSIX usage do.

>>> import typer
>>> app = typer.Typer(add_completion=False)
>>> @app.command(cls=LrkitCommand)
... def show(path: str = typer.Argument(...), json: bool = typer.Option(False, "--json")):
...     pass
>>> import typer.main
>>> cmd = typer.main.get_command(app)
>>> [p.metavar for p in cmd.params]
['PATH', '']
"""

from __future__ import annotations

import re
from typing import Any

from typer.core import TyperArgument, TyperCommand

__all__ = ["LrkitCommand"]


class LrkitCommand(TyperCommand):
    """A TyperCommand whose help shows flags without a type and arguments in capitals."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            _tidy(param)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None:
            _tidy(option)
        return option

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        # typer writes a required argument as {NAME} (or {NAME}...); usage lines elsewhere
        # write NAME
        return [re.sub(r"^\{(.*)\}(\.\.\.)?$", r"\1\2", piece)
                for piece in super().collect_usage_pieces(ctx)]


def _tidy(param: Any) -> None:
    if getattr(param, "is_flag", False):
        param.metavar = ""  # a flag takes no value: nothing to label
    elif isinstance(param, TyperArgument) and param.metavar is None:
        param.metavar = str(param.name).upper()
