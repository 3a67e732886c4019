# The two commands of the README: `make demo` and `make test`. Both create the environment when missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck unit integration postgres golden e2e-airflow

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

DEMO_DB := .cache/demo/airflow.db

$(DEMO_DB): tests/fixtures/airflow/dumps/af33_sqlite.db.gz
	mkdir -p $(dir $@) && gunzip -c $< > $@

demo: $(STAMP) $(DEMO_DB)
	$(PY) -m bridge sync --config demo/bridge.yml --report out/report.json --graph out/lineage.json
	@echo "Wrote out/datahub.db (DataHub Lite), out/lineage.json (the joined graph), out/report.json."
	@echo "See every DAG and task with what it reads and writes:"
	@echo "  $(PY) -m bridge plan --config demo/bridge.yml"

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

# The bridge task inside real Airflow 3.3, 3.1 and 2.11 with real Cosmos (their venvs are made under .cache/ when
# missing, 80-280 s each); `make test` runs it too.
e2e-airflow: $(STAMP) postgres
	$(PY) -m pytest -n 2 --dist loadgroup tests/airflow_e2e

golden: $(STAMP)
	$(PY) -m pytest --update-golden -m "not integration"
