"""The web app against hostile pages and uploads: Host / Origin checks, zip members that
clash, diagnosis time limits, request-level limits on work, capped error bodies."""

from __future__ import annotations

import sqlite3
import zipfile

import pytest
from fastapi.testclient import TestClient

from lrkit.web import create_app

CSV = "step,loss\n" + "".join(f"{i},{2 - i / 100}\n" for i in range(60))


def _client(**options) -> TestClient:
    return TestClient(create_app(max_upload_bytes=2**20, **options),
                      base_url="http://127.0.0.1:8000")


@pytest.fixture(scope="module")
def web():
    with _client() as c:
        yield c


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example",
                                  "", "192.168.1.5"])
def test_a_foreign_host_is_refused(web, host):
    r = web.get("/api/schedule/families", headers={"host": host})
    assert r.status_code == 400
    assert "answers only to" in r.json()["detail"]


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:8000", "[::1]:8000", "LOCALHOST"])
def test_loopback_names_are_served(web, host):
    r = web.post("/api/calc", json={}, headers={"host": host})
    assert r.status_code == 200, r.text


def test_allowed_hosts_add_names_and_star_allows_any():
    with _client(allowed_hosts=["lab.local"]) as c:
        assert c.post("/api/calc", json={}, headers={"host": "lab.local:8000"}).status_code == 200
        assert c.post("/api/calc", json={}, headers={"host": "evil.example"}).status_code == 400
    with _client(allowed_hosts=["*"]) as c:
        assert c.post("/api/calc", json={}, headers={"host": "evil.example"}).status_code == 200


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:9999",
                                    "https://127.0.0.1:8000", "http://localhost:8000", "x"])
def test_a_cross_site_post_is_refused(web, origin):
    r = web.post("/api/diagnose", files={"file": ("log.csv", CSV.encode())},
                 headers={"origin": origin})
    assert r.status_code == 403
    assert "other sites" in r.json()["detail"]


def test_same_origin_and_originless_posts_pass(web):
    files = {"file": ("log.csv", CSV.encode())}
    assert web.post("/api/diagnose", files=files,
                    headers={"origin": "http://127.0.0.1:8000"}).status_code == 200
    assert web.post("/api/diagnose", files=files).status_code == 200
    # a GET from anywhere reads nothing private: pages are served
    assert web.get("/", headers={"origin": "http://evil.example"}).status_code == 200


@pytest.mark.parametrize("members", [
    [(".", "x"), ("log.csv", CSV)],
    [("a", "x"), ("a/log.csv", CSV)],
    [("a/log.csv", CSV), ("a", "x")],
    [("x" * 300 + ".csv", CSV)],
])
def test_clashing_zip_members_are_a_422(web, tmp_path, members):
    archive = tmp_path / "run.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, text in members:
            zf.writestr(name, text)
    r = web.post("/api/diagnose", files={"file": ("run.zip", archive.read_bytes())})
    assert r.status_code in (200, 422), r.text
    assert "\n" not in r.json().get("detail", "")


def test_a_slow_diagnosis_answers_422_within_the_timeout():
    with _client(diagnose_timeout_s=0.001) as c:
        r = c.post("/api/diagnose", files={"file": ("log.csv", CSV.encode())})
    assert r.status_code == 422
    assert "took longer than" in r.json()["detail"]


def test_error_bodies_are_capped(web, tmp_path):
    db = tmp_path / "mlflow.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE runs (run_uuid, name, lifecycle_stage, start_time)")
    con.execute("CREATE TABLE metrics (key, value, timestamp, run_uuid, step, is_nan)")
    con.execute("INSERT INTO runs VALUES ('r', 'r', 'active', 0)")
    con.executemany("INSERT INTO metrics VALUES (?, 1.0, ?, 'r', 0, 0)",
                    [(f"m{i}" + "x" * 20_000, i) for i in range(40)])
    con.commit()
    con.close()
    r = web.post("/api/diagnose", files={"file": ("mlflow.db", db.read_bytes())})
    assert r.status_code == 422
    assert len(r.content) < 2_000


@pytest.mark.parametrize("body", [
    {"layers": 10_000_000, "layer_decay": 0.9},
    {"epochs": 1e308, "batch_size": 128, "dataset_size": 50_000},
    {"batch_size": 1e24},
    {"total_steps": True},
    {"epochs": 1e6, "steps_per_epoch": 1e6},
])
def test_calc_limits_work_with_a_422(web, body):
    r = web.post("/api/calc", json=body)
    assert r.status_code == 422, r.text[:200]
    assert len(r.content) < 1_000


@pytest.mark.parametrize("steps", [True, "10", 1.5])
def test_schedule_steps_must_be_a_json_integer(web, steps):
    r = web.post("/api/schedule", json={"schedules": ["cosine(peak_lr=0.1,total_steps=10)"],
                                        "steps": steps})
    assert r.status_code == 422 and r.json()["detail"].startswith("steps = ")
