# The two commands of the README: `make demo` and `make test`. Both create the environment when missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck unit integration postgres golden

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m bridge plan --manifest dbt_project/artifacts/snowflake/manifest.json

test: lint typecheck postgres
	$(PY) -m pytest -n 2 --dist loadgroup

lint: $(STAMP)
	$(PY) -m ruff check .

typecheck: $(STAMP)
	$(PY) -m mypy

postgres:
	scripts/ensure-postgres.sh

unit: $(STAMP)
	$(PY) -m pytest -m "not integration"

integration: $(STAMP) postgres
	$(PY) -m pytest -m integration

golden: $(STAMP)
	$(PY) -m pytest --update-golden -m "not integration"
