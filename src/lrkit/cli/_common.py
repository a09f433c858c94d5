"""Output helpers shared by the verbs: consoles, JSON on stdout, key=value arguments."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.console import Console

from lrkit._json import jsonable
from lrkit.errors import ConfigError
from lrkit.schedules.parse import parse_spec

__all__ = ["console", "echo_json", "err_console", "parse_pairs"]

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def echo_json(document: Any) -> None:
    """Print one JSON document on stdout (numpy values converted, NaN/Inf as null)."""
    print(json.dumps(jsonable(document), allow_nan=False))


def parse_pairs(pairs: Sequence[str], where: str) -> dict[str, Any]:
    """Parse ``key=value`` arguments with the spec grammar (numbers, words, [lists]).

    >>> parse_pairs(["lr=0.1", "milestones=[30,60]", "mode=triangular2"], "torch:X")
    {'lr': 0.1, 'milestones': [30, 60], 'mode': 'triangular2'}
    """
    for pair in pairs:
        if "=" not in pair:
            raise ConfigError(f"{where}: argument {pair!r} is not key=value; "
                              "write e.g. lr=0.1")
    spec = parse_spec(f"args({', '.join(pairs)})")
    spec.pop("family")
    return spec
