# castsight: two commands do all set-up on a fresh machine.
#   make demo   creates .venv, installs castsight, runs the main job on the embedded default
#   make test   installs the dev tools, runs lint, types, architecture contract and the whole suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# torch is only for training (teach extra); pin the CPU build on the machines' disk.
TORCH := torch==2.13.0

.PHONY: demo test lint install dev clean bench default-model

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

# the dev install includes the train extra (torch pinned, CPU build) so CI runs the whole teach path
$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev,train]' '$(TORCH)'
	touch $@

install: $(VENV)/.installed

dev: $(VENV)/.dev-installed

demo: install
	$(BIN)/castsight demo

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# pytest's exit 5 (no test collected) must fail, never pass silently.
test: lint
	$(BIN)/python -m pytest -q -p no:cacheprovider; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc

# rebuild the default learned model shipped in src/castsight/data/default-model (~15 min, 2 cores)
default-model: dev
	nice -n 10 $(BIN)/python tools/build_default_model.py --out src/castsight/data/default-model

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
