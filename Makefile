# castsight: two commands do all set-up on a fresh machine.
#   make demo   creates .venv, installs castsight, runs the main job on the embedded default
#   make test   installs the dev tools, runs lint, types, architecture contract and the whole suite
#   make bench  the standard benchmark (docs/bench.md), figures into BENCHMARKS.md
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# torch is only for training (teach extra); pin the CPU build on the machines' disk.
TORCH := torch==2.13.0

.PHONY: demo test lint install dev clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
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

# The standard benchmark from scratch (docs/bench.md): about 15-25 min on 2 cores;
# writes out/bench/standard/ and the generated section of BENCHMARKS.md.
bench: install
	$(BIN)/castsight bench --suite standard --fresh

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
