# castsight: two commands do all set-up on a fresh machine.
#   make demo   creates .venv, installs castsight, runs the main job on the embedded default
#   make test   installs the dev tools, runs lint, types, architecture contract and the whole suite
#   make bench  the standard benchmark (docs/bench.md), figures into BENCHMARKS.md
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# torch is only for training (teach extra); pin the CPU build on the machines' disk.
TORCH := torch==2.13.0

.PHONY: demo test lint install dev clean bench default-model peer-env peer-test browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

# the dev install includes the train extra (torch pinned, CPU build) so CI runs the whole teach
# path, and the station extra (web, store, signals) so CI runs the station against the real
# PostgreSQL and Mosquitto
$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev,train,station]' '$(TORCH)'
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

# Debian's chromium for the review UI's browser test (Playwright drives it; never
# `playwright install`, which downloads a browser of its own). Installed when missing.
CHROMIUM := /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || { \
	  command -v apt-get >/dev/null || { echo "make: no $(CHROMIUM) and no apt-get: install chromium" >&2; exit 1; }; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

# pytest's exit 5 (no test collected) must fail, never pass silently.
test: lint browser
	$(BIN)/python -m pytest -q -p no:cacheprovider; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc

# rebuild the default learned model shipped in src/castsight/data/default-model on this CPU
# (~20 min on 2 cores; the shipped one was trained on a GPU: see tools/build_default_model.py)
default-model: dev
	nice -n 10 $(BIN)/python tools/build_default_model.py --out src/castsight/data/default-model

# The peer detector's own venv (benchmarks/peer/run_peer.py): Ultralytics YOLO11n trained from
# its model YAML. Kept out of .venv and CI; torch/torchvision first (the pair on this machine's
# disk; PyPI's torchvision does not work beside torch 2.13.0), then the 'peer' extra.
PEER_VENV := .venv-peer
PEER_TORCH := torch==2.14.1 torchvision==0.29.1

$(PEER_VENV)/bin/python:
	$(PYTHON) -m venv $(PEER_VENV)
	$(PEER_VENV)/bin/python -m pip install -q --upgrade pip

$(PEER_VENV)/.installed: pyproject.toml | $(PEER_VENV)/bin/python
	$(PEER_VENV)/bin/python -m pip install -q $(PEER_TORCH)
	$(PEER_VENV)/bin/python -m pip install -q $(PEER_TORCH) -e '.[peer]'
	YOLO_CONFIG_DIR=$(PEER_VENV)/ultralytics-config YOLO_OFFLINE=true $(PEER_VENV)/bin/python -c \
	  "import torch, torchvision, ultralytics, onnx, onnxruntime; print('peer-env: torch', torch.__version__, 'ultralytics', ultralytics.__version__)"
	touch $@

peer-env: $(PEER_VENV)/.installed

# The peer's tests with ultralytics and onnxruntime present (they skip in .venv and CI).
peer-test: peer-env
	$(PEER_VENV)/bin/python -m pip install -q pytest
	$(PEER_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/peer

# The standard benchmark from scratch (docs/bench.md): about 15-25 min on 2 cores;
# writes out/bench/standard/ and the generated section of BENCHMARKS.md.
bench: install
	$(BIN)/castsight bench --suite standard --fresh

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
