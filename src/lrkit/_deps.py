"""Lazy imports of optional dependencies, failing with the exact install line.

>>> np = require("numpy", extra="core")
>>> require("nopkg_xyz", extra="web")
Traceback (most recent call last):
...
lrkit.errors.MissingDependencyError: nopkg_xyz is not installed; run: pip install 'lrkit[web]'
"""

from __future__ import annotations

import importlib
from types import ModuleType

from lrkit.errors import MissingDependencyError

__all__ = ["require"]


def require(module: str, *, extra: str) -> ModuleType:
    """Import ``module`` or raise MissingDependencyError naming the lrkit extra that provides it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        top = module.split(".")[0]
        if err.name is not None and err.name.split(".")[0] != top:
            raise  # the module exists but one of *its* imports is broken: show the real cause
        raise MissingDependencyError(
            f"{top} is not installed; run: pip install 'lrkit[{extra}]'"
        ) from None
