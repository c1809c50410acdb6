# The two commands a newcomer needs: `make demo` and `make test`.
# `make` creates the virtual environment in .venv from the lock when it is missing or stale.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOME_DIR ?= .riskwarn
DEMO := $(HOME_DIR)/demo
PERSONS ?= 100000
YEARS ?= 3
SEED ?= 7

.PHONY: venv test lint demo clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	rm -rf build/lint-site && $(BIN)/python -m pip install --quiet --no-deps --target build/lint-site . && \
	  cd build/lint-site && PYTHONPATH=. ../../$(BIN)/lint-imports --config ../../pyproject.toml

test: venv
	$(BIN)/python -m pytest -q

demo: venv
	@PATH="$(abspath $(BIN)):$$PATH" RISKWARN_HOME=$(abspath $(HOME_DIR)) bash scripts/demo.sh "$(DEMO)" $(PERSONS) $(YEARS) $(SEED)

clean:
	rm -rf $(HOME_DIR) build
