# Two commands do all set-up on a fresh machine:
#   make run   - virtualenv, install, migrate the database, serve on 127.0.0.1:8000
#   make test  - virtualenv, install with test extras (they include the bench and vector extras), lint,
#                type-check, install Debian's chromium for the browser tests when missing,
#                run every test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# The web UI's browser tests drive Debian's chromium through Playwright.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint typecheck pytest install install-test migrate eval clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

migrate: install
	$(BIN)/facebank migrate

run: migrate
	$(BIN)/facebank serve

lint: install-test
	$(BIN)/ruff check facebank tests
	$(BIN)/lint-imports --no-cache

typecheck: install-test
	$(BIN)/mypy facebank

$(CHROMIUM):
	$(SUDO) apt-get install -y --no-install-recommends chromium || \
		{ $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium; }

pytest: install-test $(CHROMIUM)
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

eval: install
	$(BIN)/facebank eval ../shared/faces/people ../shared/faces/yale

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
