"""Every docs/integrations page runs as written: its python blocks, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs" / "integrations"
PAGES = sorted(DOCS.glob("*.md"))
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def test_every_framework_has_a_page():
    assert {p.stem for p in PAGES} >= {"torch", "lightning", "transformers", "keras"}


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_page_examples_run(page, tmp_path, monkeypatch):
    pytest.importorskip("torch")
    blocks = BLOCK.findall(page.read_text())
    assert blocks, f"{page.name} has no python example"
    monkeypatch.chdir(tmp_path)  # whatever an example writes lands here
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for i, code in enumerate(blocks):
        exec(compile(code, f"{page.name}[block {i}]", "exec"), namespace)
