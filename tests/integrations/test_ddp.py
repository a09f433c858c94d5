"""DDP (torchrun, gloo, 2 CPU processes): the range test and the doctor agree across ranks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from torch.utils.data import DataLoader  # noqa: E402

from lrkit.integrations.torch import find  # noqa: E402

WORKER = Path(__file__).with_name("ddp_worker.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_range_test_and_doctor_under_torchrun(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
           "--master_addr=127.0.0.1", f"--master_port={free_port()}", str(WORKER),
           str(tmp_path)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0]["world"] == 2
    # every rank: the same averaged curve, the same stop, its own state back
    assert ranks[0]["lrs"] == ranks[1]["lrs"] and ranks[0]["losses"] == ranks[1]["losses"]
    assert ranks[0]["stop"] == ranks[1]["stop"] == ["diverged"]
    assert ranks[0]["restored"] and ranks[1]["restored"]
    # the doctor: the same findings and the same stopping update on both ranks
    assert ranks[0]["doctor_stop"] is not None
    assert ranks[0]["doctor_stop"] == ranks[1]["doctor_stop"]
    assert ranks[0]["kinds"] == ranks[1]["kinds"] and "explosion" in ranks[0]["kinds"]

    # one process on the same global batch (32) sees the same curve: the mean of the
    # two ranks' half-batch losses is the global batch's loss, and DDP's averaged
    # gradient is its gradient
    sys.path.insert(0, str(WORKER.parent))
    try:
        import ddp_worker
    finally:
        sys.path.pop(0)
    net = ddp_worker.model()
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    single = find(net, opt, torch.nn.functional.mse_loss,
                  DataLoader(ddp_worker.dataset(), batch_size=32), start_lr=1e-4,
                  end_lr=10.0, steps=40)
    n = min(len(single.losses), len(ranks[0]["losses"]))
    assert n >= 20
    assert ranks[0]["losses"][:n] == pytest.approx(single.losses[:n], rel=1e-4)
    assert ranks[0]["suggestion"] == pytest.approx(single.suggestion, rel=0.05)


@pytest.mark.slow
def test_lightning_ddp_strategy_and_torchrun_hf_trainer(tmp_path):
    pytest.importorskip("lightning.pytorch")
    pytest.importorskip("transformers")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
           "--master_addr=127.0.0.1", f"--master_port={free_port()}",
           str(WORKER.with_name("framework_ddp_worker.py")), str(tmp_path)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"frameworks{r}.json").read_text()) for r in (0, 1)]
    for key in ("pl", "hf"):
        # the loss each rank recorded is the mean over both: the same curve on both ranks
        assert ranks[0][key] == ranks[1][key] and len(ranks[0][key]) >= 10
        assert ranks[0][f"{key}_restored"] and ranks[1][f"{key}_restored"]
    assert ranks[0]["hf_world"] == 2
    # the real runs afterwards: 256 examples, 2 ranks x 16 per step = 8 steps each
    assert ranks[0]["pl_steps"] == ranks[1]["pl_steps"] == 8
    assert ranks[0]["hf_steps"] == ranks[1]["hf_steps"] == 8
