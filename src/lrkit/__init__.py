"""lrkit: find, shape and debug the learning rate.

The schedules and the calculator import only numpy; torch, optuna and the web stack are
imported inside the functions that need them, so ``import lrkit`` stays light even though
it binds ``Task``, ``load_task`` and ``auto`` directly.

>>> import lrkit
>>> lrkit.schedules.parse("constant(base_lr=0.1)")(0)
0.1
"""

from __future__ import annotations

from lrkit import errors, schedules

# `lrkit.auto(task)` is the function; the subpackage stays importable as `lrkit.auto.*`
# (importing it binds the module here first, and this import then rebinds the name).
from lrkit.auto import Recommendation, auto

# `lrkit.compare(task, schedules)` likewise; `lrkit.compare.*` modules stay importable
from lrkit.compare import CompareResult, compare
from lrkit.errors import ConfigError, DataError, LrkitError, MissingDependencyError, SpecError

# the live LR doctor for a loop of your own (numpy only; torch is imported under DDP only)
from lrkit.integrations.doctor import Doctor
from lrkit.tasks import Task, load_task

__version__ = "0.1.0"

__all__ = [
    "CompareResult",
    "ConfigError",
    "DataError",
    "Doctor",
    "LrkitError",
    "MissingDependencyError",
    "Recommendation",
    "SpecError",
    "Task",
    "__version__",
    "auto",
    "compare",
    "errors",
    "load_task",
    "schedules",
]

