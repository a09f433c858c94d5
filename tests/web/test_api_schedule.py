"""/api/schedule: evaluation, comparison, bounded work and one-line 422 errors."""

from __future__ import annotations

import time

import numpy as np
import pytest

from lrkit.interop import from_library, snippet
from lrkit.schedules import parse
from lrkit.web.pages import EXAMPLES, IMPORT_EXAMPLES
from lrkit.web.sampling import MAX_POINTS


def test_short_schedule_is_every_step_exactly(client):
    spec = "cosine(peak_lr=0.1, total_steps=50, warmup_steps=5)"
    r = client.post("/api/schedule", json={"schedules": [spec]})
    assert r.status_code == 200
    doc = r.json()
    curve = doc["curves"][0]
    assert doc["steps"] == 50
    assert curve["step"] == list(range(50))
    assert curve["lr"] == parse(spec).values(50).tolist()
    assert curve["downsampled"] is False
    assert curve["final_lr"] == parse(spec)(49)
    assert curve["max_lr"] == pytest.approx(0.1)
    assert parse(curve["text"]) == parse(spec)  # the shown text round-trips


def test_compare_uses_the_longest_horizon_and_labels(client):
    r = client.post("/api/schedule", json={
        "schedules": ["constant(base_lr=0.01)", "cosine(peak_lr=0.1, total_steps=300)",
                      {"family": "step", "base_lr": 0.1, "step_size": 100, "gamma": 0.5}],
        "labels": ["flat", "cos", "step"]})
    assert r.status_code == 200
    doc = r.json()
    assert doc["steps"] == 300
    assert [c["label"] for c in doc["curves"]] == ["flat", "cos", "step"]
    assert doc["curves"][2]["lr"][250] == 0.025


def test_billion_steps_are_downsampled_fast_and_keep_both_ends(client):
    spec = "cosine(peak_lr=0.1, total_steps=1000000000, warmup_steps=1000000)"
    start = time.perf_counter()
    r = client.post("/api/schedule", json={"schedules": [spec], "steps": 10**9})
    elapsed = time.perf_counter() - start
    assert r.status_code == 200
    curve = r.json()["curves"][0]
    assert curve["downsampled"] is True
    assert 2 <= len(curve["step"]) <= MAX_POINTS
    assert curve["step"][0] == 0 and curve["step"][-1] == 10**9 - 1
    assert curve["step"] == sorted(set(curve["step"]))
    s = parse(spec)
    assert curve["lr"] == [s(t) for t in curve["step"]]  # every point is a true value
    assert elapsed < 2.0, f"10^9 steps took {elapsed:.2f} s"


def test_downsampling_keeps_short_cycles_visible(client):
    # a 200-step triangle over 10^6 steps: plain even sampling would alias it away
    spec = "cyclic(base_lr=0.001, max_lr=0.1, step_size_up=100)"
    r = client.post("/api/schedule", json={"schedules": [spec], "steps": 10**6})
    lr = np.array(r.json()["curves"][0]["lr"])
    assert lr.max() > 0.09 and lr.min() < 0.011


def test_examples_offered_by_the_page_all_parse(client):
    r = client.post("/api/schedule", json={"schedules": list(EXAMPLES.values()),
                                           "steps": 10_000})
    assert r.status_code == 200, r.json()


@pytest.mark.parametrize(("body", "message"), [
    ({"schedules": ["cosine(peak_lr=-1, total_steps=10)"]},
     "cosine.peak_lr = -1: a learning rate cannot be negative; pass a value >= 0"),
    ({"schedules": ["cosin(peak_lr=0.1)"]}, "did you mean 'cosine'?"),
    ({"schedules": ["constant(base_lr=0.1)"]}, "steps: missing"),
    ({"schedules": ["constant(base_lr=0.1)"], "steps": 0}, "steps = 0: must be >= 1"),
    ({"schedules": ["constant(base_lr=0.1)"], "steps": "many"},
     "steps = 'many': must be a whole number"),
    ({"schedules": ["constant(base_lr=0.1)"], "stepz": 3},
     "stepz: unknown parameter; did you mean 'steps'?"),
    ({"schedules": []}, "schedules = []: needs at least 1 item"),
    ({"schedules": ["constant(base_lr=0.1)"] * 9, "steps": 5}, "allows at most 8 items"),
    ({"schedules": ["constant(base_lr=0.1)"], "labels": ["a", "b"], "steps": 5},
     "labels: 2 given for 1 schedules"),
    ({"schedules": ["constant(base_lr=0.1)"], "steps": 10**13}, "must be <= 1000000000000"),
])
def test_bad_input_is_422_with_one_line(client, body, message):
    r = client.post("/api/schedule", json=body)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert message in detail
    assert "\n" not in detail


def test_schedule_error_matches_the_cli_message(client):
    from typer.testing import CliRunner

    from lrkit.cli.app import app

    spec = "cosine(peak_lr=0.1, total_steps=0)"
    cli = CliRunner().invoke(app, ["schedule", spec])
    web = client.post("/api/schedule", json={"schedules": [spec]}).json()["detail"]
    assert isinstance(cli.exception, Exception)
    assert str(cli.exception) == web


def test_the_row_at_fault_is_named(client):
    r = client.post("/api/schedule", json={"schedules": ["constant(base_lr=0.1)", "nope()"],
                                           "steps": 5})
    assert r.json()["field"] == "schedules.1"


def test_malformed_json_is_422(client):
    r = client.post("/api/schedule", content=b"{not json",
                    headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["detail"].startswith("request body: malformed JSON")


def test_deeply_nested_specs_are_refused_not_crashed(client):
    spec: dict = {"family": "constant", "base_lr": 0.1}
    for _ in range(400):
        spec = {"family": "scaled", "schedule": spec, "factor": 1.0}
    r = client.post("/api/schedule", json={"schedules": [spec], "steps": 10})
    assert r.status_code == 422
    assert "nested" in r.json()["detail"]


@pytest.mark.parametrize("path", ["/api/schedule", "/api/calc", "/api/schedule/import"])
def test_oversized_json_is_413_before_parsing(client, path):
    big = '{"schedules": ["' + "x" * (2 << 20) + '"]}'
    r = client.post(path, content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["detail"].startswith("request body: larger than 1024 KiB")

    def chunks():  # no Content-Length: counted while it streams in
        yield b'{"schedules": ["'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"]}'

    r = client.post(path, content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


@pytest.mark.parametrize("framework", sorted(IMPORT_EXAMPLES))
def test_import_examples_convert_and_export_back(client, framework):
    name, args = IMPORT_EXAMPLES[framework]
    r = client.post("/api/schedule/import", json={"framework": framework, "name": name,
                                                  "args": args})
    assert r.status_code == 200, r.json()
    doc = r.json()
    params = dict(pair.split("=") for pair in args.replace(" ", "").split(","))
    expected = from_library(framework, name, {k: float(v) for k, v in params.items()})
    assert parse(doc["text"]).values(1000).tolist() == expected.values(1000).tolist()
    out = client.post("/api/schedule/export", json={"schedule": doc["text"],
                                                    "framework": framework})
    assert out.status_code == 200
    assert out.json()["snippet"] == snippet(parse(doc["text"]), framework)


def test_import_params_object_and_bad_names(client):
    r = client.post("/api/schedule/import", json={
        "framework": "torch", "name": "MultiStepLR",
        "params": {"lr": 0.1, "milestones": [30, 60], "gamma": 0.1}})
    assert r.status_code == 200
    assert parse(r.json()["text"])(45) == pytest.approx(0.01)
    r = client.post("/api/schedule/import", json={"framework": "torch", "name": "StepLRR",
                                                  "args": "lr=0.1, step_size=3"})
    assert r.status_code == 422 and "did you mean 'StepLR'?" in r.json()["detail"]
    r = client.post("/api/schedule/export", json={"schedule": "constant(base_lr=0.1)",
                                                  "framework": "mxnet"})
    assert r.status_code == 422 and r.json()["detail"].startswith("framework = 'mxnet'")
