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
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from lrkit.rules.fields import FormField, input_fields

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
