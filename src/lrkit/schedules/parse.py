"""Parse a schedule given as JSON or as a compact call string, without ``eval``.

The compact form is read with Python's ``ast`` module and only these nodes are accepted::

    spec   := family | family "(" [name "=" value ("," name "=" value)*] ")"
    value  := number | "-" number | "string" | word | "[" [value ("," value)*] "]" | spec

A ``word`` is a bare name: ``true``/``false``/``none``/``null`` (any case) become
True/False/None, any other word is a string (``mode=triangular2``). Every parameter is
named, and named once. A JSON object (text starting with ``{``) is the same spec.

>>> s = parse("cosine(peak_lr=0.1, total_steps=1000, warmup_steps=100)")
>>> s(100)
0.1
>>> parse('{"family": "constant", "base_lr": 0.01}')(7)
0.01
>>> j = parse("join(pieces=[constant(base_lr=1), linear(init_lr=1, total_steps=2)], "
...           "boundaries=[3])")
>>> j.values(6).tolist()
[1.0, 1.0, 1.0, 1.0, 0.5, 0.0]
"""

from __future__ import annotations

import ast
import json
import warnings
from typing import Any

from lrkit.errors import SpecError
from lrkit.schedules.base import Schedule
from lrkit.schedules.spec import from_spec

__all__ = ["parse", "parse_spec"]

_WORDS = {"true": True, "false": False, "none": None, "null": None}


def parse(text: str) -> Schedule:
    """Build a schedule from a JSON spec or a compact ``family(key=value, ...)`` string."""
    return from_spec(parse_spec(text))


def parse_spec(text: str) -> dict[str, Any]:
    """The JSON-style spec dict that ``text`` describes (not yet validated as a schedule).

    >>> parse_spec("cyclic(base_lr=1e-3, max_lr=0.1, mode=triangular2)")
    {'family': 'cyclic', 'base_lr': 0.001, 'max_lr': 0.1, 'mode': 'triangular2'}
    """
    if not isinstance(text, str):
        raise SpecError(f"schedule = {text!r}: must be a string; pass JSON or "
                        "'family(key=value, ...)', or call from_spec() with a dict")
    text = text.strip()
    if not text:
        raise SpecError("schedule = '': empty; pass e.g. 'cosine(peak_lr=0.1,total_steps=1000)'")
    if text.startswith("{"):
        try:
            spec = json.loads(text, object_pairs_hook=_unique_keys)
        except json.JSONDecodeError as err:
            raise SpecError(f"schedule = {_short(text)}: malformed JSON ({err.msg} at "
                            f"character {err.pos}); fix the JSON or use the compact form "
                            "'family(key=value, ...)'") from None
        except RecursionError:
            raise SpecError(f"schedule = {_short(text)}: JSON nested too deeply; "
                            "a schedule spec needs only a few levels") from None
        if not isinstance(spec, dict):
            raise SpecError(f"schedule = {_short(text)}: must be a JSON object")
        return spec
    try:
        with warnings.catch_warnings():  # e.g. "invalid decimal literal": we raise our own
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise SpecError(f"schedule = {_short(text)}: not a valid spec; write "
                        "'family(key=value, ...)', e.g. 'cosine(peak_lr=0.1,total_steps=1000)'"
                        ) from None
    if isinstance(tree, ast.Name):  # a bare family name with no parameters
        return {"family": tree.id}
    return _call(tree, text)


def _call(node: ast.expr, text: str) -> dict[str, Any]:
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        raise SpecError(f"schedule = {_short(text)}: expected 'family(key=value, ...)'; "
                        "check the brackets")
    family = node.func.id
    if node.args:
        raise SpecError(f"{family}: positional arguments are not allowed; "
                        "name every parameter, e.g. peak_lr=0.1")
    spec: dict[str, Any] = {"family": family}
    for kw in node.keywords:
        if kw.arg is None:
            raise SpecError(f"{family}: '**' is not allowed; name every parameter")
        if kw.arg in spec:  # Python's grammar lets a call repeat a keyword; a spec may not
            if kw.arg == "family":
                raise SpecError(f"{family}.family = {ast.unparse(kw.value)}: the family is "
                                "the name before the brackets; remove family=...")
            raise SpecError(f"{family}.{kw.arg} = {ast.unparse(kw.value)}: is given twice; "
                            "give each parameter once")
        spec[kw.arg] = _value(kw.value, f"{family}.{kw.arg}", text)
    return spec


def _value(node: ast.expr, where: str, text: str) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str | bool):
        return node.value
    if isinstance(node, ast.Constant) and node.value is None:
        return None
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd)
            and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, int | float)
            and not isinstance(node.operand.value, bool)):
        return -node.operand.value if isinstance(node.op, ast.USub) else node.operand.value
    if isinstance(node, ast.Name):
        return _WORDS.get(node.id.lower(), node.id)
    if isinstance(node, ast.List | ast.Tuple):
        return [_value(v, where, text) for v in node.elts]
    if isinstance(node, ast.Call):
        return _call(node, text)
    text_form = ast.unparse(node).replace(" ", "")
    raise SpecError(f"{where} = {ast.unparse(node)!r}: not a plain value; quote text "
                    f"(\"{text_form}\"), or use a number, a word, a [list] or a nested "
                    "family(...)")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise SpecError(f"{key} = {value!r}: is given twice in the JSON object; "
                            "give each parameter once")
        out[key] = value
    return out


def _short(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")
