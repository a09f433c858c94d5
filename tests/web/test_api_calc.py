"""/api/calc: the same document as ``lrkit calc --json``, the same one-line errors."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest
from typer.testing import CliRunner

from lrkit.cli.app import app as cli_app
from lrkit.errors import respell
from lrkit.rules import CalcInput
from lrkit.web.calc_form import STARTER, WEB_ONLY, form_groups, input_fields

CASES = [
    {},
    STARTER,
    {"optimizer": "sgd", "base_lr": 0.1, "base_batch_size": 256, "batch_size": 8192,
     "epochs": 90, "steps_per_epoch": 157},
    {"optimizer": "adamw", "model": "transformer", "batch_size": 512, "total_steps": 10**9,
     "warmup": "2%", "schedule": "wsd"},
    {"model": "llm", "scaling_law": "deepseek", "compute_flops": 1e21, "tokens": 2e10},
    {"model": "vit", "fine_tune": True, "layers": 12, "layer_decay": 0.75, "batch_size": 64,
     "epochs": 10, "dataset_size": 10_000, "warmup": "1ep", "end_lr_ratio": 0.01},
]


def cli_args(values: dict) -> list[str]:
    """The ``lrkit calc`` command line for CalcInput ``values``."""
    args = ["calc", "--json"]
    for name, value in values.items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            args += [flag] if value else []
        else:
            args += [flag, str(value)]
    return args


def run_cli(values: dict):
    return CliRunner().invoke(cli_app, cli_args(values))


@pytest.mark.parametrize("values", CASES, ids=lambda v: ",".join(v) or "defaults")
def test_api_document_equals_cli_json(client, values):
    cli = run_cli(values)
    assert cli.exit_code == 0, cli.output
    web = client.post("/api/calc", json=values)
    assert web.status_code == 200, web.json()
    doc, cli_doc = web.json(), json.loads(cli.stdout)
    # the same document, with the inputs a warning names spelled per surface
    assert doc["warnings"] == [respell(w, "web") for w in cli_doc.pop("warnings")]
    doc.pop("warnings")
    assert doc == cli_doc


def test_a_billion_steps_answer_fast_with_a_bounded_schedule(client):
    start = time.perf_counter()
    r = client.post("/api/calc", json={"optimizer": "adamw", "batch_size": 1024,
                                       "total_steps": 10**9})
    assert r.status_code == 200
    assert time.perf_counter() - start < 20.0  # bounded: ~1 s alone, slower on a busy CI box
    sched = r.json()["schedule"]
    assert 2 < len(sched["step"]) <= 2000
    assert sched["step"][-1] == 10**9


@pytest.mark.parametrize("values", [
    {"batch_size": 0},
    {"optimizer": "adamz"},
    {"layer_decay": 0.8},
    {"dataset_size": 1000},
    {"warmup": "soon"},
    {"momentum": 1.5},
    {"scaling_law": "deepseek", "base_lr": 0.1},
    {"total_steps": 2 * 10**9},
])
def test_bad_input_gives_the_cli_message(client, values):
    cli = run_cli(values)
    assert cli.exit_code != 0
    web = client.post("/api/calc", json=values)
    assert web.status_code == 422
    assert web.json() == {"detail": str(cli.exception)}
    assert "\n" not in web.json()["detail"]


@pytest.mark.parametrize(("body", "message"), [
    ({"batchsize": 3}, "batchsize: unknown calculator field; did you mean 'batch_size'?"),
    ({"batch_size": "many"}, "batch_size = 'many': must be a number; pass e.g. 256"),
    ({"loss_history": "/etc/passwd"}, "the web app does not read files on the server"),
    ({"max_points": 10**6}, "max_points = 1000000: the web app plots at most 2000 points"),
    ({"loss_history": [[1, 2.0], [2, "x"]]}, "loss_history"),
])
def test_web_specific_refusals(client, body, message):
    r = client.post("/api/calc", json=body)
    assert r.status_code == 422
    assert message in r.json()["detail"]


def test_a_loss_history_list_drives_the_convergence_estimate(client):
    losses = [[e, 2.0 * 0.8**e + 0.3] for e in range(1, 9)]
    base = {"optimizer": "adam", "batch_size": 64, "steps_per_epoch": 100, "epochs": 40}
    without = client.post("/api/calc", json=base).json()
    with_history = client.post("/api/calc", json={**base, "loss_history": losses}).json()
    assert with_history["convergence"]["method"] != without["convergence"]["method"]
    assert with_history["estimated_convergence_epoch"] is not None


def test_request_model_is_calcinput(client):
    schema = client.get("/openapi.json").json()["components"]["schemas"]["CalcRequest"]
    assert list(schema["properties"]) == [f.name for f in dataclasses.fields(CalcInput)]


def test_form_shows_every_flag_once_and_its_choices_are_valid():
    shown = [f["name"] for g in form_groups() for f in g["fields"]]
    assert sorted(shown) == sorted(f.name for f in dataclasses.fields(CalcInput)
                                   if f.name not in WEB_ONLY)
    for f in input_fields():
        for option in f.options:
            CalcInput(**{f.name: option})  # raises if the form offered a name it refuses


def test_calculator_page_renders_every_field(client):
    html = client.get("/").text
    for f in input_fields():
        if f.name not in WEB_ONLY:
            assert f'name="{f.name}"' in html
