"""Layer-wise (discriminative) learning rates as ``torch.optim`` parameter groups.

Layer ``l`` of ``L`` (counted from the input, ``l = L`` is the head) gets
``lr_l = base_lr * decay ** (L - l)``: the head trains at ``base_lr`` and each layer
below it ``decay`` times slower (ULMFiT's discriminative fine-tuning; BEiT / ELECTRA
"layer-wise LR decay"). Within each layer, biases and normalisation parameters go to a
group with ``weight_decay = 0``.

**What a layer is.** Given a ``torch.nn.Module``: each module that directly owns trainable
parameters, in registration order (``model.named_modules()``), or, with ``layers``, the
parameters under each listed name prefix. Given only an iterable of parameters (what a
:class:`lrkit.Task` optimizer factory receives): a new layer starts at every parameter
with two or more dimensions and 1-D parameters (biases, norm scales) join the layer
before them. The groups carry ``"name"`` and ``"layer"`` keys for reports.

**Ratios are the contract.** Schedules (``lrkit.interop.to_torch``, ``lrkit.tasks.train``)
and the range test scale every group by the same factor, so the groups' ratios
``decay ** (L - l)`` survive while the overall LR follows the schedule or the sweep.

>>> import torch
>>> model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.LayerNorm(8),
...                             torch.nn.Linear(8, 2))
>>> groups = param_groups(model, base_lr=0.1, decay=0.5, weight_decay=0.01)
>>> for g in groups:
...     print(g["name"], g["lr"], g["weight_decay"], len(g["params"]))
0 0.025 0.01 1
0/no_decay 0.025 0.0 1
1/no_decay 0.05 0.0 2
2 0.1 0.01 1
2/no_decay 0.1 0.0 1
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lrkit._check import INPUT as check
from lrkit._deps import require
from lrkit.errors import ConfigError

torch = require("torch", extra="torch")

__all__ = ["NORM_TYPES", "param_groups"]

#: Module types whose parameters are never weight-decayed (scales and shifts of a norm).
NORM_TYPES: tuple[type, ...] = (
    torch.nn.modules.batchnorm._NormBase, torch.nn.LayerNorm, torch.nn.GroupNorm,
    torch.nn.LocalResponseNorm, *((torch.nn.RMSNorm,) if hasattr(torch.nn, "RMSNorm") else ()),
)


def _as_prefixes(value: str | Sequence[str] | None, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = (value,) if isinstance(value, str) else tuple(value)
    if not items or not all(isinstance(v, str) and v for v in items):
        raise ConfigError(f"{what} = {value!r}: must be a non-empty name prefix or list of "
                          "them; pass e.g. 'classifier'")
    return items


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


Layer = tuple[str, list[tuple[Any, bool, str]]]  # (name, [(param, no_decay, param name)])


def _layers_of_module(model: Any, layers: tuple[str, ...]) -> list[Layer]:
    """The layers of a module in depth order."""
    owner_is_norm = {}
    ordered: list[tuple[str, Any]] = []
    for mod_name, module in model.named_modules():
        for p_name, p in module.named_parameters(recurse=False):
            if p.requires_grad:
                full = f"{mod_name}.{p_name}" if mod_name else p_name
                ordered.append((full, p))
                owner_is_norm[full] = isinstance(module, NORM_TYPES)
    out: dict[str, list[tuple[Any, bool, str]]] = {}
    seen: set[int] = set()
    for full, p in ordered:
        if id(p) in seen:
            continue  # a shared (tied) parameter belongs to the first layer that owns it
        seen.add(id(p))
        if layers:
            matches = [pre for pre in layers if _under(full, pre)]
            if not matches:
                raise ConfigError(f"layers: parameter {full!r} is under none of the prefixes "
                                  f"{list(layers)}; add a prefix that covers it")
            key = max(matches, key=len)
        else:
            key = full.rpartition(".")[0] or "(root)"
        no_decay = owner_is_norm[full] or full.rpartition(".")[2] == "bias" or p.ndim < 2
        out.setdefault(key, []).append((p, no_decay, full))
    if layers:  # the user's order is the depth order
        return [(pre, out[pre]) for pre in layers if pre in out]
    return list(out.items())


def _layers_of_params(params: list[Any]) -> list[Layer]:
    out: list[Layer] = []
    for i, p in enumerate(params):
        if p.ndim >= 2 or not out:
            out.append((f"layer{len(out)}", []))
        out[-1][1].append((p, p.ndim < 2, f"param{i}"))
    return out


def param_groups(model: Any, base_lr: float, decay: float = 0.9, *,
                 head: str | Sequence[str] | None = None, head_lr_mult: float = 1.0,
                 weight_decay: float | None = None,
                 layers: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Parameter groups with ``lr_l = base_lr * decay ** (L - l)`` by depth.

    Args:
        model: a ``torch.nn.Module`` or an iterable of parameters (see the module docs).
            Parameters with ``requires_grad=False`` are left out.
        base_lr: the head's LR (before ``head_lr_mult``).
        decay: ``gamma`` in ``(0, 1]``; 1 gives every layer ``base_lr``.
        head: name prefix(es) of the head: all its parameters form the top layer ``L``
            and the backbone's layers are numbered below it. Default: the last layer is
            the head. Needs a Module.
        head_lr_mult: the head's LR is ``base_lr * head_lr_mult`` (e.g. 10 for a freshly
            initialised classifier on a pretrained backbone); the backbone is unchanged.
        weight_decay: set on the decayed groups (None: leave it to the optimizer's
            default). Biases, 1-D parameters and normalisation parameters always get 0.
        layers: ordered name prefixes defining the layers (input first), e.g.
            ``["embed", "blocks.0", "blocks.1", "head"]``. Needs a Module.

    Returns:
        A list of group dicts (``params``, ``lr``, ``weight_decay`` where set, ``name``,
        ``layer``), input side first; pass it to any ``torch.optim`` optimizer.

    Raises:
        ConfigError: bad ``base_lr``/``decay``/``head_lr_mult``, ``head``/``layers`` given
            with bare parameters, a prefix that matches nothing, or no trainable parameter.
    """
    check.learning_rate("base_lr", base_lr)
    check.fraction("decay", decay, low_open=True, example="0.9")
    check.positive("head_lr_mult", head_lr_mult, example="1.0")
    if weight_decay is not None:
        check.non_negative("weight_decay", weight_decay)
    heads = _as_prefixes(head, "head")
    prefixes = _as_prefixes(layers, "layers")
    if isinstance(model, torch.nn.Module):
        found = _layers_of_module(model, prefixes)
    else:
        if heads or prefixes:
            raise ConfigError("head/layers: name prefixes need the model itself; pass the "
                              "torch.nn.Module instead of its parameters")
        found = _layers_of_params([p for p in model if p.requires_grad])
    if not found:
        raise ConfigError("model: has no trainable parameters; unfreeze some or pass the "
                          "right model")
    if heads:
        found = _split_head(found, heads)
    groups: list[dict[str, Any]] = []
    depth = len(found)
    for index, (name, members) in enumerate(found):
        lr = base_lr * decay ** (depth - 1 - index)
        if index == depth - 1:
            lr *= head_lr_mult
        for no_decay in (False, True):
            params = [p for p, nd, _ in members if nd == no_decay]
            if not params:
                continue
            group: dict[str, Any] = {"params": params, "lr": lr, "layer": index,
                                     "name": f"{name}/no_decay" if no_decay else name}
            if no_decay:
                group["weight_decay"] = 0.0
            elif weight_decay is not None:
                group["weight_decay"] = float(weight_decay)
            groups.append(group)
    return groups


def _split_head(found: list[Layer], heads: tuple[str, ...]) -> list[Layer]:
    backbone, head_members = [], []
    matched: set[str] = set()
    for name, members in found:
        in_head = [m for m in members if any(_under(m[2], h) for h in heads)]
        matched.update(h for h in heads for m in in_head if _under(m[2], h))
        head_ids = {id(m[0]) for m in in_head}
        rest = [m for m in members if id(m[0]) not in head_ids]
        head_members.extend(in_head)
        if rest:
            backbone.append((name, rest))
    missing = [h for h in heads if h not in matched]
    if missing:
        raise ConfigError(f"head = {missing[0]!r}: matches no trainable parameter; use a module "
                          "name from model.named_modules(), e.g. 'classifier'")
    return [*backbone, ("head", head_members)]
