"""Fixtures for the web tests: an in-process client and a real server (Chromium: root conftest)."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# the browser logs the 4xx answers the tests provoke on purpose; those are not errors
_EXPECTED = re.compile(r"Failed to load resource: the server responded with a status of 4(22|13)")
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


@pytest.fixture(scope="session")
def app():
    from lrkit.web import create_app

    # a small upload limit lets the tests cross it cheaply; the default is 20 MB
    return create_app(max_upload_bytes=2**20)


@pytest.fixture(scope="session")
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server(app) -> Iterator[str]:
    """The real app under uvicorn on a free loopback port, in a background thread."""
    import uvicorn

    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                        lifespan="off"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start within 15 s")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


class PageLog:
    """What a page did: every URL it requested and every console error / page error."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []

    def external(self) -> list[str]:
        return [u for u in self.requests
                if urlsplit(u).scheme not in ("data", "blob", "about")
                and urlsplit(u).hostname not in LOOPBACK]


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


def new_page(browser, page_log: PageLog, **context):
    ctx = browser.new_context(**context)
    page = ctx.new_page()
    page.on("request", lambda r: page_log.requests.append(r.url))
    page.on("console", lambda m: m.type == "error" and not _EXPECTED.search(m.text)
            and page_log.errors.append(m.text))
    page.on("pageerror", lambda e: page_log.errors.append(str(e)))
    page.set_default_timeout(15_000)
    return ctx, page


@pytest.fixture
def open_page(browser, page_log):
    """A factory: ``open_page(viewport=...)`` -> (context, page), logged like ``page``."""
    return lambda **context: new_page(browser, page_log, **context)


@pytest.fixture
def page(browser, page_log):
    """A fresh desktop-sized page; afterwards: no external request and no JS error."""
    ctx, pg = new_page(browser, page_log, viewport={"width": 1280, "height": 900})
    yield pg
    ctx.close()
    assert page_log.external() == [], f"requests left loopback: {page_log.external()}"
    assert page_log.errors == [], f"browser errors: {page_log.errors}"


@pytest.fixture(scope="session")
def shots_dir(tmp_path_factory) -> Path:
    """Where screenshots go: LRKIT_WEB_SCREENSHOTS (e.g. docs) or a temporary folder."""
    target = os.environ.get("LRKIT_WEB_SCREENSHOTS")
    return Path(target) if target else tmp_path_factory.mktemp("screenshots")
