"""One or more lrkit schedules of every registered family, for the adapter tests.

Read from the families' ``interop_examples`` (name -> spec string, declared on each class),
so a new family brings its adapter samples with it; ``test_lowering`` fails for a family
that declares none.
"""

from __future__ import annotations

from lrkit.schedules import Schedule, families, parse

SAMPLES: dict[str, Schedule] = {
    name: parse(spec)
    for cls in families().values()
    for name, spec in cls.interop_examples.items()
}
