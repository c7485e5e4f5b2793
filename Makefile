# Coffer: `make run` serves with demo data on SQLite; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test bench loadtest lock docs clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Coffer needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/coffer migrate --noinput
	$(BIN)/coffer seed_demo --url http://$(HOST):$(PORT)/
	$(BIN)/coffer serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	@for script in benchmarks/*.py; do [ -e "$$script" ] || continue; $(BIN)/python "$$script"; done

# Seeds PostgreSQL (coffer_loadtest), serves Coffer in production mode on 127.0.0.1 and runs locust; see docs/performance.md.
loadtest: install
	$(BIN)/python loadtest/run.py

docs: install
	$(BIN)/coffer api_docs --output docs/api.md

# Re-resolve the lock file after changing dependencies in pyproject.toml.
lock: install
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/python -m uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) var/test-*.sqlite3*
