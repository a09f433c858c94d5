# The two set-up commands of the README. Both create .venv if it is missing and install
# the project into it with the pinned constraints (torch stays the CPU build).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt

.PHONY: demo test lint typecheck docs docs-serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-all: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e '.[all]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e '.[all,dev]'
	touch $@ $(VENV)/.installed-all

# The main job: one LR recommendation for the default built-in task, with its HTML report.
demo: $(VENV)/.installed-all
	$(BIN)/lrkit auto --task digits-mlp --report lrkit-report

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks

# mypy on src/lrkit ([tool.mypy] files), then on the benchmark scripts that make every
# table: one run per folder, as each folder's scripts import each other by bare name (and
# two folders have modules of the same name); archive/ folders (frozen studies) are left out.
# MYPYPATH=src: lrkit is this checkout's, whichever checkout the venv's editable install is.
typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy
	@for d in benchmarks/*/; do \
		ls $$d*.py >/dev/null 2>&1 || continue; \
		echo "mypy $$d"; \
		MYPYPATH=src $(BIN)/mypy $$d*.py || { echo "typecheck failed in $$d" >&2; exit 1; }; \
	done

# Everything: ruff, mypy and the whole suite (real training, headless Chromium, PostgreSQL).
test: lint typecheck
	$(BIN)/python -m pytest

# The fast tier while you work: ruff and mypy (both gate CI), then every test not marked
# slow (real training runs), browser (Chromium) or postgres, on all cores. CI and
# `make test` still run all.
FAST_TIER := not slow and not browser and not postgres
test-fast: lint typecheck
	$(BIN)/python -m pytest -q -n auto -m "$(FAST_TIER)"

# The documentation site (MkDocs Material + mkdocstrings): built strictly into site/; the
# reference pages and figures are generated from the code by docs/hooks.py. `make test`
# builds it too (tests/docs), runs every example on its pages and opens it in Chromium.
docs: $(VENV)/.installed-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

docs-serve: $(VENV)/.installed-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache lrkit-report site
