# The two commands of the README: `make demo` and `make test`. Both create the environment when missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck unit integration postgres chromium golden e2e-airflow

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m bridge demo

# The README's first command runs here too, so a broken demo fails the tests.
test: lint typecheck postgres chromium demo
	$(PY) -m pytest -n 2 --dist loadgroup

lint: $(STAMP)
	$(PY) -m ruff check .

typecheck: $(STAMP)
	$(PY) -m mypy

postgres:
	scripts/ensure-postgres.sh

chromium:
	scripts/ensure-chromium.sh

unit: $(STAMP)
	$(PY) -m pytest -m "not integration"

integration: $(STAMP) postgres chromium
	$(PY) -m pytest -m integration

# The bridge task inside real Airflow 3.3, 3.1 and 2.11 with real Cosmos (their venvs are made under .cache/ when
# missing, 80-280 s each); `make test` runs it too.
e2e-airflow: $(STAMP) postgres
	$(PY) -m pytest -n 2 --dist loadgroup tests/airflow_e2e

golden: $(STAMP)
	$(PY) -m pytest --update-golden -m "not integration"
