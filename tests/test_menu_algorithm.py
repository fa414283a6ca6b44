"""The ``menu`` algorithm: building from a chain context, seeds_raw, latency, chain wiring."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emulator.algorithm import Algorithm, BuildContext
from emulator.algorithms import get_algorithm
from emulator.chain import load_chain
from emulator.errors import MenuError
from emulator.menu import load_menu
from emulator.menu.algorithm import MenuAlgorithm
from emulator.pipeline import Pipeline
from streams.errors import ConfigError
from streams.event import EventBatch

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
DEFAULT_MENU = CONFIGS / "menus" / "cms2024.yaml"

SMALL = """
name: small
columns: [only]
default_column: only
seeds:
  - {name: SingleJet50, conditions: [{legs: [{type: jet, pt_min: 50}]}]}
  - {name: DiJetMass, conditions: [{legs: [{type: jet}, {type: jet}], correlations: [{mass_min: 100}]}]}
"""


def test_registered_and_satisfies_protocol() -> None:
    algo = get_algorithm("menu")("gt", {}, BuildContext(CONFIGS, menu_path=DEFAULT_MENU))
    assert isinstance(algo, Algorithm)
    assert algo.name == "gt"
    assert algo.outputs == ("seeds_raw",)


def test_params_menu_overrides_context(tmp_path: Path) -> None:
    (tmp_path / "small.yaml").write_text(SMALL)
    ctx = BuildContext(config_dir=tmp_path, menu_path=DEFAULT_MENU)
    algo = MenuAlgorithm.build("menu", {"menu": "small.yaml"}, ctx)
    assert algo.menu.seed_names == ("SingleJet50", "DiJetMass")


def test_needs_a_menu() -> None:
    with pytest.raises(MenuError, match="no menu"):
        MenuAlgorithm.build("menu", {}, BuildContext(CONFIGS))
    with pytest.raises(ConfigError, match="unknown field"):
        MenuAlgorithm.build("menu", {"menus": "x.yaml"}, BuildContext(CONFIGS, menu_path=DEFAULT_MENU))
    with pytest.raises(MenuError, match=r"nothere\.yaml"):
        MenuAlgorithm.build("menu", {"menu": "nothere.yaml"}, BuildContext(CONFIGS))


def test_process_appends_seeds_raw_in_menu_order(tmp_path: Path) -> None:
    (tmp_path / "small.yaml").write_text(SMALL)
    algo = MenuAlgorithm.build("menu", {}, BuildContext(tmp_path, menu_path=tmp_path / "small.yaml"))
    cols = dict(EventBatch.empty(3).columns)
    cols["jet_pt"][:, :2] = [[100, 0], [300, 300], [60, 40]]
    cols["jet_phi"][:, :2] = [[0, 0], [0, 72], [0, 0]]
    out = algo.process(EventBatch(cols))
    assert out["seeds_raw"].tolist() == [[True, False], [True, True], [False, False]]
    assert "jet_pt" in out  # inputs kept


def test_latency_estimate(tmp_path: Path) -> None:
    (tmp_path / "small.yaml").write_text(SMALL)
    small = MenuAlgorithm.build("menu", {}, BuildContext(tmp_path, menu_path=tmp_path / "small.yaml"))
    # compare (1) + mass pair logic (5) + AND (1) + OR of 2 seeds (1)
    assert small.latency_cycles(480.0) == 8
    full = MenuAlgorithm.build("menu", {}, BuildContext(CONFIGS, menu_path=DEFAULT_MENU))
    assert full.latency_cycles(480.0) == 1 + 5 + 1 + 2  # 22 seeds: two levels of 6-input ORs
    assert full.latency_cycles(480.0) <= 48  # the default chain's 100 ns at 480 MHz


def test_default_chain_global_trigger_stage() -> None:
    chain = load_chain(CONFIGS / "default.yaml")
    n_seeds = len(load_menu(DEFAULT_MENU).seed_names)
    out = Pipeline.from_chain(chain).run(EventBatch.empty(5))  # the menu reads earlier stages' scores
    assert out["seeds_raw"].shape == (5, n_seeds)
    assert out["seeds_raw"].dtype == np.bool_
    zb = load_menu(DEFAULT_MENU).seed_names.index("L1_ZeroBias")
    assert out["seeds_raw"][:, zb].all()
    assert out["seeds_raw"].sum() == 5
