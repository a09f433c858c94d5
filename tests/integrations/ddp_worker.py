"""Run under torchrun (gloo, CPU) by test_ddp.py: the range test and the doctor on DDP.

Each rank writes ``<out>/rank<r>.json``: its range-test curve, whether its model and
optimizer came back bit-identical, and the update at which the doctor stopped.
"""

from __future__ import annotations

import json
import os
import sys
import time

import torch
import torch.distributed as dist
from ddp_exit import finish
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from lrkit.integrations.torch import Doctor, find
from lrkit.rangetest import checksum


def dataset() -> TensorDataset:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(512, 8, generator=g)
    return TensorDataset(x, x[:, :4].sum(1, keepdim=True) - x[:, 4:].sum(1, keepdim=True))


def model() -> torch.nn.Module:
    torch.manual_seed(0)  # the same initial weights on every rank, and in the reference
    return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))


def main(out: str) -> None:
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    torch.set_num_threads(1)
    net = torch.nn.parallel.DistributedDataParallel(model())
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    # the global batch is 32: 16 per rank, the sampler deals alternate examples
    sampler = DistributedSampler(dataset(), shuffle=False)
    loader = DataLoader(dataset(), batch_size=16, sampler=sampler)
    before = checksum(net, opt)
    res = find(net, opt, torch.nn.functional.mse_loss, loader, start_lr=1e-4, end_lr=10.0,
               steps=40)
    restored = checksum(net, opt) == before

    # the doctor: each rank sees its own copy of an exploding run; a 5 ms "training step"
    # and a 30% budget place a check every ~10-50 updates (the default 0.5% does that for
    # a step 60x slower, which DDP steps usually are). On a loaded machine a check takes
    # longer, so the next one comes later (the budget is in time): the run is long enough
    # for that, and the doctor stops it soon after the blow-up on an idle one
    doctor = Doctor(mode="stop", min_points=20, overhead=0.3)
    stopped_at = None
    for t in range(3000):
        time.sleep(0.005)
        blowup = 0.0 if t < 100 else 1.5 ** min(t - 100, 150)  # 1.5**150 ~ 1e26, finite
        loss = (2.0 * 0.9 ** t + 0.1) * (1 + 0.05 * rank) + blowup
        doctor.step(loss, lr=0.5)
        if doctor.should_stop:
            stopped_at = t
            break
    with open(os.path.join(out, f"rank{rank}.json"), "w") as fh:
        json.dump({"lrs": res.lrs, "losses": res.losses, "suggestion": res.suggestion,
                   "stop": res.stop_reasons, "restored": restored, "doctor_stop": stopped_at,
                   "kinds": [f.kind for f in doctor.findings],
                   "world": dist.get_world_size()}, fh)
    # inside main: its DDP objects must never be freed (see ddp_exit.py)
    finish()


if __name__ == "__main__":
    main(sys.argv[1])
