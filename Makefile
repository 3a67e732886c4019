# The two commands of the README: `make demo` and `make test`. Both create the environment when missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck unit integration postgres chromium oidc-provider golden e2e-airflow

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m bridge demo

# The README's first command runs here too, so a broken demo fails the tests.
test: lint typecheck postgres chromium oidc-provider demo
	rm -f .coverage .coverage.*
	BRIDGE_COVERAGE_FILE=$(CURDIR)/.coverage $(PY) -m pytest -n 2 --dist loadgroup --cov --cov-report=
	@echo "coverage of bridge/ (every test, the command line in subprocesses included): $$($(PY) -m coverage report --format=total) %"

lint: $(STAMP)
	$(PY) -m ruff check .

typecheck: $(STAMP)
	$(PY) -m mypy

postgres:
	scripts/ensure-postgres.sh

chromium:
	scripts/ensure-chromium.sh

oidc-provider:
	scripts/ensure-oidc-provider.sh

unit: $(STAMP)
	$(PY) -m pytest -m "not integration"

integration: $(STAMP) postgres chromium oidc-provider
	$(PY) -m pytest -m integration

# The bridge task inside real Airflow 3.3, 3.1 and 2.11 with real Cosmos (their venvs are made under .cache/ when
# missing, 80-280 s each); `make test` runs it too.
e2e-airflow: $(STAMP) postgres
	$(PY) -m pytest -n 2 --dist loadgroup tests/airflow_e2e

# Every test that compares with a golden file, rewriting it: the plan text, the scenarios (PostgreSQL), the module
# lists each command loads, and the README's picture of the demo page (Chromium). Review the diff.
GOLDEN_TESTS := tests/unit/test_plan.py tests/scenarios tests/integration/cli/test_imports.py tests/integration/page

golden: $(STAMP) postgres chromium
	$(PY) -m pytest -n 2 --dist loadgroup --update-golden $(GOLDEN_TESTS)
