"""Example instances of every registered schedule family, as compact spec strings.

Each family declares its own examples on the class (``examples = (...)``, next to
``lr_parameter``), so the table is read from the registry rather than written here: a
family registered without examples fails ``test_every_registered_family_has_an_example``.
"""

from __future__ import annotations

from lrkit.schedules import families

EXAMPLES: dict[str, list[str]] = {
    name: list(cls.examples) for name, cls in families().items() if cls.examples
}
"""family -> example specs (the family is the class the spec builds, e.g. linear -> polynomial)."""


def all_examples() -> list[str]:
    """Every example spec, in registry order."""
    return [spec for specs in EXAMPLES.values() for spec in specs]
