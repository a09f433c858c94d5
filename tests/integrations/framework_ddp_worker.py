"""Run under torchrun (gloo, CPU, 2 processes) by test_ddp.py: Lightning's strategy="ddp"
and a torchrun-launched Hugging Face Trainer, each with lrkit's find, then a real fit.

Each rank writes ``<out>/frameworks<r>.json``: both sweeps' curves, whether the module /
model came back bit-identical, and the steps the real runs took afterwards.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch
from ddp_exit import finish

sys.path.insert(0, str(Path(__file__).parent))


def main(out: str) -> None:
    import lightning.pytorch as L
    from test_lightning_integration import Net, data
    from test_transformers_integration import make_trainer
    from torch.utils.data import DataLoader

    import lrkit.integrations.lightning as lrl
    import lrkit.integrations.transformers as lrh
    from lrkit.rangetest import checksum

    torch.set_num_threads(1)
    rank = int(os.environ["RANK"])
    torch.manual_seed(0)
    module = Net()
    tr = L.Trainer(accelerator="cpu", devices=2, strategy="ddp", max_epochs=1, logger=False,
                   enable_checkpointing=False, enable_progress_bar=False,
                   enable_model_summary=False)
    before = checksum(module)
    pl = lrl.find(tr, module, train_dataloaders=DataLoader(data(), batch_size=16),
                  start_lr=1e-4, end_lr=1.0, steps=20)
    pl_restored = checksum(module) == before
    tr.fit(module, train_dataloaders=DataLoader(data(), batch_size=16))

    hf_trainer = make_trainer(Path(out) / f"hf{rank}")
    before = checksum(hf_trainer.model)
    hf = lrh.find(hf_trainer, start_lr=1e-5, end_lr=1.0, steps=20)
    hf_restored = checksum(hf_trainer.model) == before
    hf_trainer.train()
    Path(out, f"frameworks{rank}.json").write_text(json.dumps({
        "pl": pl.losses, "pl_restored": pl_restored, "pl_steps": tr.global_step,
        "hf": hf.losses, "hf_restored": hf_restored, "hf_steps": hf_trainer.state.global_step,
        "hf_world": hf_trainer.args.world_size}))
    # inside main: its DDP objects must never be freed (see ddp_exit.py)
    finish()


if __name__ == "__main__":
    main(sys.argv[1])
