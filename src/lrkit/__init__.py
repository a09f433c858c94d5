"""lrkit: find, shape and debug the learning rate.

The schedules and the calculator import only numpy; everything that needs torch, optuna
or a web stack is imported when first used (``lrkit.Task``, ``lrkit.auto``, ...).

>>> import lrkit
>>> lrkit.schedules.parse("constant(base_lr=0.1)")(0)
0.1
"""

from __future__ import annotations

import importlib
from typing import Any

from lrkit import errors, schedules

# `lrkit.auto(task)` is the function; the subpackage stays importable as `lrkit.auto.*`
# (importing it binds the module here first, and this import then rebinds the name).
from lrkit.auto import Recommendation, auto
from lrkit.errors import ConfigError, DataError, LrkitError, MissingDependencyError, SpecError

__version__ = "0.1.0"

# name -> module that defines it; imported on first access so `import lrkit` stays light
_LAZY = {
    "Task": "lrkit.tasks",
    "load_task": "lrkit.tasks",
}

__all__ = [
    "ConfigError",
    "DataError",
    "LrkitError",
    "MissingDependencyError",
    "Recommendation",
    "SpecError",
    "Task",
    "__version__",
    "auto",
    "errors",
    "load_task",
    "schedules",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lrkit' has no attribute {name!r}")
