"""/api/diagnose: real log files from tests/fixtures/logs (written by the real libraries)."""

from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path

import pytest

from lrkit.diagnose import diagnose
from lrkit.web.api_diagnose import safe_name

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"
# one file per way a reader is picked: by content (CSV, Keras, W&B), by file name (event
# file, trainer_state.json) and a binary database; each diagnosis costs about a second
FILES = {
    "keras3": LOGS / "keras3" / "training.log",
    "tensorboard": LOGS / "tb_torch" / "events.out.tfevents.1795610832.vm.13482.0",
    "huggingface": LOGS / "huggingface" / "checkpoint-16" / "trainer_state.json",
    "csv": LOGS / "plain" / "log.csv",
    "mlflow-db": LOGS / "mlflow" / "mlflow.db",
}
WANDB = LOGS / "wandb" / "wandb_export.csv"


def upload(client, path: Path, name: str | None = None, **fields):
    with path.open("rb") as fh:
        return client.post("/api/diagnose", files={"file": (name or path.name, fh)},
                           data={k: str(v) for k, v in fields.items()})


def same_numbers(a, b) -> bool:
    """JSON equality where the API's None stands for the library's NaN/Inf."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_numbers(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same_numbers(x, y) for x, y in zip(a, b, strict=True))
    if a is None and isinstance(b, float):
        return not math.isfinite(b)
    return a == b


@pytest.mark.parametrize("fmt", sorted(FILES))
def test_upload_gives_the_library_diagnosis(client, fmt):
    path = FILES[fmt]
    r = upload(client, path)
    assert r.status_code == 200, r.json()
    doc = r.json()
    expected = diagnose(path).to_dict()
    assert doc["file"] == path.name
    for key in ("verdict", "summary", "findings", "estimated_convergence_epoch", "metric",
                "format", "suggested_lr", "runs"):
        assert same_numbers(doc[key], expected[key]), key
    assert [c["name"] for c in doc["curves"]] == [c["name"] for c in expected["curves"]]
    for c in doc["curves"]:
        assert len(c["x"]) == len(c["y"]) <= 2000


def test_a_zipped_log_folder_is_read(client, tmp_path):
    # MLflow keeps a run as a folder tree; the page takes it zipped
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        root = LOGS / "mlflow" / "mlruns"
        for f in root.rglob("*"):
            if f.is_file():
                zf.write(f, Path("mlruns") / f.relative_to(root))
    archive = tmp_path / "mlruns.zip"
    archive.write_bytes(buf.getvalue())
    r = upload(client, archive, run="diverged")
    assert r.status_code == 200, r.json()
    # the diverged run's NaN loss arrives as null: strict JSON, not the NaN extension
    doc = json.loads(r.text, parse_constant=lambda c: pytest.fail(f"{c} in the JSON"))
    assert any(v is None for c in doc["curves"] for v in c["y"])
    expected = diagnose(LOGS / "mlflow" / "mlruns", run="diverged").to_dict()
    assert sorted(doc["runs"]) == sorted(expected["runs"]) == ["cosine-sgd", "diverged"]
    assert doc["run"] == "diverged"
    assert same_numbers(doc["findings"], expected["findings"])
    assert doc["findings"][0]["kind"] == "nan_loss"


def test_sweep_judges_every_run_of_the_log(client):
    store = LOGS / "mlflow" / "mlflow.db"
    r = upload(client, store, sweep="1")
    assert r.status_code == 200, r.json()
    doc = json.loads(r.text, parse_constant=lambda c: pytest.fail(f"{c} in the JSON"))
    from lrkit.diagnose import diagnose_runs

    expected = diagnose_runs([store]).to_dict()
    assert doc["kind"] == "sweep" and doc["file"] == "mlflow.db"
    assert same_numbers({k: v for k, v in doc.items() if k not in ("file", "curves")},
                        expected)
    by_name = {run["name"]: run for run in doc["runs"]}
    assert by_name["diverged"]["verdict"] == "too_high" and by_name["diverged"]["final"] is None


@pytest.mark.parametrize("fields,needle", [
    ({"sweep": "1", "lr": "0.1"}, "lr = 0.1: not with sweep"),
    ({"sweep": "true", "run": "diverged"}, "run = 'diverged': not with sweep"),
])
def test_sweep_refuses_one_run_options(client, fields, needle):
    r = upload(client, LOGS / "mlflow" / "mlflow.db", **fields)
    assert r.status_code == 422 and needle in r.json()["detail"]


def test_a_sweep_of_one_run_is_422(client):
    r = upload(client, LOGS / "plain" / "log.csv", sweep="on")
    assert r.status_code == 422 and "at least two runs" in r.json()["detail"]


def _run_log(folder: Path, name: str, lr: float, final: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("step,loss,lr\n" + "".join(
        f"{s},{final + (2.3 - final) * 0.97 ** s},{lr}\n" for s in range(300)))
    return path


def upload_many(client, paths: list[Path], **fields):
    handles = [p.open("rb") for p in paths]
    try:
        return client.post("/api/diagnose", files=[("file", (p.name, fh)) for p, fh in
                                                   zip(paths, handles, strict=True)],
                           data={k: str(v) for k, v in fields.items()})
    finally:
        for fh in handles:
            fh.close()


def test_several_logs_are_judged_as_a_sweep(client, tmp_path):
    # a run and the run check_lr names (a decade up), and a third: one log each
    from lrkit.diagnose import diagnose_runs

    paths = [_run_log(tmp_path, f"lr{lr}.csv", lr, final)
             for lr, final in [(0.01, 0.9), (0.1, 0.4), (1.0, 0.42)]]
    r = upload_many(client, paths)
    assert r.status_code == 200, r.json()
    doc = r.json()
    expected = diagnose_runs(paths).to_dict()
    assert doc["kind"] == "sweep" and doc["file"] == "lr0.01.csv, lr0.1.csv, lr1.0.csv"
    # the runs are named by the files uploaded, not by the server's private folder
    assert [run["name"] for run in doc["runs"]] == [p.name for p in paths]
    assert [run["verdict"] for run in doc["runs"]] == [
        run["verdict"] for run in expected["runs"]] == ["too_low", "ok", "ok"]
    assert doc["suggested_lr"] == pytest.approx(expected["suggested_lr"])


def test_logs_that_share_a_name_are_told_apart_by_their_place(client, tmp_path):
    # two Lightning runs both write metrics.csv; each keeps the name that picks its reader
    paths = [_run_log(tmp_path / "a", "metrics.csv", 0.01, 1.2),
             _run_log(tmp_path / "b", "metrics.csv", 0.1, 0.4)]
    r = upload_many(client, paths)
    assert r.status_code == 200, r.json()
    assert [run["name"] for run in r.json()["runs"]] == ["(1) metrics.csv", "(2) metrics.csv"]


def test_several_logs_refuse_one_run_options_and_too_many_logs(client, tmp_path):
    from lrkit.web.api_diagnose import MAX_LOGS

    paths = [_run_log(tmp_path, f"lr{lr}.csv", lr, 0.5) for lr in (0.01, 0.1)]
    r = upload_many(client, paths, lr="0.1")
    assert r.status_code == 422 and "lr = 0.1: not with sweep" in r.json()["detail"]
    many = [_run_log(tmp_path, f"m{i}.csv", 0.001 * (i + 1), 0.5) for i in range(MAX_LOGS + 1)]
    r = upload_many(client, many)
    detail = r.json()["detail"]
    assert r.status_code == 422 and f"at most {MAX_LOGS} logs" in detail
    assert "\n" not in detail


def test_options_reach_the_diagnosis(client):
    path = WANDB
    r = upload(client, path, lr=0.05, run="run-lr0.005")
    assert r.status_code == 200, r.json()
    expected = diagnose(path, lr=0.05, run="run-lr0.005").to_dict()
    assert r.json()["run"] == "run-lr0.005"
    assert same_numbers(r.json()["findings"], expected["findings"])


def test_too_large_is_413_with_one_line(client, app, tmp_path):
    big = tmp_path / "huge.csv"
    limit = app.state.max_upload_bytes
    big.write_text("step,loss\n" + "".join(f"{i},1.0\n" for i in range(limit // 6)))
    assert big.stat().st_size > limit
    r = upload(client, big)
    assert r.status_code == 413
    detail = r.json()["detail"]
    assert detail.startswith("file = ")
    assert "MB upload limit" in detail and "\n" not in detail


def test_body_over_the_limit_is_refused_even_without_a_length(app, tmp_path):
    # a chunked upload has no Content-Length: the stream itself is counted
    from fastapi.testclient import TestClient

    limit = app.state.max_upload_bytes

    def chunks():
        boundary = b"--X\r\n"
        yield boundary + b'Content-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
        for _ in range(limit // 65536 + 4):
            yield b"1" * 65536
        yield b"\r\n--X--\r\n"

    with TestClient(app, base_url="http://127.0.0.1") as c:
        r = c.post("/api/diagnose", content=chunks(),
                   headers={"content-type": "multipart/form-data; boundary=X"})
    assert r.status_code == 413


@pytest.mark.parametrize(("content", "name", "message"), [
    (b"", "empty.csv", "the file is empty"),
    (b"\x00\x01\x02binary junk", "junk.bin", "path = 'junk.bin'"),
    (b"hello there\n", "notes.txt", "not a log format lrkit reads"),
    (b"PK\x03\x04 not really a zip", "logs.zip", "not a readable zip archive"),
])
def test_unreadable_uploads_are_422_naming_the_file(client, tmp_path, content, name, message):
    path = tmp_path / name
    path.write_bytes(content)
    r = upload(client, path)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert message in detail
    assert str(tmp_path) not in detail and "lrkit-upload-" not in detail


def test_bad_form_fields_are_422(client):
    r = upload(client, FILES["csv"], lr="fast")
    assert r.status_code == 422
    assert r.json()["detail"].startswith("lr = 'fast': must be a positive number")
    r = upload(client, FILES["csv"], metric="no_such_metric")
    assert r.status_code == 422 and "no_such_metric" in r.json()["detail"]
    r = client.post("/api/diagnose", json={"file": "x"})
    assert r.status_code == 422 and "multipart/form-data" in r.json()["detail"]
    r = client.post("/api/diagnose", files={"other": ("a.csv", b"step,loss\n0,1\n")})
    assert r.status_code == 422 and r.json()["detail"].startswith("file: missing")


def test_zip_members_cannot_escape(client, tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../escaped.csv", "step,loss\n0,1\n")
    r = upload(client, archive)
    assert r.status_code == 422
    assert "points outside the archive" in r.json()["detail"]


def test_safe_names_keep_the_extension():
    assert safe_name("C:\\runs\\trainer_state.json") == "trainer_state.json"
    assert safe_name(".hidden") == "hidden"
    assert safe_name("a b/../c d.csv") == "c_d.csv"


def test_upload_is_deleted_afterwards(client, monkeypatch, tmp_path):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert upload(client, FILES["csv"]).status_code == 200
    assert list(tmp_path.iterdir()) == []
