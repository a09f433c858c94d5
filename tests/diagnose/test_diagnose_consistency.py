"""Diagnose's notes agree with each other and with the log (issue: a new user's first hour)."""

from __future__ import annotations

import numpy as np
import pytest

from lrkit.diagnose.convergence import Convergence, describe_convergence
from lrkit.diagnose.curves import Curve
from lrkit.diagnose.diagnosis import diagnose_curves


def _conv(epoch: float, converged: bool, final: float = 0.2, last: float = 6.0) -> Convergence:
    return Convergence(epoch=epoch, epoch_interval=(epoch - 1, epoch + 2), final_loss=final,
                       final_loss_interval=(final / 2, final * 2), converged=converged,
                       unit="epoch", tolerance=0.01, weights={}, observed=(6, last))


def test_a_projection_past_the_run_says_the_run_stopped_first() -> None:
    text = describe_convergence(_conv(14.0, False), lowest=0.3)
    assert text.startswith("not converged by the end of the run (epoch 6)")
    assert "around epoch 14" in text and "if training continued" in text


def test_converged_is_not_said_while_the_loss_is_still_falling() -> None:
    text = describe_convergence(_conv(3.0, True), still_falling=True, lowest=0.3)
    assert "converged by" not in text and "still falling" in text
    assert describe_convergence(_conv(3.0, True), lowest=0.3).startswith("converged by epoch 3")


def test_a_final_loss_far_below_every_logged_loss_is_not_quoted() -> None:
    text = describe_convergence(_conv(3.0, True, final=3.973e-9), lowest=0.31)
    assert "3.973e-09" not in text and "not projected" in text
    assert "final loss ≈ 0.2" in describe_convergence(_conv(3.0, True), lowest=0.25)


def test_the_diagnosis_passes_a_still_falling_finding_to_the_summary() -> None:
    rng = np.random.default_rng(0)
    steps = np.arange(240.0)
    y = np.abs(np.exp(-steps / 600) + 0.15 * rng.standard_normal(240))
    d = diagnose_curves([Curve.of("train_loss", y, steps=steps, epochs=steps / 40),
                         Curve.of("lr", np.full(240, 0.01), steps=steps, kind="lr")])
    assert "lr_too_low" in [f.kind for f in d.findings]
    summary = d.convergence_summary
    assert not summary.startswith("converged by") and "epoch 6" in summary
    assert d.to_dict()["convergence_summary"] == summary


@pytest.mark.parametrize(("steps", "need"), [
    (np.arange(20.0), "at least 30 logged points"),        # per-step, short run
    (np.arange(20.0) * 50, "per-step logging"),            # every 50 updates
])
def test_the_few_points_note_matches_how_the_log_was_written(steps, need) -> None:
    d = diagnose_curves([Curve.of("train_loss", np.linspace(1, 0.5, 20), steps=steps)], lr=0.1)
    note = next(n for n in d.notes if "spike and oscillation" in n)
    assert note.endswith(need)


def test_lightning_tensorboard_run_reads_the_lr_from_hparams_yaml(tmp_path) -> None:
    L = pytest.importorskip("lightning")
    torch = pytest.importorskip("torch")
    pytest.importorskip("tensorboard")

    class Model(L.LightningModule):
        def __init__(self, lr: float = 0.05) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.net = torch.nn.Linear(4, 1)

        def training_step(self, batch, _):
            x, y = batch
            loss = torch.nn.functional.mse_loss(self.net(x), y)
            self.log("train_loss", loss)
            return loss

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 4, generator=g)
    data = torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True))
    loader = torch.utils.data.DataLoader(data, batch_size=16)
    logger = L.pytorch.loggers.TensorBoardLogger(str(tmp_path), name="tb")
    trainer = L.Trainer(max_epochs=3, logger=logger, log_every_n_steps=1,
                        enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, accelerator="cpu")
    trainer.fit(Model(), loader)
    run_dir = tmp_path / "tb" / "version_0"
    assert (run_dir / "hparams.yaml").exists()
    from lrkit.diagnose import diagnose

    d = diagnose(run_dir)
    assert d.format == "tensorboard" and d.base_lr == pytest.approx(0.05)
    assert not any("no learning rate" in n for n in d.notes)
