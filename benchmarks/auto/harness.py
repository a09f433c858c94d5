"""The auto benchmark's harness: run LR-selection methods on zoo pairs, cache, score.

Every method is a function ``(pair, seed) -> Selection`` built on lrkit's public API (the
shipped ``lrkit.auto`` with an on-disk run cache, ``lrkit.rangetest.find``, ...); no
method re-implements the pipeline. Selections are cached in ``cache/selections.jsonl``
keyed by (method, pair, seed, design fingerprint), so a study resumes where it stopped.

Scoring goes through the zoo harness (``benchmarks/zoo/harness.py``):

- ``exact``: ``zoo.score(pair, lr)``: the mean final validation loss over the zoo's 6
  scoring seeds at the picked LR, against L* (6 full runs per new LR);
- ``proxy``: the oracle's own grid curve (``selection``: 3 seeds around eta*, else the
  seed-0 ``screen``), interpolated linearly in log2(LR): no training. Its reference is the
  curve's minimum on the same seeds, so it reads a little high (conservative); it is what
  the dev split's knob fitting uses, and it is labelled wherever it is reported.

Tool seeds are ``zoo.TOOL_SEEDS`` (1000...): no method trains on a scoring seed.

>>> proxy_curve({"selection": {"0.1": 1.0, "0.2": 0.5}, "screen": {"0.4": 2.0}})
[(0.1, 1.0), (0.2, 0.5), (0.4, 2.0)]
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # benchmarks/: `zoo` is a namespace package

from zoo import harness as zoo  # noqa: E402

CACHE = HERE / "cache"
RUNS = CACHE / "runs.jsonl"
SELECTIONS = CACHE / "selections.jsonl"
zoo.set_writer("auto")
if os.environ.get("LRKIT_ZOO_ORACLE"):  # an oracle.json still being written elsewhere
    zoo.ORACLE_PATH = Path(os.environ["LRKIT_ZOO_ORACLE"])


@dataclasses.dataclass(frozen=True)
class Selection:
    """A method's answer on one (pair, seed).

    Attributes:
        lr: the peak LR it recommends (NaN for an LR-free optimizer or a refusal).
        cost_runs: its selection cost in runs of the pair (gradient work).
        seconds: wall-clock seconds of the selection (cached runs count their own time).
        info: method-specific notes (blocks used, refusal message, ...).
    """

    lr: float
    cost_runs: float
    seconds: float
    info: dict[str, Any] = dataclasses.field(default_factory=dict)


_selections: dict[str, dict[str, Any]] | None = None


def _load_selections() -> dict[str, dict[str, Any]]:
    global _selections
    if _selections is None:
        _selections = {}
        if SELECTIONS.exists():
            for line in SELECTIONS.read_text().splitlines():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue
                _selections[row["key"]] = row
    return _selections


def fingerprint(obj: Any) -> str:
    """A short hash of a JSON-able object (a design's knobs)."""
    return hashlib.sha1(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:10]


def select(method: str, fn: Callable[[str, int], Selection], pair: str, seed: int,
           tag: str = "") -> Selection:
    """``fn(pair, seed)``, from the selection cache when it ran before (same ``tag``)."""
    key = json.dumps([method, tag, pair, seed, zoo.version(pair)])
    table = _load_selections()
    if key in table:
        row = table[key]
        return Selection(row["lr"] if row["lr"] is not None else math.nan, row["cost_runs"],
                         row["seconds"], row.get("info", {}))
    started = time.perf_counter()
    sel = fn(pair, seed)
    seconds = sel.seconds or (time.perf_counter() - started)
    row = {"key": key, "method": method, "tag": tag, "pair": pair, "seed": seed,
           "lr": sel.lr if math.isfinite(sel.lr) else None, "cost_runs": sel.cost_runs,
           "seconds": round(seconds, 3), "info": sel.info}
    CACHE.mkdir(exist_ok=True)
    with SELECTIONS.open("a") as fh:
        fh.write(json.dumps(row) + "\n")
    table[key] = row
    return Selection(sel.lr, sel.cost_runs, seconds, sel.info)


def proxy_curve(oracle: dict[str, Any]) -> list[tuple[float, float]]:
    """(lr, loss) of the oracle's grid: the 3-seed selection mean, else the seed-0 screen."""
    points = {float(k): float(v) for k, v in oracle.get("screen", {}).items()}
    points.update({float(k): float(v) for k, v in oracle.get("selection", {}).items()})
    return sorted(points.items())


def proxy_regret(pair: str, lr: float) -> float:
    """Regret of ``lr`` read off the oracle's grid curve (no training; see the docstring).

    ``inf`` at or above the oracle's lowest diverging LR, or where the curve is non-finite;
    outside the grid the nearest end's value.
    """
    o = zoo.oracle(pair)
    if not (math.isfinite(lr) and lr > 0):
        return math.nan
    ceiling = o.get("ceiling_lr")
    if ceiling and lr >= float(ceiling):
        return math.inf
    curve = proxy_curve(o)
    xs = [math.log2(a) for a, _ in curve]
    ys = [b for _, b in curve]
    best = min((float(v) for v in o.get("selection", {}).values()), default=min(ys))
    x = math.log2(lr)
    if x <= xs[0]:
        y = ys[0]
    elif x >= xs[-1]:
        y = ys[-1]
    else:
        i = next(j for j in range(1, len(xs)) if xs[j] >= x)
        w = (x - xs[i - 1]) / (xs[i] - xs[i - 1])
        y = ys[i - 1] + w * (ys[i] - ys[i - 1]) if math.isfinite(ys[i - 1] + ys[i]) else \
            (ys[i - 1] if w < 0.5 else ys[i])
    return (y - float(best)) / float(o["scale"]) if math.isfinite(y) else math.inf


def exact(pair: str, lr: float) -> dict[str, Any]:
    """``zoo.score``: the picked LR trained on the 6 scoring seeds (cached)."""
    return zoo.score(pair, lr)


def octaves(pair: str, lr: float) -> float:
    """|log2(lr / eta*)|."""
    return abs(math.log2(lr / float(zoo.oracle(pair)["eta_star"]))) \
        if math.isfinite(lr) and lr > 0 else math.nan
