"""Write benchmarks/zoo/split.json: the zoo's dev/test split as data (run after editing the zoo).

The split itself lives in code (``lrkit.tasks.zoo.FAMILY_SPLIT``); this file records it in
the repository for scripts in other languages and for review, and
tests/tasks/test_zoo.py fails when the two disagree.

    .venv/bin/python benchmarks/zoo/split.py
"""

from __future__ import annotations

import json
from pathlib import Path

from lrkit.tasks.zoo import FAMILY_SPLIT, SPLITS, zoo_pairs

PATH = Path(__file__).with_name("split.json")


def record() -> dict[str, object]:
    """The split as a JSON-able dict: how it was chosen, family -> split, pairs per split."""
    return {
        "how": "by family (one model on one data set), assigned by hand before any pair was "
               "run: families grouped by kind and each kind dealt out to both halves; "
               "holdout families added 2026-12-05, once the test half had been read, and "
               "holdout2 ones once holdout had been read, holdout3 after holdout2, "
               "holdout4 after holdout3, holdout5 after holdout4, holdout6 after holdout5, "
               "holdout7 after holdout6, holdout8 after holdout7, holdout9 after holdout8, "
               "holdout10 after holdout9, holdout11 after holdout10, holdout12 after "
               "holdout11; see lrkit.tasks.zoo's docstring",
        "families": {f: s for f, (s, _) in sorted(FAMILY_SPLIT.items())},
        "dev": [p.name for p in zoo_pairs("dev")],
        "test": [p.name for p in zoo_pairs("test")],
        **{split: [p.name for p in zoo_pairs(split)] for split in SPLITS[2:]},
    }


if __name__ == "__main__":
    PATH.write_text(json.dumps(record(), indent=1) + "\n")
    print(f"wrote {PATH}")
