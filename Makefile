# Two commands do all the set-up on a fresh clone (see README):
#   make run    install into .venv, run suites/ultrasound.toml, write its report
#   make test   install into .venv with test extras, run the fast test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUITE ?= suites/ultrasound.toml
# worker processes for `make run`; each job trains with one thread, so any JOBS gives the same numbers
JOBS ?= 2

.PHONY: run test install

$(BIN)/bench: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,dask,serve]'
	touch $(BIN)/bench

install: $(BIN)/bench

run: install
	$(BIN)/bench run $(SUITE) --jobs $(JOBS)
	$(BIN)/bench report $(SUITE) --latex

test: install
	$(BIN)/python -m pytest
