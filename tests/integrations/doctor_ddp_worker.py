"""Run under torchrun (gloo, CPU, 2 processes) by test_ddp.py: the doctor callbacks inside
Lightning's strategy="ddp" (mode "stop") and a torchrun-launched HF Trainer (mode "act"),
each at an LR far too high.

Each rank writes ``<out>/doctor<r>.json``: its own raw losses, the losses the doctor
diagnosed, the findings, where training stopped, the LR it ended with, how many warnings
it logged, and a checksum of its final weights (DDP keeps them equal only if every rank
made the same LR changes).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import torch
from ddp_exit import finish

sys.path.insert(0, str(Path(__file__).parent))


def weights(model: torch.nn.Module) -> str:
    """A digest of the parameters alone (lrkit's checksum also covers the RNG states,
    which differ between ranks)."""
    import hashlib

    h = hashlib.sha256()
    for p in model.parameters():
        h.update(p.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


class _Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def lightning_run(rank: int) -> dict:
    import lightning.pytorch as L
    from test_lightning_integration import Net, data
    from torch.utils.data import DataLoader

    import lrkit.integrations.lightning as lrl

    class Raw(L.Callback):
        """This rank's own loss of each batch (before any averaging)."""

        def __init__(self) -> None:
            self.values: list[float] = []

        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
            self.values.append(float(outputs["loss"]))

    torch.manual_seed(0)
    raw = Raw()
    # overhead 0.5: a check every few updates on this tiny model (the default 0.5% budget
    # would check once in the whole run); under DDP the ranks agree on when to check
    doctor = lrl.LRDoctor(mode="stop", min_points=20, overhead=0.5)
    module = Net(lr=3.0)
    tr = L.Trainer(accelerator="cpu", devices=2, strategy="ddp", max_epochs=30,
                   logger=False, enable_checkpointing=False, enable_progress_bar=False,
                   enable_model_summary=False, callbacks=[raw, doctor])
    tr.fit(module, train_dataloaders=DataLoader(data(), batch_size=16))
    d = doctor.doctor
    return {"raw": raw.values, "losses": d.losses, "kinds": [f.kind for f in d.findings],
            "reported_at": d.reported_at, "stopped": d.should_stop,
            "global_step": tr.global_step, "weights": weights(module)}


def hf_run(rank: int, out: str) -> dict:
    from test_transformers_integration import make_trainer

    import lrkit.integrations.transformers as lrh

    doctor = lrh.LRDoctorCallback(mode="act", min_points=12, overhead=0.5)
    tr = make_trainer(Path(out) / f"hf{rank}", lr=3.0, callbacks=[doctor], logging_steps=1,
                      num_train_epochs=4)
    tr.train()
    d = doctor.doctor
    return {"losses": d.losses, "kinds": [f.kind for f in d.findings],
            "reported_at": d.reported_at,
            "last_lr": float(tr.optimizer.param_groups[0]["lr"]),
            "base_lrs": [float(v) for v in tr.lr_scheduler.base_lrs],
            "global_step": tr.state.global_step, "weights": weights(tr.model),
            "world": tr.args.world_size}


def main(out: str) -> None:
    torch.set_num_threads(1)
    rank = int(os.environ["RANK"])
    counter = _Count()
    logging.getLogger("lrkit.doctor").addHandler(counter)
    result = {"pl": lightning_run(rank)}
    result["pl_warnings"] = list(counter.messages)
    counter.messages.clear()
    result["hf"] = hf_run(rank, out)
    result["hf_warnings"] = list(counter.messages)
    Path(out, f"doctor{rank}.json").write_text(json.dumps(result))
    # inside main: its DDP objects must never be freed (see ddp_exit.py)
    finish()


if __name__ == "__main__":
    main(sys.argv[1])
