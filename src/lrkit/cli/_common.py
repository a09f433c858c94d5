"""Output helpers shared by the verbs: consoles, JSON on stdout, key=value arguments."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.console import Console

from lrkit._json import jsonable
from lrkit.errors import ConfigError
from lrkit.schedules.parse import parse_spec

__all__ = ["MAX_SEED", "TASK_HELP", "bounded", "check_outputs", "compact_spec", "console",
           "echo_json", "err_console", "parse_pairs", "task_option"]

# One --task option for every verb that trains (find, sharpness, tune, auto, compare).
TASK_HELP = ("A built-in task (digits-mlp, digits-cnn, breast-cancer-logreg, diabetes-mlp), "
             "a zoo pair (zoo:NAME) or path/to/file.py:make_task.")


def task_option(default: str = "digits-mlp") -> Any:
    """The shared ``--task`` option (a typer default), the same name and help everywhere."""
    return typer.Option(default, "--task", help=TASK_HELP)

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def echo_json(document: Any) -> None:
    """Print one JSON document on stdout (numpy values converted, NaN/Inf as null)."""
    print(json.dumps(jsonable(document), allow_nan=False))


def check_outputs(*, plot: Path | None = None, save: Path | None = None,
                  report: Path | None = None) -> None:
    """Refuse unusable output paths before a verb does its (possibly long) work.

    ``plot`` must be a .png/.svg/.pdf file path, ``save`` any file path, ``report`` a
    folder; each must be writable, and no folder or device stands where a file goes.
    """
    from lrkit._io import output_folder, output_target

    if plot is not None:
        from lrkit.report._mpl import check_plot_path

        check_plot_path(plot)
    if save is not None:
        output_target(save, "--save")
    if report is not None:
        output_folder(report, "--report")


#: Seeds feed numpy and torch generators, which take 0 .. 2**32 - 1.
MAX_SEED = 2**32 - 1


def bounded(low: float, high: float, *, low_open: bool = False, example: str = "",
            ) -> Callable[[Any, Any, Any], Any]:
    """A typer option callback refusing values outside [low, high] (or (low, high]), NaN
    and infinities, with lrkit's one-line message (typer itself would accept 1e9 steps, a
    seed of 2**64 or a grid factor of nan and fail late or never).

    >>> check = bounded(1, 10, example="5")
    >>> check(None, type("P", (), {"opts": ["--steps"]})(), 3)
    3
    >>> check(None, type("P", (), {"opts": ["--steps"]})(), 11)
    Traceback (most recent call last):
    ...
    lrkit.errors.ConfigError: --steps = 11: must be between 1 and 10; pass e.g. 5
    """
    def check(ctx: Any, param: Any, value: Any) -> Any:
        if value is None or isinstance(value, bool):
            return value
        name = (getattr(param, "opts", None) or [getattr(param, "name", "value")])[0]
        items = value if isinstance(value, list | tuple) else [value]
        for v in items:
            ok = (math.isfinite(v) and (v > low if low_open else v >= low) and v <= high)
            if not ok:
                lo = f"> {_num(low)}" if low_open else f"between {_num(low)} and {_num(high)}"
                rule = (f"must be {lo} and <= {_num(high)}" if low_open else f"must be {lo}")
                fix = f"pass e.g. {example}" if example else "pass a value in that range"
                raise ConfigError(f"{name} = {v!r}: {rule}; {fix}")
        return value

    return check


def _num(v: float) -> str:
    return f"{int(v):,}" if float(v).is_integer() else f"{v:g}"


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


def compact_spec(spec: dict[str, Any]) -> str:
    """A schedule spec as the one-line ``family(key=value, ...)`` that ``lrkit schedule`` reads.

    Printed by the verbs that end with a schedule (``auto``, ``tune``) so the line can be
    pasted into ``lrkit schedule`` or a task's ``schedule=``. A spec the compact grammar
    cannot express (a nested dict without a family) comes back as JSON, which reads too.

    >>> compact_spec({"family": "cosine", "peak_lr": 0.1, "total_steps": 100})
    'cosine(peak_lr=0.1, total_steps=100)'
    >>> compact_spec({"family": "join", "pieces": [{"family": "constant", "base_lr": 1e-05}],
    ...               "boundaries": []})
    'join(pieces=[constant(base_lr=1e-05)], boundaries=[])'
    """
    try:
        return _compact(spec)
    except ValueError:
        return json.dumps(jsonable(spec))


def _compact(value: Any) -> str:
    if isinstance(value, dict):
        if not isinstance(value.get("family"), str):
            raise ValueError("a dict without a family has no compact form")
        args = ", ".join(f"{k}={_compact(v)}" for k, v in value.items() if k != "family")
        return f"{value['family']}({args})" if args else value["family"]
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "none"}[value]
    if isinstance(value, int | float | np.integer | np.floating):
        return repr(float(value)) if isinstance(value, float | np.floating) else str(int(value))
    if isinstance(value, str):
        # a bare word reads back as the same string unless it is one of the grammar's words
        bare = value.isidentifier() and value.lower() not in ("true", "false", "none", "null")
        return value if bare else json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_compact(v) for v in value) + "]"
    raise ValueError(f"{type(value).__name__} has no compact form")
