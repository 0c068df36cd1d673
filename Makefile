PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint typecheck unit demo bench docs clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev,keras,torch,data,dask]'
	touch $(STAMP)

lint: install
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/python -m pytest -n 2 -q

test: lint typecheck unit

docs: install
	$(BIN)/python -m mlwarden.docs docs/rules

demo: install
	$(BIN)/python examples/build_artifacts.py
	-$(BIN)/mlwarden scan examples/project
	$(BIN)/mlwarden scan examples/project --format html --output examples/report.html --fail-on never
	@echo "HTML report written to examples/report.html"
	@test -s examples/.demo-key || (umask 077 && $(BIN)/python -c \
		"import secrets; print(secrets.token_hex(32))" > examples/.demo-key)
	@mkdir -p examples/redacted
	$(BIN)/mlwarden redact examples/project/data/customers.csv \
		--output examples/redacted/customers.csv --method hash --key-file examples/.demo-key
	@echo "--- before: examples/project/data/customers.csv"
	@head -3 examples/project/data/customers.csv
	@echo "--- after: examples/redacted/customers.csv"
	@head -3 examples/redacted/customers.csv

bench: install
	$(MAKE) -C benchmarks

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
