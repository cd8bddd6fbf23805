# Two commands do all the set-up on a fresh clone (see README):
#   make run    install into .venv, run suites/ultrasound.toml, write its report
#   make test   install into .venv with test extras, run the checks and the fast test suite
#   make check  ruff, the import-layer contracts and mypy (an architecture violation fails)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUITE ?= suites/ultrasound.toml
# worker processes for `make run`; each job trains with one thread, so any JOBS gives the same numbers
JOBS ?= 2

.PHONY: run test install check

$(BIN)/bench: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,dask,serve]'
	touch $(BIN)/bench

install: $(BIN)/bench

run: install
	$(BIN)/bench run $(SUITE) --jobs $(JOBS)
	$(BIN)/bench report $(SUITE) --latex

check: install
	$(BIN)/ruff check bench tests benchmarks scripts
	$(BIN)/lint-imports
	$(BIN)/mypy

test: check
	$(BIN)/python -m pytest
