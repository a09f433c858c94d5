"""``python -m lrkit.tasks.zoo [SPLIT]``: one line per pair (name, split, description)."""

from __future__ import annotations

import sys

from lrkit.errors import ConfigError
from lrkit.tasks.zoo import zoo_pairs


def main(argv: list[str]) -> int:
    """Print one line per pair of the split named in ``argv`` (all pairs without one)."""
    try:
        pairs = zoo_pairs(argv[0] if argv else None)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for p in pairs:
        print(f"{p.name:34s} {p.split:7s}  {p.description}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
