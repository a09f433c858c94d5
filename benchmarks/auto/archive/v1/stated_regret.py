"""Does the regret ``lrkit auto`` states predict the regret its pick has? Paired check.

Runs ``lrkit.auto`` at budget 1 on every selection of ``calibrate.py`` (same tasks,
schedules and seeds, so the same LR) and compares its ``expected_regret`` with the
measured regret in ``calibrate.json`` (run ``calibrate.py`` first). Meant for older code
as well: ``git archive <commit> src | tar -x -C DIR`` and run this with
``PYTHONPATH=DIR/src`` to check what that code stated.

Usage: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/auto/stated_regret.py
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from replay import pairs  # noqa: E402

import lrkit  # noqa: E402


def main() -> None:
    print(f"lrkit from {Path(lrkit.__file__).parent}")
    measured = {(r["task"], r["shape"], r["seed"]): r for r in
                json.loads((HERE / "calibrate.json").read_text()) if r["budget"] == 1.0}
    stated, actual = [], []
    for pair in pairs():
        for (task, shape, seed), row in measured.items():
            if (task, shape) != (pair.name, pair.shape):
                continue
            rec = lrkit.auto(pair.task, budget=1.0, seed=seed)
            assert math.isclose(rec.lr, row["lr"], rel_tol=1e-9), "not the same pick"
            stated.append(rec.expected_regret)
            actual.append(row["regret"])
    s, a = np.array(stated), np.array(actual)
    if np.ptp(s) == 0:  # one number for every task: nothing to rank
        ranking = "one stated value for every selection"
    else:
        rho = spearmanr(s, a)
        ranking = f"Spearman rho {rho.statistic:+.2f} (p = {rho.pvalue:.2g})"
    print(f"{len(s)} selections: stated median {np.median(s):.3%}, 90th percentile "
          f"{np.percentile(s, 90):.1%}; measured median {np.median(a):.1%}, 90th "
          f"percentile {np.percentile(a, 90):.1%}; measured above stated in "
          f"{np.mean(a > s):.0%}; {ranking}")


if __name__ == "__main__":
    main()
