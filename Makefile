PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint schema bench bench-quick bench-profile clean

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

# Everything: 10k/100k/1M persons on SQLite and on PostgreSQL ($$BENCH_POSTGRES, or the
# throwaway cluster of scripts/pgtest.sh); writes bench/RESULTS.md and bench/results.json.
bench: $(STAMP)
	$(BIN)/python -m bench run --persons 1000000 \
		--postgres "$${BENCH_POSTGRES:-$$(bash scripts/pgtest.sh start)}"

bench-quick: $(STAMP)
	$(BIN)/python -m bench run --persons 10000 --quick

# Where one query's time goes: make bench-profile Q=2_township_households [PERSONS=1000000]
# [POSTGRES=url]; writes bench/out/profile-$(Q).md
Q ?= 2_township_households
PERSONS ?= 10000
bench-profile: $(STAMP)
	$(BIN)/python -m bench profile $(Q) --persons $(PERSONS) $(if $(POSTGRES),--postgres $(POSTGRES)) \
		--out bench/out/profile-$(Q).md

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache
