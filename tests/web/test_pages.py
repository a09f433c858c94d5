"""Pages, assets and headers: everything served locally, nothing fetched from elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

import plotly
import pytest

from lrkit.web.assets import plotly_js_path

PAGES = ["/", "/schedules", "/diagnose", "/docs"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_load_only_local_assets(client, path):
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    refs = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert refs
    for ref in refs:
        assert ref.startswith(("/", "#", "data:")), ref  # no http(s):// and no CDN
        if ref.startswith("/") and not ref.startswith("/docs"):
            assert client.get(ref).status_code == 200, ref
    # the Content-Security-Policy forbids any other origin and inline scripts
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self';" in csp
    assert not re.search(r"<script(?![^>]*\b(src|type=\"application/json\"))", r.text)


def test_plotly_comes_from_the_installed_package_with_long_caching(client):
    r = client.get(f"/assets/plotly-{plotly.__version__}.min.js")
    assert r.status_code == 200
    assert r.content == plotly_js_path().read_bytes()
    assert Path(plotly.__file__).parent in plotly_js_path().parents
    assert "immutable" in r.headers["cache-control"]
    assert "max-age=31536000" in r.headers["cache-control"]
    again = client.get(f"/assets/plotly-{plotly.__version__}.min.js",
                       headers={"if-none-match": r.headers["etag"]})
    assert again.status_code == 304


def test_api_reference_lists_every_endpoint(client):
    html = client.get("/docs").text
    for path in ("/api/calc", "/api/schedule", "/api/schedule/import",
                 "/api/schedule/export", "/api/diagnose"):
        assert f"<code>{path}</code>" in html
    assert "batch_size" in html  # the calculator's fields, from CalcInput
    schema = client.get("/openapi.json").json()
    assert {"/api/calc", "/api/schedule", "/api/diagnose"} <= set(schema["paths"])
    assert "multipart/form-data" in schema["paths"]["/api/diagnose"]["post"]["requestBody"][
        "content"]


def test_unknown_page_is_404_json(client):
    r = client.get("/nope")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"detail": "Not Found"}


def test_static_files_are_packaged():
    import lrkit.web

    root = Path(lrkit.web.__file__).parent
    for name in ("lrkit.css", "lrkit.js", "calculator.js", "schedules.js", "diagnose.js"):
        assert (root / "static" / name).is_file()
    for name in ("base.html", "calculator.html", "schedules.html", "diagnose.html",
                 "api.html", "_field.html"):
        assert (root / "templates" / name).is_file()
