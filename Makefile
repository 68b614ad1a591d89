# Yishi: `make run` starts everything, `make test` runs every test. `make help` lists the rest.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
YISHI := $(VENV)/bin/yishi
RASA := RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1 $(VENV)/bin/rasa
SOURCES := $(shell find catalogue/sources -name '*.yaml' 2>/dev/null)
CATALOGUE := build/catalogue.db
RASA_ARGS := --config bot/config.yml --domain build/rasa/domain

.PHONY: help install browser catalogue check model run test test-fast test-unit test-rasa lint eval bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@echo "==> creating $(VENV) with Python 3.10 and installing (first time: about 2 minutes)"
	@test -x $(PY) || "$$(.ci/find-python310)" -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

install: $(VENV)/.installed  ## create .venv and install everything

browser:  ## Debian's Chromium and CJK fonts for the browser tests (apt, once)
	@scripts/install-browser.sh

$(CATALOGUE): $(VENV)/.installed $(SOURCES) $(wildcard catalogue/*.py assistant/*.py assistant/*.yaml) bot/domain.yml
	@echo "==> building the catalogue"
	@$(YISHI) catalogue build

catalogue: $(CATALOGUE)  ## validate the sources; build the catalogue, jieba dictionary and Rasa data

check: $(VENV)/.installed  ## validate the catalogue sources only
	@$(YISHI) catalogue check

model: $(CATALOGUE)  ## train the Rasa model when its inputs changed
	@scripts/train.sh

run: model  ## build and train what is needed, start all servers (Ctrl-C stops them)
	@scripts/run.sh

test: lint test-rasa test-unit  ## every test: lint, unit, data, API, Rasa data and conversations, end to end

test-fast: $(CATALOGUE)  ## the unit, data and API tests: no trained model, no browser, under a minute
	@$(PY) -m pytest -m "not slow" -q

test-unit: model browser
	@$(PY) -m pytest

lint: $(VENV)/.installed  ## ruff over every Python file (configured in pyproject.toml)
	@$(VENV)/bin/ruff check .

test-rasa: model
	@echo "==> rasa data validate"
	@$(PY) scripts/validate_rasa.py
	@echo "==> conversation tests (rasa test core)"
	@$(RASA) test core --model models/yishi.tar.gz --stories evaluation/conversations --fail-on-prediction-errors \
	  --out results/conversations --quiet
	@echo "==> conversation tests: every story passed"

eval: model  ## held-out NLU evaluation (evaluation/heldout.yml)
	@TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1 $(PY) -m ops.evaluate

bench: model  ## benchmarks (figures, not pass/fail); BENCH_ARGS="--repeat 5 --skip-training" for more 20-user runs
	@$(PY) bench/catalogue_bench.py
	@$(PY) bench/chat_bench.py $(BENCH_ARGS)
	@$(PY) bench/web_bench.py
	@$(PY) bench/console_bench.py
	@$(PY) bench/city_bench.py

clean:  ## remove built files (keeps .venv and models)
	rm -rf build results
