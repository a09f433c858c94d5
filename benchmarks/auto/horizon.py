"""How the best LR moves with the length of a compressed run, measured on zoo pairs.

For each pair: a half-octave grid of peak LRs around the oracle's eta* (eta*/8 .. 4 eta*,
on the global grid 2**(k/2)), trained with the pair's schedule compressed to a fraction
f of its updates (f = 1/8, 1/4, 1/2, 1) on tool seeds. Prints, per pair and fraction, the
best grid LR relative to eta* (octaves), and where runs went unstable, so a design can
be judged on what a search run of a given length can and cannot see. Runs go through
auto's run cache (``cache/runs.jsonl``), so auto's own search runs at the same LR, seed
and length are shared.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/auto/horizon.py --split dev --seeds 2
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import HERE, zoo
from methods import run_cache

from lrkit.auto import Runner
from lrkit.tasks.zoo import SPLITS, zoo_pairs

FRACTIONS = (0.25, 0.5, 1.0, 0.125)


def grid(eta: float, low: int = -6, high: int = 4) -> list[float]:
    """2**(k/2) for k around 2*log2(eta)."""
    k0 = round(2 * math.log2(eta))
    return [2.0 ** ((k0 + k) / 2) for k in range(low, high + 1)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=SPLITS, default="dev")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--pairs", default="")
    ap.add_argument("--fractions", default=",".join(map(str, FRACTIONS)))
    ap.add_argument("--out", default=str(HERE / "cache" / "horizon.json"))
    args = ap.parse_args(argv)
    pairs = [p.name for p in zoo_pairs(args.split)]
    if args.pairs:
        pairs = [p for p in pairs if p in args.pairs.split(",")]
    fractions = [float(f) for f in args.fractions.split(",")]
    runner = Runner(cache=run_cache())
    seeds = list(zoo.TOOL_SEEDS[: args.seeds])
    out: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    for f in fractions:
        for pair in pairs:
            task = zoo.task(pair)
            eta = float(zoo.oracle(pair)["eta_star"])
            steps = max(4, round(f * task.total_steps))
            rows = out.setdefault(pair, {"eta_star": eta, "total_steps": task.total_steps,
                                         "runs": []})
            for seed in seeds:
                for lr in grid(eta):
                    r = runner.train(task, lr, seed, steps)
                    loss = r.final_val_loss if math.isfinite(r.final_val_loss) else None
                    rows["runs"].append({"f": f, "steps": steps, "seed": seed, "lr": lr,
                                         "loss": loss, "val": [v if math.isfinite(v) else None
                                                               for v in r.val_losses]})
            print(f"[{time.perf_counter() - started:6.0f}s] f={f} {pair}", file=sys.stderr,
                  flush=True)
        Path(args.out).write_text(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
