"""The documentation site: it builds strictly, its examples run, and a browser can read it.

``mkdocs build --strict`` fails on a broken link, a missing page or a reference that does
not resolve; the API reference is generated from the code (``docs/hooks.py``), so a test
here checks that every public name has a docstring to show. Every code block of every page
runs as written, in a fresh folder, except blocks marked
``<!-- docs-test: skip: REASON -->`` (a server, a cluster), whose reasons are checked.
"""

from __future__ import annotations

import functools
import http.server
import importlib
import inspect
import os
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
LRKIT = Path(sys.executable).parent / "lrkit"
SKIP = re.compile(r"<!--\s*docs-test:\s*skip:\s*(?P<why>[^>]*?)\s*-->\s*$")
FENCE = re.compile(r"^```(?P<lang>[a-z]*)\s*$")

pytestmark = pytest.mark.slow


def _hooks():
    sys.path.insert(0, str(DOCS))
    try:
        return importlib.import_module("hooks")
    finally:
        sys.path.remove(str(DOCS))


def code_blocks(page: Path) -> list[tuple[str, str, str | None]]:
    """``(language, code, skip reason or None)`` for each fenced block of a page."""
    blocks: list[tuple[str, str, str | None]] = []
    lang, body, skip, why = None, [], None, None
    for line in page.read_text().splitlines():
        if lang is None:
            fence = FENCE.match(line)
            if fence:
                lang, body, skip, why = fence["lang"], [], why, None
                continue
            marker = SKIP.search(line)
            why = marker["why"] if marker else (why if not line.strip() else None)
        elif line.startswith("```"):
            blocks.append((lang, "\n".join(body), skip))
            lang = None
        else:
            body.append(line)
    return blocks


# Pages whose examples another test already runs as written (they train real frameworks'
# models; running them twice would only double the suite's time).
TESTED_ELSEWHERE = {
    "integrations/": ROOT / "tests" / "integrations" / "test_docs_examples.py",
    "task.md": ROOT / "tests" / "tasks" / "test_task_docs.py",
}
PAGES = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")
               if not p.relative_to(DOCS).as_posix().startswith(tuple(TESTED_ELSEWHERE)))


def test_pages_left_to_other_tests_are_run_there() -> None:
    for prefix, test in TESTED_ELSEWHERE.items():
        pages = sorted(DOCS.glob(prefix + "*.md" if prefix.endswith("/") else prefix))
        assert pages, f"no page matches {prefix}"
        source = test.read_text()
        assert "docs" in source and "python" in source, f"{test} does not run {prefix}"


def test_code_blocks_are_found() -> None:
    page = DOCS / "how-to" / "tune-distributed.md"
    blocks = code_blocks(page)
    assert [b[0] for b in blocks] == ["bash", "bash", "bash"]
    assert blocks[0][2] is None and "PostgreSQL" in (blocks[1][2] or "")


def _commands(code: str) -> list[list[str]]:
    """The ``lrkit ...`` commands of a shell block (continuations joined, comments dropped)."""
    joined = re.sub(r"\\\n\s*", " ", code)
    return [shlex.split(line, comments=True) for line in joined.splitlines()
            if line.strip().startswith("lrkit ")]


@pytest.mark.parametrize("page", PAGES)
def test_every_code_block_runs_as_written(page: str, tmp_path: Path) -> None:
    blocks = code_blocks(DOCS / page)
    for _, _, why in blocks:
        assert why is None or len(why) > 10, f"{page}: a skipped block must say why"
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT / "src"),
           "OMP_NUM_THREADS": "1"}
    python = "\n\n".join(code for lang, code, why in blocks if lang == "python" and not why)
    if python:
        run = subprocess.run([sys.executable, "-c", python], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, f"{page}: its Python examples fail:\n{run.stderr[-3000:]}"
    for lang, code, why in blocks:
        if lang not in ("bash", "console", "sh") or why:
            continue
        for argv in _commands(code):
            run = subprocess.run([str(LRKIT), *argv[1:]], cwd=tmp_path, env=env,
                                 capture_output=True, text=True, timeout=600)
            assert run.returncode == 0, f"{page}: `{shlex.join(argv)}` fails:\n{run.stderr}"


def test_every_public_name_has_a_docstring() -> None:
    missing = []
    for package in _hooks().api_packages():
        module = importlib.import_module(package)
        if not (module.__doc__ or "").strip():
            missing.append(package)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and not inspect.getdoc(obj):
                missing.append(f"{package}.{name}")
    assert not missing, f"public names without a docstring (the reference shows none): {missing}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "MPLBACKEND": "Agg", "NO_MKDOCS_2_WARNING": "1",
           "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
    build = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, f"mkdocs build --strict failed:\n{build.stderr[-4000:]}"
    return out


def test_site_builds_strictly_with_generated_reference(site: Path) -> None:
    import typer.main

    from lrkit.cli.app import app

    cli = (site / "reference" / "cli" / "index.html").read_text()
    for verb in typer.main.get_command(app).commands:
        assert f"lrkit {verb}" in cli
    spec = (site / "reference" / "schedule-spec" / "index.html").read_text()
    from lrkit.schedules import families

    for family in families():
        assert (site / "figures" / "schedules" / f"{family}.png").stat().st_size > 1000
        assert f"{family}.png" in spec
    assert "/api/calc" in (site / "reference" / "web-api" / "index.html").read_text()
    assert (site / "figures" / "rangetest.png").stat().st_size > 1000
    # nothing is fetched from another host: the site reads the same offline
    for page in site.rglob("*.html"):
        assert not re.search(r'<(?:link|script)[^>]*(?:href|src)="(?:https?:)?//',
                             page.read_text()), page
    for package in _hooks().api_packages():  # the nav lists a page for each package
        assert (site / "reference" / "api" / package / "index.html").exists()


@pytest.fixture
def served(site: Path) -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@pytest.mark.browser
def test_a_reader_finds_their_way_in_chromium(served: str, browser) -> None:
    page = browser.new_page()
    page.goto(served + "/")
    assert "Find, shape and debug the learning rate" in page.inner_text("article")
    page.click("text=First LR for your own model")
    page.wait_for_url("**/tutorials/first-lr/")
    assert page.locator("article img[alt*='range test']").count() == 1
    page.fill("input.md-search__input", "warmup")
    page.wait_for_selector(".md-search-result__item", timeout=20000)
    assert page.locator(".md-search-result__item").count() > 0
    page.close()
