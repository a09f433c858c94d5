"""lrkit.integrations.lightning against the real Lightning: find, the doctor, restoration."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")
L = pytest.importorskip("lightning.pytorch")

from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

import lrkit.integrations.lightning as lrl  # noqa: E402
from lrkit.errors import ConfigError  # noqa: E402
from lrkit.rangetest import SweepSettings, checksum, range_test  # noqa: E402


def data(n: int = 256, seed: int = 0) -> TensorDataset:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=g)
    return TensorDataset(x, x[:, :4].sum(1, keepdim=True) - x[:, 4:].sum(1, keepdim=True))


class Net(L.LightningModule):
    """A tiny regression module with dropout, a scheduler and self.log, as users write them."""

    def __init__(self, lr: float = 1e-3) -> None:
        super().__init__()
        self.lr = lr
        self.net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(),
                                       torch.nn.Dropout(0.1), torch.nn.Linear(16, 1))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.lr)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


class DM(L.LightningDataModule):
    def __init__(self, shuffle: bool = True) -> None:
        super().__init__()
        self.shuffle = shuffle

    def train_dataloader(self):
        return DataLoader(data(), batch_size=16, shuffle=self.shuffle)


def trainer(**kw) -> L.Trainer:
    base = dict(max_epochs=1, logger=False, enable_checkpointing=False,
                enable_progress_bar=False, enable_model_summary=False)
    return L.Trainer(**{**base, **kw})


def test_find_restores_everything_and_fit_afterwards_is_bit_identical():
    torch.manual_seed(0)
    module, dm = Net(), DM()
    tr = trainer(max_epochs=2)
    before = checksum(module)
    tr_vars = dict(vars(tr))
    res = lrl.find(tr, module, datamodule=dm, start_lr=1e-5, end_lr=1.0, steps=30)
    assert checksum(module) == before  # weights, modes and every RNG
    assert module._trainer is None and dict(vars(tr)) == tr_vars
    assert res.suggestion > 0 and len(res.lrs) >= 10 and res.micro_batches >= len(res.lrs)
    tr.fit(module, datamodule=dm)
    after = [p.detach().clone() for p in module.parameters()]

    torch.manual_seed(0)
    fresh, fresh_dm = Net(), DM()
    trainer(max_epochs=2).fit(fresh, datamodule=fresh_dm)
    assert all(torch.equal(a, b) for a, b in zip(after, fresh.parameters(), strict=True))


def test_same_curve_as_lrkit_range_test_with_accumulation():
    """Lightning's loop (accumulation 2) records the curve lrkit's own torch sweep records."""
    torch.manual_seed(1)
    module = Net()
    twin = Net()
    twin.load_state_dict(module.state_dict())
    module.net[2].p = twin.net[2].p = 0.0  # no dropout: the two loops draw differently
    res = lrl.find(trainer(accumulate_grad_batches=2), module,
                   train_dataloaders=DataLoader(data(), batch_size=16),
                   start_lr=1e-4, end_lr=1.0, steps=20, extend=1)
    opt = torch.optim.AdamW(twin.parameters(), lr=1e-3)
    ref = range_test(twin, opt, torch.nn.functional.mse_loss,
                     DataLoader(data(), batch_size=16), start_lr=1e-4, end_lr=1.0,
                     steps=20, extend=1, accumulation_steps=2)
    assert res.lrs == ref.lrs
    assert res.losses == pytest.approx(ref.losses, rel=1e-5)
    assert res.suggestion == pytest.approx(ref.suggestion, rel=1e-6)
    assert res.settings["accumulation_steps"] == 2


def test_keeps_param_group_ratios_and_rejects_bad_input():
    class TwoGroups(Net):
        def configure_optimizers(self):
            return torch.optim.SGD([{"params": self.net[0].parameters()},
                                    {"params": self.net[3].parameters(), "lr": 0.01}], lr=0.1)

    res = lrl.find(trainer(), TwoGroups(), datamodule=DM(), steps=10, end_lr=1.0)
    assert res.group_ratios == pytest.approx((1.0, 0.1))
    with pytest.raises(ConfigError, match="trainer = "):
        lrl.find(object(), Net(), datamodule=DM())
    with pytest.raises(ConfigError, match="datamodule = None"):
        lrl.find(trainer(), Net())
    with pytest.raises(ConfigError, match="end_lr"):
        lrl.find(trainer(), Net(), datamodule=DM(), start_lr=1.0, end_lr=0.1)


def test_find_takes_the_sweep_settings_object():
    quick = SweepSettings(start_lr=1e-4, end_lr=1.0, steps=10)

    def run(**kw):
        torch.manual_seed(0)
        return lrl.find(trainer(), Net(), datamodule=DM(shuffle=False), **kw)

    by_object, by_keywords = run(settings=quick), run(start_lr=1e-4, end_lr=1.0, steps=10)
    assert by_object.lrs == by_keywords.lrs and by_object.losses == by_keywords.losses
    assert run(settings=quick, start_lr=1e-3).lrs[0] == pytest.approx(1e-3)
    with pytest.raises(ConfigError, match=r"^settings.val_every = 5: the Lightning find has no "
                                          "validation probe"):
        run(settings=SweepSettings(val_every=5))


def test_restores_on_error():
    class Broken(Net):
        def training_step(self, batch, batch_idx):
            if self.global_step >= 3:
                raise RuntimeError("boom")
            return super().training_step(batch, batch_idx)

    module = Broken()
    before = checksum(module)
    with pytest.raises(RuntimeError, match="boom"):
        lrl.find(trainer(), module, datamodule=DM())
    assert checksum(module) == before and module._trainer is None


def test_doctor_callback_reports_once_and_stops():
    torch.manual_seed(0)
    doctor = lrl.LRDoctor(mode="stop", min_points=20)
    tr = trainer(max_epochs=30, callbacks=[doctor])
    tr.fit(Net(lr=3.0), datamodule=DM())
    kinds = [f.kind for f in doctor.doctor.findings]
    assert kinds and kinds[0] in ("explosion", "nan_loss", "loss_spikes", "oscillation")
    assert doctor.doctor.should_stop and tr.global_step < 30 * 16
    assert all(math.isfinite(f.suggested_lr or 1.0) for f in doctor.doctor.findings)
