"""docs/schedules.md documents every family, and every spec it quotes is valid."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lrkit.schedules import families, parse

DOC = Path(__file__).resolve().parents[2] / "docs" / "schedules.md"
ALIASES = {"linear": "polynomial", "piecewise_factors": "piecewise"}


@pytest.fixture(scope="module")
def text() -> str:
    return DOC.read_text(encoding="utf-8")


def test_every_family_and_alias_has_a_section(text):
    headings = " ".join(re.findall(r"^### (.+)$", text, flags=re.MULTILINE))
    words = set(re.findall(r"[a-z0-9_]+", headings))
    missing = [name for name in [*families(), *ALIASES] if name not in words]
    assert not missing, f"add a section to docs/schedules.md for {missing}"


def test_every_quoted_spec_builds_a_schedule(text):
    specs = re.findall(r"^\* Spec: `(.+)`$", text, flags=re.MULTILINE)
    built = {type(parse(spec)).family for spec in specs}
    assert set(families()) <= built | {"join"}, sorted(set(families()) - built)
    assert len(specs) >= len(families())
