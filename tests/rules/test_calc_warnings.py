"""The calculator says so when it ignores or second-guesses what the user typed."""

from __future__ import annotations

import json

import pytest

from lrkit.rules import CalcInput, calculate
from tests.cli._invoke import run_cli


def _warnings(**kwargs: object) -> list[str]:
    return list(calculate(CalcInput(**kwargs)).warnings)  # type: ignore[arg-type]


def test_an_sgd_lr_given_to_the_default_adamw_is_flagged() -> None:
    found = [w for w in _warnings(base_lr=0.1, batch_size=1024) if "typical range" in w]
    assert len(found) == 1
    assert "above AdamW's typical range 1e-05 .. 0.003" in found[0]
    assert "optimizer" in found[0]  # the fix: name the optimizer of the recipe
    assert not any("typical range" in w for w in _warnings(base_lr=1e-3))
    # inside momentum SGD's range after linear scaling: nothing to say
    assert not any("typical range" in w for w in _warnings(
        base_lr=0.1, base_batch_size=256, batch_size=1024, optimizer="momentum"))


def test_a_batch_size_that_cannot_be_used_is_named() -> None:
    found = [w for w in _warnings(base_lr=0.1, batch_size=1024, optimizer="momentum")
             if "batch_size = 1024" in w]
    assert len(found) == 1 and "pass base_batch_size" in found[0]
    assert not any("batch_size = " in w for w in _warnings(
        base_lr=0.1, base_batch_size=256, batch_size=1024, optimizer="momentum"))
    assert not any("batch_size = " in w for w in _warnings(
        base_lr=0.1, batch_size=1024, optimizer="momentum", scaling="none"))


def test_plain_sgd_against_a_momentum_recipe_says_which_momentum_the_recipe_used() -> None:
    rec = calculate(CalcInput(model="resnet", optimizer="sgd"))
    assert rec.optimizer_params["momentum"] == 0.0
    found = [w for w in rec.warnings if "momentum=0" in w]
    assert len(found) == 1 and "momentum=0.9" in found[0] and "optimizer nesterov" in found[0]
    assert not any("momentum=0," in w for w in _warnings(model="resnet", optimizer="nesterov"))
    assert not any("momentum=0," in w for w in _warnings(model="resnet", optimizer="sgd",
                                                        momentum=0.9))


def test_the_cli_prints_the_warnings(capsys) -> None:
    code, out, err = run_cli(capsys, "calc", "--base-lr", "0.1", "--batch-size", "1024")
    assert code == 0, err
    text = " ".join(out.split())
    assert "typical range" in text and "--batch-size = 1024 is not used" in text


def test_warnings_name_the_inputs_as_each_surface_spells_them(capsys) -> None:
    """Like the errors: Python names from Python and the web, flags on the CLI."""
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from lrkit.web import create_app

    client = TestClient(create_app(), base_url="http://127.0.0.1")
    values = {"base_lr": 0.1, "batch_size": 1024, "epochs": 3}
    rec = calculate(CalcInput(**values))  # type: ignore[arg-type]
    python = " ".join(rec.warnings)
    assert "batch_size = 1024 is not used" in python and "pass base_batch_size" in python
    assert "epochs needs steps_per_epoch or dataset_size" in python
    assert "--" not in python and rec.warnings_for("python") == rec.warnings
    cli = rec.warnings_for("cli")
    assert any(w.startswith("--batch-size = 1024 is not used") and "--base-batch-size" in w
               for w in cli)
    assert "--epochs needs --steps-per-epoch or --dataset-size to count updates" in cli
    assert rec.to_dict("cli")["warnings"] == list(cli)
    assert rec.to_dict()["warnings"] == list(rec.warnings)
    web = client.post("/api/calc", json=values).json()["warnings"]
    assert web == list(rec.warnings_for("web")) == list(rec.warnings)
    code, out, err = run_cli(capsys, "calc", "--base-lr", "0.1", "--batch-size", "1024",
                             "--epochs", "3", "--json")
    assert code == 0, err
    assert json.loads(out)["warnings"] == list(cli)
