"""The calculator's inputs, described once for every surface that asks for them.

``CalcInput``'s fields are the inputs; ``input_fields()`` reads each one's kind, default,
allowed names and help (from ``CalcInput``'s docstring) so that ``lrkit calc`` builds its
flags, and the web app its form and ``/api/calc`` model, from the same description: a new
field appears everywhere, a removed one vanishes.

>>> [f.flag for f in input_fields()][:3]
['--optimizer', '--model', '--model-params']
>>> next(f for f in input_fields() if f.name == "batch_size").kind
'int'
"""

from __future__ import annotations

import dataclasses
import functools
import re
import types
import typing
from typing import Any, Literal

from lrkit.errors import spell
from lrkit.rules.inputs import CalcInput
from lrkit.rules.laws import LAWS
from lrkit.rules.optimizers import MODEL_KINDS, OPTIMIZERS
from lrkit.rules.scaling import SCALING_RULES
from lrkit.rules.schedule import DECAYS

__all__ = ["FormField", "input_fields"]


@dataclasses.dataclass(frozen=True)
class FormField:
    """One calculator input as the form shows it.

    Attributes:
        name: the CalcInput field (``batch_size``); the CLI flag is ``--batch-size``.
        kind: ``int``, ``float``, ``choice``, ``bool``, ``text`` or ``pairs`` (a loss history).
        default: CalcInput's default (None: not given).
        options: the allowed values of a ``choice``.
        optional: whether "not given" is allowed.
        help: the flag's description from CalcInput's docstring.
    """

    name: str
    kind: str
    default: Any
    options: tuple[str, ...]
    optional: bool
    help: str

    @property
    def flag(self) -> str:
        """The ``lrkit calc`` flag of this field."""
        return spell(self.name, "cli")

    @property
    def label(self) -> str:
        """A readable label: ``batch_size`` -> ``Batch size``, ``base_lr`` -> ``Base LR``.

        >>> FormField("end_lr_ratio", "float", None, (), True, "").label
        'End LR ratio'
        """
        text = re.sub(r"\blr\b", "LR", self.name.replace("_", " "))
        return text[:1].upper() + text[1:]


def _choices() -> dict[str, tuple[str, ...]]:
    """The names CalcInput accepts for its name-valued fields (its own registries)."""
    return {"optimizer": ("auto", *OPTIMIZERS), "model": tuple(MODEL_KINDS),
            "scaling": ("auto", *SCALING_RULES), "schedule": ("auto", *DECAYS),
            "scaling_law": tuple(LAWS)}


def _kind(hint: Any) -> tuple[str, bool]:
    """(kind, optional) of a resolved type hint."""
    optional = False
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        optional = type(None) in args
        rest = [a for a in args if a is not type(None)]
        if len(rest) > 1:
            kinds = {_kind(a)[0] for a in rest}
            return ("float" if kinds <= {"int", "float"} else "text"), optional
        hint = rest[0]
    if typing.get_origin(hint) is Literal:
        return "choice", optional
    for py, kind in ((bool, "bool"), (int, "int"), (float, "float"), (str, "text")):
        if hint is py:
            return kind, optional
    return "text", optional


def _docstring_help(cls: type) -> dict[str, str]:
    """``name: text`` entries of the class docstring's ``Attributes:`` section.

    A shared entry (``beta1, beta2, eps: ...``) documents each of its names.
    """
    doc = (cls.__doc__ or "").split("Attributes:", 1)
    out: dict[str, str] = {}
    names: list[str] = []
    for line in (doc[1] if len(doc) > 1 else "").splitlines():
        m = re.match(r"^ {4,8}(\w+(?:, \w+)*):\s*(.*)$", line)
        if m:
            names = m.group(1).split(", ")
            for n in names:
                out[n] = m.group(2).strip()
        elif names and line.strip() and line.startswith(" " * 8):
            for n in names:
                out[n] += " " + line.strip()
        elif not line.strip():
            names = []
    return {k: v.replace("``", "") for k, v in out.items()}


@functools.cache
def input_fields() -> tuple[FormField, ...]:
    """The calculator inputs, in ``CalcInput`` field order."""
    hints = typing.get_type_hints(CalcInput)
    docs = _docstring_help(CalcInput)
    choices = _choices()
    out = []
    for f in dataclasses.fields(CalcInput):
        if not f.init or f.name.startswith("_"):
            continue
        kind, optional = _kind(hints[f.name])
        options: tuple[str, ...] = ()
        if f.name in choices:
            kind, options = "choice", choices[f.name]
        elif typing.get_origin(hints[f.name]) is Literal:
            options = tuple(str(a) for a in typing.get_args(hints[f.name]))
        if f.name == "loss_history":
            kind = "pairs"
        default = f.default if f.default is not dataclasses.MISSING else None
        out.append(FormField(f.name, kind, default, options, optional or default is None,
                             docs.get(f.name, "")))
    return tuple(out)
