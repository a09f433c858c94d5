"""The calculator's web form and request model, both derived from ``lrkit.rules.CalcInput``.

``CalcInput``'s fields are the ``lrkit calc`` flags, so deriving the form and the JSON
request model from the same dataclass keeps the CLI, the API and the page in step: a new
flag appears everywhere (in the "More" group until it is placed), a removed one vanishes.

Values are not type-checked here: ``CalcInput.from_dict`` checks them and raises the same
one-line ``ConfigError`` the CLI prints, so the API answers with exactly that text.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import types
import typing
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

__all__ = ["GROUPS", "STARTER", "WEB_ONLY", "FormField", "form_groups", "input_fields",
           "request_model"]

# Presentation only: which fieldset each flag sits in. The first group is open.
GROUPS: dict[str, tuple[str, ...]] = {
    "Your run": ("model", "optimizer", "batch_size", "dataset_size", "steps_per_epoch",
                 "epochs", "total_steps", "fine_tune"),
    "Schedule": ("schedule", "warmup", "end_lr_ratio"),
    "A recipe you trust": ("base_lr", "base_batch_size", "scaling", "momentum", "beta1",
                           "beta2", "eps"),
    "Large language model (scaling laws)": ("scaling_law", "model_params", "tokens",
                                            "compute_flops", "n_layers", "d_model", "seq_len"),
    "More": ("layers", "layer_decay", "lipschitz", "loss_history"),
}

STARTER: dict[str, Any] = {"model": "cnn", "batch_size": 128, "dataset_size": 50_000,
                           "epochs": 30}
"""What the page shows first (a CIFAR-sized CNN run), so it opens on a full answer."""

WEB_ONLY: dict[str, str] = {"max_points": "the page always plots at most 2000 points"}
"""CalcInput fields the form leaves out, and why."""

MAX_POINTS = 2000


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
        return "--" + self.name.replace("_", "-")

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
    from lrkit.rules import DECAYS, LAWS, MODEL_KINDS, OPTIMIZERS, SCALING_RULES

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
    from lrkit.rules import CalcInput

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


def form_groups() -> list[dict[str, Any]]:
    """The form's fieldsets: ``[{"title", "open", "fields": [field dicts]}]``.

    Every CalcInput field except ``WEB_ONLY`` appears exactly once; a field no group
    names lands in the last group.
    """
    fields = {f.name: f for f in input_fields() if f.name not in WEB_ONLY}
    placed = {name for names in GROUPS.values() for name in names}
    out = []
    titles = list(GROUPS)
    for i, title in enumerate(titles):
        names = [n for n in GROUPS[title] if n in fields]
        if i == len(titles) - 1:
            names += [n for n in fields if n not in placed]
        out.append({"title": title, "open": i == 0,
                    "fields": [_as_dict(fields[n]) for n in names]})
    return out


def _as_dict(f: FormField) -> dict[str, Any]:
    return {**dataclasses.asdict(f), "flag": f.flag, "label": f.label,
            "value": STARTER.get(f.name, f.default)}


_SCHEMA_TYPES = {"int": "integer", "float": "number", "bool": "boolean", "text": "string",
                 "choice": "string"}


def _schema(f: FormField) -> dict[str, Any]:
    if f.kind == "pairs":
        schema: dict[str, Any] = {"type": "array", "items": {
            "anyOf": [{"type": "number"}, {"type": "array", "items": {"type": "number"},
                                           "minItems": 2, "maxItems": 2}]}}
    else:
        schema = {"type": _SCHEMA_TYPES[f.kind]}
        if f.name == "warmup":
            schema = {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    if f.options:
        schema["enum"] = list(f.options)
    return {"anyOf": [schema, {"type": "null"}]} if f.optional else schema


@functools.cache
def request_model() -> type[BaseModel]:
    """The pydantic model of the ``/api/calc`` body: CalcInput's fields, documented.

    It only documents (OpenAPI) and passes the values on; ``CalcInput.from_dict`` checks
    them, unknown names included, with the CLI's messages.
    """
    fields: dict[str, Any] = {}
    for f in input_fields():
        where = f"CLI: {f.flag}" if f.name not in WEB_ONLY else f"at most {MAX_POINTS} here"
        fields[f.name] = (Any, Field(f.default, description=f"{f.help} ({where})",
                                     json_schema_extra=_schema(f)))
    return create_model("CalcRequest", __config__=ConfigDict(extra="allow"), **fields)
