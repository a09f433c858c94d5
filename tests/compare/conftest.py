"""Fixtures of the compare tests: the search tests' throw-away PostgreSQL server."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "_lrkit_tune_fixtures", Path(__file__).resolve().parents[1] / "tune" / "conftest.py")
assert _spec is not None and _spec.loader is not None
_tune = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_tune)

# the same session fixture as tests/tune (initdb + pg_ctl on 127.0.0.1, removed at the end)
postgres_url = _tune.postgres_url
