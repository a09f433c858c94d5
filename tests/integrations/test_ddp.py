"""DDP (torchrun, gloo, 2 CPU processes): the range test and the doctor agree across ranks."""

from __future__ import annotations

import json
import math
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


def torchrun(worker: str, out: Path, timeout: float = 300) -> None:
    """Run ``worker`` (a file next to this one) under torchrun: 2 processes, gloo, one
    torch thread each; it writes its results into ``out``."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
           "--master_addr=127.0.0.1", f"--master_port={free_port()}",
           str(WORKER.with_name(worker)), str(out)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.slow
def test_range_test_and_doctor_under_torchrun(tmp_path):
    torchrun(WORKER.name, tmp_path, timeout=240)
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
    torchrun("framework_ddp_worker.py", tmp_path)
    ranks = [json.loads((tmp_path / f"frameworks{r}.json").read_text()) for r in (0, 1)]
    for key in ("pl", "hf"):
        # the loss each rank recorded is the mean over both: the same curve on both ranks
        assert ranks[0][key] == ranks[1][key] and len(ranks[0][key]) >= 10
        assert ranks[0][f"{key}_restored"] and ranks[1][f"{key}_restored"]
    assert ranks[0]["hf_world"] == 2
    # the real runs afterwards: 256 examples, 2 ranks x 16 per step = 8 steps each
    assert ranks[0]["pl_steps"] == ranks[1]["pl_steps"] == 8
    assert ranks[0]["hf_steps"] == ranks[1]["hf_steps"] == 8


@pytest.mark.slow
def test_doctor_callbacks_in_lightning_ddp_and_a_torchrun_hf_trainer(tmp_path):
    pytest.importorskip("lightning.pytorch")
    pytest.importorskip("transformers")
    torchrun("doctor_ddp_worker.py", tmp_path)
    ranks = [json.loads((tmp_path / f"doctor{r}.json").read_text()) for r in (0, 1)]
    pl = [r["pl"] for r in ranks]
    # the ranks trained different halves of each batch: their own losses differ ...
    assert pl[0]["raw"] != pl[1]["raw"]
    # ... and the doctor diagnosed their mean, on both ranks
    n = len(pl[0]["losses"])
    assert n >= 20 and pl[0]["losses"] == pl[1]["losses"]
    finite = [i for i in range(n) if math.isfinite(pl[0]["raw"][i] + pl[1]["raw"][i])]
    assert len(finite) >= 10
    for i in finite:
        mean = (pl[0]["raw"][i] + pl[1]["raw"][i]) / 2
        assert pl[0]["losses"][i] == pytest.approx(mean, rel=1e-6)
    # one decision on every rank: the same findings, reported at the same update, and
    # training stopped at the same step, long before the 30 epochs (240 updates)
    assert pl[0]["kinds"] and pl[0]["kinds"] == pl[1]["kinds"]
    assert pl[0]["reported_at"] == pl[1]["reported_at"]
    assert pl[0]["stopped"] and pl[1]["stopped"]
    assert pl[0]["global_step"] == pl[1]["global_step"] < 240
    assert pl[0]["weights"] == pl[1]["weights"]
    # reported once, by rank 0 only
    assert len(ranks[0]["pl_warnings"]) == len(pl[0]["kinds"]) and not ranks[1]["pl_warnings"]
    assert "stopping the run" in ranks[0]["pl_warnings"][0]

    hf = [r["hf"] for r in ranks]
    assert hf[0]["world"] == 2
    # the Trainer logs the mean over processes: the same curve on both ranks
    assert hf[0]["losses"] == hf[1]["losses"] and len(hf[0]["losses"]) >= 12
    assert hf[0]["kinds"] and hf[0]["kinds"] == hf[1]["kinds"]
    assert hf[0]["reported_at"] == hf[1]["reported_at"]
    # act lowered the LR by the same factor on both ranks (scheduler's base LRs too), so
    # DDP's weights stayed identical
    assert hf[0]["base_lrs"] == hf[1]["base_lrs"] and hf[0]["base_lrs"][0] < 3.0
    assert hf[0]["last_lr"] == hf[1]["last_lr"]
    assert hf[0]["weights"] == hf[1]["weights"]
    assert hf[0]["global_step"] == hf[1]["global_step"]
    assert ranks[0]["hf_warnings"] and not ranks[1]["hf_warnings"]
    assert "LR multiplied by" in " ".join(ranks[0]["hf_warnings"])


@pytest.mark.slow
def test_accelerate_launch_hf_trainer_find_and_doctor(tmp_path):
    """``accelerate launch`` itself (2 CPU processes, gloo). Its ``--cpu`` flag starts one
    process; ``--multi_gpu`` starts N through torch's elastic launcher, and a Trainer with
    ``use_cpu=True`` then runs accelerate's MULTI_CPU (gloo) set-up."""
    pytest.importorskip("transformers")
    pytest.importorskip("accelerate")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
           "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
           "--dynamo_backend", "no", "--main_process_ip", "127.0.0.1",
           "--main_process_port", str(free_port()),
           str(WORKER.with_name("accelerate_worker.py")), str(tmp_path)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"accelerate{r}.json").read_text()) for r in (0, 1)]
    for r in ranks:
        assert r["world"] == 2 and r["distributed"] == "DistributedType.MULTI_CPU"
        assert r["restored"]
    # find: the same curve (the loss the Trainer averages over processes) and suggestion
    assert ranks[0]["find"] == ranks[1]["find"] and len(ranks[0]["find"]) >= 10
    assert ranks[0]["suggestion"] == ranks[1]["suggestion"] > 0
    # the doctor: the same curve and finding on both, and both stopped at the same update
    assert ranks[0]["losses"] == ranks[1]["losses"]
    assert ranks[0]["kinds"] and ranks[0]["kinds"] == ranks[1]["kinds"]
    assert ranks[0]["reported_at"] == ranks[1]["reported_at"]
    assert ranks[0]["global_step"] == ranks[1]["global_step"] < 32
    assert done.stdout.count("lrkit doctor at update") + done.stderr.count(
        "lrkit doctor at update") == len(ranks[0]["kinds"])  # said once, by rank 0
