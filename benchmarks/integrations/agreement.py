"""The Lightning integration's suggestion against ``lrkit find`` on the same model and data.

For each built-in task and batch-order seed, three range tests on the task's model and
data with the same sweep (1e-7 -> 10, 100 updates, auto-extension):

* ``lrkit find`` (``lrkit.rangetest.find(task, seed=s)``): lrkit's own torch loop;
* ``lrkit.integrations.lightning.find``: the same model wrapped in a LightningModule,
  trained by Lightning's fit loop, batches from a DataLoader shuffled with seed ``s``;
* Lightning's own ``Tuner(trainer).lr_find`` on the same module and loader (its default
  sweep 1e-8 -> 1, 100 updates, and its steepest-descent suggestion), for reference.

The noise of a sweep is the spread of ``lrkit find`` over batch orders; the agreement is
the per-seed distance between the two lrkit paths in decades. Results are cached in
``agreement.json`` (delete it to re-run). Run:

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/integrations/agreement.py
"""

from __future__ import annotations

import json
import logging
import math
import statistics
import sys
import warnings
from pathlib import Path

import torch
from torch.utils.data import DataLoader

OUT = Path(__file__).with_name("agreement.json")
TASKS = ("digits-mlp", "breast-cancer-logreg", "diabetes-mlp")
SEEDS = (0, 1, 2, 3, 4)


def module_for(task, lr: float = 1e-3):
    import lightning.pytorch as L

    class Wrapped(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.lr = lr
            self.net = task.model()

        def training_step(self, batch, batch_idx):
            x, y = batch
            return task.loss_fn(self.net(x), y)

        def configure_optimizers(self):
            return task.optimizer(self.parameters(), self.lr)

    return Wrapped()


def trainer():
    import lightning.pytorch as L

    return L.Trainer(max_epochs=1000, logger=False, enable_checkpointing=False,
                     enable_progress_bar=False, enable_model_summary=False)


def one(name: str, seed: int) -> dict[str, float]:
    import lrkit.integrations.lightning as lrl
    from lrkit.rangetest import find
    from lrkit.tasks import load_task, seeded_rng

    task = load_task(name)
    ours = find(task, seed=seed)

    def loader():
        g = torch.Generator().manual_seed(seed)
        return DataLoader(task.train_data, batch_size=task.batch_size, shuffle=True,
                          generator=g, drop_last=True)

    with seeded_rng(seed):
        module = module_for(task)
    via_lightning = lrl.find(trainer(), module, train_dataloaders=loader())
    from lightning.pytorch.tuner import Tuner

    with seeded_rng(seed):
        module = module_for(task)
    tr = trainer()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        finder = Tuner(tr).lr_find(module, train_dataloaders=loader(), update_attr=False)
    tuner = finder.suggestion() if finder is not None else math.nan
    return {"find": ours.suggestion, "lightning": via_lightning.suggestion,
            "tuner": float(tuner) if tuner else math.nan,
            "find_conf": ours.confidence, "lightning_conf": via_lightning.confidence}


def main() -> None:
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    torch.set_num_threads(1)
    results = json.loads(OUT.read_text()) if OUT.exists() else {}
    for name in TASKS:
        for seed in SEEDS:
            key = f"{name}/{seed}"
            if key not in results:
                results[key] = one(name, seed)
                OUT.write_text(json.dumps(results, indent=1))
                print(key, results[key], file=sys.stderr)
    print("| task | lrkit find (median over seeds) | Lightning integration | "
          "median |log10 ratio| per seed | find's own spread (max-min, decades) | "
          "Tuner.lr_find (median) |")
    print("|---|---|---|---|---|---|")
    for name in TASKS:
        rows = [results[f"{name}/{s}"] for s in SEEDS]
        f = [r["find"] for r in rows]
        li = [r["lightning"] for r in rows]
        tu = [r["tuner"] for r in rows if math.isfinite(r["tuner"])]
        dist = [abs(math.log10(a / b)) for a, b in zip(f, li, strict=True)]
        spread = math.log10(max(f)) - math.log10(min(f))
        print(f"| {name} | {statistics.median(f):.3g} | {statistics.median(li):.3g} | "
              f"{statistics.median(dist):.2f} | {spread:.2f} | "
              f"{statistics.median(tu) if tu else math.nan:.3g} |")


if __name__ == "__main__":
    main()
