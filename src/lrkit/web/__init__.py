"""The local web app: calculator, schedule explorer and log diagnosis over a JSON API.

Run it with ``lrkit serve``; build it with ``create_app()`` (a FastAPI app).

>>> from fastapi.testclient import TestClient
>>> client = TestClient(create_app(), base_url="http://127.0.0.1")
>>> client.post("/api/schedule", json={"schedules": ["constant(base_lr=0.1)"],
...                                    "steps": 3}).json()["curves"][0]["lr"]
[0.1, 0.1, 0.1]
"""

from lrkit._deps import require

for _module in ("fastapi", "jinja2", "python_multipart"):
    require(_module, extra="web")

from lrkit.web.app import create_app  # noqa: E402  (after the dependency check)

__all__ = ["create_app"]
