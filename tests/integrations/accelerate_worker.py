"""Run under ``accelerate launch --cpu --num_processes 2`` by test_ddp.py: lrkit's find on
a Hugging Face Trainer, then a real ``train()`` with the doctor callback.

Each rank writes ``<out>/accelerate<r>.json``: the sweep's curve, whether the model came
back bit-identical, the world size the Trainer saw, the doctor's curve and findings.
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
    from test_transformers_integration import make_trainer

    import lrkit.integrations.transformers as lrh
    from lrkit.rangetest import checksum

    torch.set_num_threads(1)
    rank = int(os.environ.get("RANK", "0"))
    doctor = lrh.LRDoctorCallback(mode="stop", min_points=12, overhead=0.5)
    tr = make_trainer(Path(out) / f"hf{rank}", lr=3.0, callbacks=[doctor], logging_steps=1,
                      num_train_epochs=4)
    before = checksum(tr.model)
    res = lrh.find(tr, start_lr=1e-5, end_lr=1.0, steps=20)
    restored = checksum(tr.model) == before
    tr.train()
    d = doctor.doctor
    Path(out, f"accelerate{rank}.json").write_text(json.dumps({
        "find": res.losses, "suggestion": res.suggestion, "restored": restored,
        "world": tr.args.world_size, "distributed": str(tr.accelerator.distributed_type),
        "losses": d.losses, "kinds": [f.kind for f in d.findings],
        "reported_at": d.reported_at, "global_step": tr.state.global_step}))
    # inside main: its DDP objects must never be freed (see ddp_exit.py)
    finish()


if __name__ == "__main__":
    main(sys.argv[1])
