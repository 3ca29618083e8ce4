# CellClinic: `make run` starts the app with demo data; `make test` runs every check and test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# PostgreSQL for the second test pass (trust auth on these machines; Django creates test_<name>).
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_SQLITE_URL ?= sqlite:///$(CURDIR)/var/test.sqlite3
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install install-test run test lint check supply-chain test-sqlite test-postgres benchmark screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Test dependencies, and Debian's chromium for the browser tests (never a downloaded browser).
install-test: $(VENV)/.installed-test
	@if ! command -v chromium >/dev/null 2>&1; then \
		echo "Installing Debian's chromium for the browser tests…"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

run: install
	$(BIN)/cellclinic migrate --noinput
	$(BIN)/cellclinic demo --if-empty
	$(BIN)/cellclinic serve --host $(HOST) --port $(PORT)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check: install-test
	$(BIN)/cellclinic check --fail-level WARNING
	$(BIN)/cellclinic makemigrations --check --dry-run

test-sqlite: install-test
	DATABASE_URL=$(TEST_SQLITE_URL) $(BIN)/pytest

test-postgres: install-test
	DATABASE_URL=$(TEST_POSTGRES_URL) $(BIN)/pytest

# Supply chain: bandit over the shipped code (medium and high findings fail; an accepted one carries a
# `# nosec BXXX - reason` at its line), and pip-audit over the installed packages (README "Security").
supply-chain: install-test
	$(BIN)/bandit -r cellclinic scripts -q --severity-level medium -x '*/tests/*,*/migrations/*'
	$(BIN)/python scripts/audit_dependencies.py

test: lint check supply-chain test-sqlite test-postgres

benchmark: install
	$(BIN)/python scripts/benchmark.py

# Full-page PNGs of the main pages with demo data, at desktop and phone widths, into var/screenshots/.
screenshots: install-test
	$(BIN)/python scripts/screenshots.py --out var/screenshots

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
