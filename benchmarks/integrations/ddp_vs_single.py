"""The DDP range test against one process on the same global batch (``digits-mlp``).

Two gloo processes on the CPU (``torchrun --nproc_per_node 2``), each with 16 examples
per update from a ``DistributedSampler`` (no shuffling), against one process with 32 per
update in the same order: the global batch is the same, DDP averages the gradient and
``lrkit.integrations.torch.find`` averages the loss over the ranks, so the two curves
should agree to float rounding and the suggestions be equal. Run:

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/integrations/ddp_vs_single.py
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from lrkit.integrations.torch import find
from lrkit.tasks import load_task

SWEEP = {"start_lr": 1e-6, "end_lr": 10.0, "steps": 100}


def model_and_optimizer():
    task = load_task("digits-mlp")
    torch.manual_seed(0)
    model = task.model()
    return task, model, task.optimizer(model.parameters(), 0.01)


def worker(out: str) -> None:
    import torch.distributed as dist
    from torch.utils.data import DistributedSampler

    dist.init_process_group("gloo")
    torch.set_num_threads(1)
    task, model, _ = model_and_optimizer()
    net = torch.nn.parallel.DistributedDataParallel(model)
    opt = task.optimizer(net.parameters(), 0.01)
    loader = DataLoader(task.train_data, batch_size=16, drop_last=True,
                        sampler=DistributedSampler(task.train_data, shuffle=False))
    started = time.perf_counter()
    res = find(net, opt, task.loss_fn, loader, **SWEEP)
    seconds = time.perf_counter() - started
    if dist.get_rank() == 0:
        Path(out).write_text(json.dumps({"losses": res.losses, "suggestion": res.suggestion,
                                         "seconds": seconds, "updates": res.updates}))
    dist.destroy_process_group()


def main() -> None:
    torch.set_num_threads(1)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = Path(tempfile.mkdtemp()) / "ddp.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "LRKIT_DDP_WORKER": str(out)}
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
                    "--master_addr=127.0.0.1", f"--master_port={port}", __file__],
                   env=env, check=True)
    ddp = json.loads(out.read_text())
    task, model, opt = model_and_optimizer()
    started = time.perf_counter()
    one = find(model, opt, task.loss_fn, DataLoader(task.train_data, batch_size=32,
                                                    drop_last=True), **SWEEP)
    seconds = time.perf_counter() - started
    n = min(len(one.losses), len(ddp["losses"]))
    rel = max(abs(a - b) / abs(b) for a, b in zip(ddp["losses"][:n], one.losses[:n],
                                                   strict=True))
    print("| run | updates | suggestion | sweep wall-clock |")
    print("|---|---|---|---|")
    print(f"| DDP, 2 gloo processes x 16 | {ddp['updates']} | {ddp['suggestion']:.4g} | "
          f"{ddp['seconds']:.2f} s |")
    print(f"| one process x 32 | {one.updates} | {one.suggestion:.4g} | {seconds:.2f} s |")
    print(f"\nlargest relative difference between the two loss curves over {n} updates: "
          f"{rel:.2e}")


if __name__ == "__main__":
    if os.environ.get("LRKIT_DDP_WORKER"):
        worker(os.environ["LRKIT_DDP_WORKER"])
    else:
        main()
