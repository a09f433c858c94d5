"""optuna-dashboard reads an lrkit study as it is (its own WSGI app, no lrkit code)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

dashboard = pytest.importorskip("optuna_dashboard",
                                reason="optuna-dashboard is not installed (dev extra)")

# trains a study and drives the real optuna-dashboard server
pytestmark = pytest.mark.slow


def _get(app, path: str) -> tuple[str, bytes]:
    status: dict[str, str] = {}

    def start_response(line: str, headers, exc_info=None) -> None:
        status["line"] = line

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "",
               "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
               "wsgi.input": io.BytesIO(), "wsgi.url_scheme": "http"}
    body = b"".join(app(environ, start_response))
    return status["line"], body


def test_dashboard_lists_the_study_with_states_and_curves(tasks_file: Path, tmp_path) -> None:
    from lrkit.tasks import load_task
    from lrkit.tune import SearchSpace, tune

    url = f"sqlite:///{tmp_path / 'lrkit.db'}"
    task = load_task(f"{tasks_file}:sgd_linreg")
    result = tune(task, SearchSpace(1e-3, 20.0), study="dash", storage=url, seeds=[10.0],
                  sampler="random", pruner="none", n_trials=3, epochs=2)
    app = dashboard.wsgi(url)  # what `optuna-dashboard sqlite:///lrkit.db` serves
    line, body = _get(app, "/api/studies")
    assert line.startswith("200")
    summaries = json.loads(body)["study_summaries"]
    assert [s["study_name"] for s in summaries] == ["dash"]
    line, body = _get(app, f"/api/studies/{summaries[0]['study_id']}")
    assert line.startswith("200")
    study = json.loads(body)
    states = {t["number"]: t["state"] for t in study["trials"]}
    assert states == {t.number: t.state.capitalize() for t in result.trials}
    assert states[0] == "Pruned"  # the diverged seed, with its inf loss
    complete = [t for t in study["trials"] if t["state"] == "Complete"]
    assert all(len(t["intermediate_values"]) == 2 for t in complete)
    assert study["has_intermediate_values"] is True
