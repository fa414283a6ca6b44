"""The Menu API, loading from YAML, and the default menu's rate on parametric events."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from emulator.chain import load_chain
from emulator.errors import MenuError
from emulator.menu import Menu, ScoreCondition, load_menu
from emulator.pipeline import Pipeline
from emulator.rates import RateAccumulator
from streams.event import EventBatch
from streams.sources.parametric import ParametricConfig, ParametricSource

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MENU = ROOT / "configs" / "menus" / "cms2024.yaml"

MENU_YAML = """
name: small
columns: [tight, loose]
default_column: loose
seeds:
  - name: SingleEG20
    conditions: [{legs: [{type: egamma, pt_min: 20}]}]
  - name: SingleEG10
    prescale: {tight: 0, loose: 5}
    conditions: [{legs: [{type: egamma, pt_min: 10}]}]
  - name: HTT100
    conditions: [{sum: htt, min: 100}]
"""


@pytest.fixture
def small_menu(tmp_path: Path) -> Menu:
    path = tmp_path / "small.yaml"
    path.write_text(MENU_YAML)
    return load_menu(path)


def test_api(small_menu: Menu) -> None:
    assert small_menu.seed_names == ("SingleEG20", "SingleEG10", "HTT100")
    assert small_menu.columns == ("tight", "loose")
    assert small_menu.default_column == "loose"
    assert small_menu.prescales().tolist() == [1, 5, 1]
    assert small_menu.prescales("tight").tolist() == [1, 0, 1]
    assert small_menu.prescales().dtype == np.int64


def test_prescales_are_a_copy(small_menu: Menu) -> None:
    p = small_menu.prescales()
    p[:] = 99
    assert small_menu.prescales().tolist() == [1, 5, 1]


def test_unknown_column(small_menu: Menu) -> None:
    with pytest.raises(MenuError, match=r"small.yaml: no prescale column 'medium'"):
        small_menu.prescales("medium")


def test_evaluate_at_thresholds(small_menu: Menu) -> None:
    b = dict(EventBatch.empty(4).columns)
    b["eg_pt"][:, 0] = [40, 39, 20, 19]  # 20 GeV, 19.5 GeV, 10 GeV, 9.5 GeV
    b["htt"][:] = [200, 199, 0, 0]
    got = small_menu.evaluate(EventBatch(b))
    assert got.tolist() == [
        [True, True, True],
        [False, True, False],
        [False, True, False],
        [False, False, False],
    ]


def test_load_errors_are_menu_errors(tmp_path: Path) -> None:
    with pytest.raises(MenuError, match="cannot read"):
        load_menu(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("seeds: [unclosed\n")
    with pytest.raises(MenuError, match=r"bad\.yaml.*invalid YAML"):
        load_menu(bad)
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(MENU_YAML.replace("pt_min: 10", "pt_min: ten"))
    where = r"wrong\.yaml: seeds\[1\] \(SingleEG10\)\.conditions\[0\]\.legs\[0\]\.pt_min"
    with pytest.raises(MenuError, match=where):
        load_menu(wrong)


def test_hardware_export_is_json_ready(small_menu: Menu) -> None:
    hw = json.loads(json.dumps(small_menu.hardware()))
    assert hw["prescales"] == {"tight": [1, 0, 1], "loose": [1, 5, 1]}
    leg = hw["seeds"][0]["conditions"][0]["legs"][0]
    assert leg["pt_min"] == 40
    assert leg["collection"] == "egamma"
    assert hw["seeds"][2]["conditions"][0] == {"kind": "sum", "sum": "htt", "min": 200, "max": (1 << 62) - 1,
                                               "phi_windows": []}


def test_default_menu_content() -> None:
    menu = load_menu(DEFAULT_MENU)
    assert len(menu.seed_names) >= 15
    assert set(menu.columns) == {"2p0E34", "1p8E34", "1p6E34", "Emergency"}
    assert menu.default_column == "2p0E34"
    kinds = {type(c).__name__ for s in menu.config.seeds for c in s.conditions}
    assert "ScoreCondition" in kinds  # anomaly seeds (AXO_*, CICADA_*) on the chain's score columns
    assert {"ObjectCondition", "SumCondition", "AlwaysCondition"} <= kinds
    zb = menu.seed_names.index("L1_ZeroBias")
    for column in menu.columns:
        assert menu.prescales(column)[zb] > 1
    assert (menu.prescales("Emergency") == 0).any()


def test_default_menu_total_rate_on_parametric_mu60() -> None:
    """The cut-based seeds on ⟨μ⟩=60 parametric crossings through the whole chain: 20–150 kHz.

    The parametric source is a toy, not the detector emulation the anomaly models were trained on,
    so they flag much of it (CICADA VLoose: hundreds of kHz); the physics rates are tested on
    stitched Pythia zero bias (tests/test_calibrate_replay.py, docs/physics.md)."""
    chain = load_chain(ROOT / "configs" / "default.yaml")
    pipeline = Pipeline.from_chain(chain)
    menu = load_menu(DEFAULT_MENU)
    cut_based = np.array([not any(isinstance(c, ScoreCondition) for c in s.conditions) for s in menu.config.seeds])
    acc = RateAccumulator(menu.seed_names, np.where(cut_based, menu.prescales(), 0), n_bunches=2544,
                          f_rev_hz=11245.613)  # fmt: skip
    for batch in pipeline.run_source(ParametricSource(ParametricConfig(events=200_000, mu=60, seed=1)), 8192):
        acc.update(batch["seeds_raw"], batch["weight"], batch["pileup"])
    result = acc.result()
    assert 20.0 <= result["total_rate_khz"] <= 150.0, result["total_rate_khz"]
    assert result["total_rate_err_khz"] < 5.0
    assert result["seeds"]["L1_ZeroBias"]["count_raw"] == 200_000
