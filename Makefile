PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint schema bench bench-quick clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/minzheng migrate
	$(BIN)/minzheng seed --demo --if-empty
	MINZHENG_DEMO=1 $(BIN)/minzheng serve --host 127.0.0.1 --port 8000

test: $(STAMP) lint
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check --no-cache minzheng tests conftest.py $(wildcard bench)
	$(BIN)/ruff format --check minzheng tests conftest.py $(wildcard bench)
	$(BIN)/mypy
	$(BIN)/lint-imports

schema: $(STAMP)
	$(BIN)/minzheng schema > schema.graphql

bench: $(STAMP)
	$(BIN)/python -m bench run --persons 1000000

bench-quick: $(STAMP)
	$(BIN)/python -m bench run --persons 10000 --quick

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache
