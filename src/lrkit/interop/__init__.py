"""Interoperability with PyTorch, Keras, optax and Hugging Face schedules.

``from_torch`` / ``from_keras`` / ``from_optax`` / ``from_hf`` read a library's scheduler
configuration (its own names and defaults) and return the lrkit schedule with the same
rate at every update, the library's quirks included (see ``docs/interop.md``). They need
no import of those libraries. ``to_torch`` / ``to_keras`` / ``to_optax`` go the other way:
they run an lrkit schedule inside the library, importing it on first use. ``snippet``
prints code that rebuilds a schedule in a library, natively where it can.

>>> from lrkit.interop import from_keras, from_torch
>>> from_torch("MultiStepLR", 1.0, milestones=[3], gamma=0.5).values(5).tolist()
[1.0, 1.0, 1.0, 0.5, 0.5]
>>> from_keras("PiecewiseConstantDecay", boundaries=[3], values=[1.0, 0.5]).values(5).tolist()
[1.0, 1.0, 1.0, 1.0, 0.5]
"""

from lrkit.interop.hf_config import from_hf
from lrkit.interop.keras_adapter import to_keras
from lrkit.interop.keras_config import from_keras
from lrkit.interop.library import from_library
from lrkit.interop.optax_adapter import to_optax
from lrkit.interop.optax_config import from_optax
from lrkit.interop.snippet import snippet
from lrkit.interop.torch_adapter import to_torch
from lrkit.interop.torch_config import from_torch

__all__ = [
    "from_hf",
    "from_keras",
    "from_library",
    "from_optax",
    "from_torch",
    "snippet",
    "to_keras",
    "to_optax",
    "to_torch",
]
