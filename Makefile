# Yishi: `make run` starts everything, `make test` runs every test. `make help` lists the rest.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
YISHI := $(VENV)/bin/yishi
SOURCES := $(shell find catalogue/sources -name '*.yaml' 2>/dev/null)
CATALOGUE := build/catalogue.db

.PHONY: help install catalogue check run test bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@echo "==> creating $(VENV) with Python 3.10 and installing (first time: about 2 minutes)"
	@test -x $(PY) || "$$(.ci/find-python310)" -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

install: $(VENV)/.installed  ## create .venv and install everything

$(CATALOGUE): $(VENV)/.installed $(SOURCES) $(wildcard catalogue/*.py)
	@echo "==> building the catalogue"
	@$(YISHI) catalogue build

catalogue: $(CATALOGUE)  ## validate the sources and build the SQLite catalogue

check: $(VENV)/.installed  ## validate the catalogue sources only
	@$(YISHI) catalogue check

run: $(CATALOGUE)  ## build what is needed and start the servers (Ctrl-C stops them)
	@scripts/run.sh

test: $(CATALOGUE)  ## every test: unit, data, API
	@$(PY) -m pytest

bench: $(CATALOGUE)  ## benchmarks (figures, not pass/fail)
	@$(PY) bench/catalogue_bench.py

clean:  ## remove built files (keeps .venv)
	rm -rf build results
