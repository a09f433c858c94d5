"""One converter from lrkit's values to plain JSON: the CLI's ``--json``, the web API and
saved range tests all write through it, so numpy scalars, arrays and non-finite floats come
out the same everywhere.

>>> import numpy as np
>>> jsonable({"a": [1.0, float("nan")], "b": np.float64(2.5), "c": (np.int64(3),)})
{'a': [1.0, None], 'b': 2.5, 'c': [3]}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["jsonable"]


def jsonable(value: Any) -> Any:
    """``value`` with numpy types converted, tuples as lists, keys as strings, and NaN/Inf
    as None (JSON has neither; scripts get null).

    >>> jsonable(np.array([[1, 2]])), jsonable({1: float("inf")})
    ([[1, 2]], {'1': None})
    """
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value
