"""Property tests over every CLI verb's options and every web route's fields.

Invariant, whatever the values: the CLI exits 0 or 2 (never a traceback: 2 comes with a
one-line ``lrkit: error:`` or click's usage error), the web answers below 500 with a
one-line ``{"detail": ...}`` for a 4xx, each call ends in bounded time, and nothing is
written outside the test's own folder. Training verbs get a task file that does not
exist, so every option's own check runs but no training starts.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrkit.cli.app import app

from ._invoke import run_cli

REPO = Path(__file__).resolve().parents[2]
FUZZ = settings(max_examples=int(os.environ.get("LRKIT_FUZZ_EXAMPLES", "15")), deadline=None,
                suppress_health_check=list(HealthCheck), derandomize=True)

HOSTILE = ["-1", "0", "1", "3", str(2**64), "1e20", "1e308", "nan", "inf", "-inf", "abc", "",
           "x" * 300, "/dev/zero", "/proc/x.png", "../outside.json", "a=1", "true",
           "cosine(peak_lr=0,total_steps=2.5)", '{"family":', "[" * 50, "0.5,0.1"]
TRAINING = {"find", "sharpness", "tune", "auto", "compare"}
SKIP = {"serve"}  # starts a server; its options are fuzzed with an invalid port below


def _verbs() -> dict[str, list[tuple[str, bool]]]:
    import typer.main

    command = typer.main.get_command(app)
    out = {}
    for name, cmd in command.commands.items():  # type: ignore[attr-defined]
        opts = [(p.opts[0], bool(getattr(p, "is_flag", False))) for p in cmd.params
                if p.opts and p.opts[0].startswith("--") and p.opts[0] not in ("--help",)]
        out[name] = opts
    return out


VERBS = _verbs()


#: What the test tools themselves may create in the repo root during the run (Hypothesis
#: makes its database on first use): not the CLI's doing.
_TOOL_DIRS = frozenset({".hypothesis", ".pytest_cache"})


def _snapshot(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} - _TOOL_DIRS


@st.composite
def cli_calls(draw, verb: str) -> list[str]:
    options = VERBS[verb]
    chosen = draw(st.lists(st.sampled_from(options), min_size=1, max_size=4,
                           unique_by=lambda o: o[0])) if options else []
    argv = [verb]
    if verb in ("diagnose", "schedule"):
        argv.append(draw(st.sampled_from(["log.csv", *HOSTILE[:12], "cosine"])))
    for opt, is_flag in chosen:
        if opt == "--task":
            continue
        argv.append(opt)
        if not is_flag:
            argv.append(draw(st.sampled_from(HOSTILE)))
    if verb in TRAINING:
        argv += ["--task", "no_such_dir/no_such_task.py:make_task"]
    if verb == "serve":
        argv += ["--port", "70000"]
    return argv


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_every_cli_option_fails_cleanly(verb, capsys, tmp_path_factory, monkeypatch):
    work = tmp_path_factory.mktemp(f"fuzz-{verb}")
    (work / "log.csv").write_text("step,loss,lr\n" + "".join(
        f"{i},{2 - i / 100},0.01\n" for i in range(60)))
    monkeypatch.chdir(work)
    monkeypatch.delenv("LRKIT_DEBUG", raising=False)
    repo_before = _snapshot(REPO)

    @FUZZ
    @given(argv=cli_calls(verb))
    def check(argv):
        t0 = time.perf_counter()
        code, _out, err = run_cli(capsys, *argv)
        assert code in (0, 2), (argv, err[-2000:])
        assert "Traceback" not in err, (argv, err[-2000:])
        if code == 2 and err.startswith("lrkit: error: "):
            assert err.count("\n") == 1 and len(err) < 1_200, (argv, err[:300])
        assert time.perf_counter() - t0 < 60, argv

    check()
    assert _snapshot(REPO) == repo_before
    assert not (work.parent / "outside.json").exists()


# ----------------------------------------------------------------- web

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False) | st.sampled_from(HOSTILE),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["family", "peak_lr", "total_steps", "x", "pieces", "boundaries"]),
        children, max_size=3),
    max_leaves=8)


def _fields(route_model: str) -> list[str]:
    from lrkit.web import create_app

    schema = create_app().openapi()["components"]["schemas"]
    return list(schema.get(route_model, {}).get("properties", {}))


@pytest.fixture(scope="module")
def web():
    from fastapi.testclient import TestClient

    from lrkit.web import create_app

    with TestClient(create_app(max_upload_bytes=2**20), base_url="http://127.0.0.1") as c:
        yield c


def _check(r):
    assert r.status_code < 500, r.text[:500]
    if r.status_code >= 400:
        detail = r.json()["detail"]
        assert isinstance(detail, str) and "\n" not in detail and len(detail) < 1_200
    assert len(r.content) < 5 * 2**20


@st.composite
def bodies(draw, names: list[str]) -> dict:
    keys = draw(st.lists(st.sampled_from([*names, "unknown_field"]), max_size=4, unique=True))
    return {k: draw(JSON_VALUES) for k in keys}


def test_calc_route_fields(web):
    from lrkit.rules import CalcInput

    names = [f for f in CalcInput.__dataclass_fields__]

    @FUZZ
    @given(body=bodies(names))
    def check(body):
        t0 = time.perf_counter()
        _check(web.post("/api/calc", json=body))
        assert time.perf_counter() - t0 < 30

    check()


@pytest.mark.parametrize("route", ["/api/schedule", "/api/schedule/import",
                                   "/api/schedule/export"])
def test_schedule_route_fields(web, route):
    names = ["schedules", "labels", "steps", "max_points", "framework", "name", "params",
             "args", "spec", "target"]

    @FUZZ
    @given(body=bodies(names))
    def check(body):
        t0 = time.perf_counter()
        _check(web.post(route, json=body))
        assert time.perf_counter() - t0 < 30

    check()


def test_diagnose_route_fields(web):
    names = st.sampled_from(["log.csv", "log.jsonl", "trainer_state.json", "mlflow.db",
                             "events.out.tfevents.1.x", "run.zip", "../../x.csv", "", "a" * 300])
    content = st.one_of(st.binary(max_size=2_000), st.sampled_from([
        b"step,loss\n" + b"".join(b"%d,%f\n" % (i, 2 - i / 100) for i in range(60)),
        b"[" * 5_000, b'{"log_history": ' + b"[" * 5_000, b"step,loss\ninf,1\n0,2\n",
        b"PK\x03\x04garbage", b"SQLite format 3\x00" + b"\x00" * 200]))
    fields = st.dictionaries(st.sampled_from(["metric", "run", "lr", "extra"]),
                             st.sampled_from(HOSTILE), max_size=3)

    @FUZZ
    @given(name=names, data=content, extra=fields)
    def check(name, data, extra):
        t0 = time.perf_counter()
        _check(web.post("/api/diagnose", files={"file": (name, data)}, data=extra))
        assert time.perf_counter() - t0 < 60

    check()


def test_json_bodies_that_are_not_objects(web):
    for route in ("/api/calc", "/api/schedule", "/api/schedule/import"):
        for raw in (b"[]", b"null", b"1e999", b"[" * 10_000, b'{"a": ' + b"9" * 5_000 + b"}",
                    json.dumps({"x": "\u0000"}).encode()):
            _check(web.post(route, content=raw, headers={"content-type": "application/json"}))
