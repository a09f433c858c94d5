"""lrkit: find, shape and debug the learning rate.

>>> import lrkit
>>> lrkit.schedules.parse("constant(base_lr=0.1)")(0)
0.1
"""

from lrkit import errors, schedules
from lrkit.errors import ConfigError, DataError, LrkitError, MissingDependencyError, SpecError

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DataError",
    "LrkitError",
    "MissingDependencyError",
    "SpecError",
    "__version__",
    "errors",
    "schedules",
]
