"""``from_library``: one entry point for the four ``from_*`` conversions (used by the CLI).

``lrkit schedule --from torch:OneCycleLR lr=0.1 max_lr=0.1 total_steps=1000`` calls
``from_library("torch", "OneCycleLR", {"lr": 0.1, "max_lr": 0.1, "total_steps": 1000})``.

>>> from_library("hf", "cosine", {"lr": 1.0, "num_warmup_steps": 0,
...                               "num_training_steps": 4}).values(3).tolist()
[1.0, 0.8535533905932737, 0.5]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from lrkit.errors import ConfigError
from lrkit.interop._params import lookup
from lrkit.interop.hf_config import from_hf
from lrkit.interop.keras_config import from_keras
from lrkit.interop.optax_config import from_optax
from lrkit.interop.torch_config import from_torch
from lrkit.schedules import Schedule

__all__ = ["FRAMEWORKS", "from_library"]


def _torch(name: str, params: dict[str, Any]) -> Any:
    return from_torch(name, params.pop("lr", None), **params)


def _hf(name: str, params: dict[str, Any]) -> Any:
    if "lr" not in params:
        raise ConfigError(f"hf:{name}.lr: missing; add lr=<the optimizer's learning rate>")
    return from_hf(name, params.pop("lr"), params.pop("num_warmup_steps", None),
                   params.pop("num_training_steps", None), **params)


FRAMEWORKS: dict[str, Callable[[str, dict[str, Any]], Any]] = {
    "hf": _hf,
    "keras": lambda name, params: from_keras(name, **params),
    "optax": lambda name, params: from_optax(name, **params),
    "torch": _torch,
}
_ALIASES = {"pytorch": "torch", "transformers": "hf", "huggingface": "hf", "jax": "optax"}


def from_library(framework: str, name: str, params: Mapping[str, Any]) -> Schedule:
    """Convert library ``framework``'s schedule ``name`` built with keyword ``params``.

    Args:
        framework: ``torch``, ``keras``, ``optax`` or ``hf``.
        name: the class, function or ``get_scheduler`` name in that library.
        params: its keyword arguments; ``torch`` and ``hf`` also take ``lr`` (the
            optimizer's learning rate), and ``hf`` takes ``num_warmup_steps`` and
            ``num_training_steps``.

    Raises:
        ConfigError: an unknown framework, name or parameter (each with a close-match
            hint), or a ReduceLROnPlateau, which follows a metric and has no values per step.
    """
    key = lookup("framework", framework, FRAMEWORKS, _ALIASES)
    out = FRAMEWORKS[key](name, dict(params))
    if not isinstance(out, Schedule):
        raise ConfigError(f"{key}:{name}: follows a validation metric, so it has no rate per "
                          "step to show; use lrkit.interop.from_"
                          f"{key}(...) and ReduceOnPlateau.simulate(metrics) in Python")
    return out
