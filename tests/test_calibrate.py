"""Operating-point calibration: thresholds, their errors, the generated menu block, the CLI."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator import calibrate as cal
from emulator.menu import load_menu
from l1emu.cli import main
from streams.errors import ConfigError
from streams.event import EventBatch
from streams.hdf5 import write_batches

ROOT = Path(__file__).resolve().parents[1]
MENU = ROOT / "configs" / "menus" / "cms2024.yaml"


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 60), min_size=20, max_size=400), st.floats(0.5, 200.0))
def test_threshold_passes_at_most_the_target(values: list[int], target: float) -> None:
    s = np.asarray(values, np.float64) / 4  # discrete scores: ties are common
    w = np.ones_like(s)
    op = cal.operating_point(s, w, "X", target, crossing_rate_khz=1000.0)
    allowed = target / 1000.0 * len(s)
    assert op.n_pass == int((s >= op.threshold).sum())
    assert op.n_pass <= allowed + 1e-9
    assert op.rate_khz <= target + 1e-9
    # the next lower distinct score would exceed the target: the threshold is the lowest allowed
    lower = s[s < op.threshold]
    if lower.size:
        assert (s >= lower.max()).sum() > allowed
    assert op.threshold_lo <= op.threshold <= op.threshold_hi
    looser = cal.operating_point(s, w, "X", target * 2, crossing_rate_khz=1000.0)
    assert looser.threshold <= op.threshold


def test_threshold_error_shrinks_with_statistics() -> None:
    rng = np.random.default_rng(1)
    errs = []
    for n in (20_000, 2_000_000):
        s = rng.exponential(1.0, n)
        op = cal.operating_point(s, np.ones(n), "X", 10.0, crossing_rate_khz=1000.0)
        assert op.threshold == pytest.approx(-math.log(0.01), abs=5 * op.threshold_err + 0.02)
        assert op.rate_err_khz == pytest.approx(math.sqrt(op.n_pass) / n * 1000.0)
        errs.append(op.threshold_err)
    assert errs[1] < errs[0] / 5


def test_weights_and_nan_scores() -> None:
    s = np.array([5.0, 4.0, np.nan, 3.0])
    op = cal.operating_point(s, np.array([1.0, 3.0, 50.0, 1.0]), "X", 200.0, crossing_rate_khz=1000.0)
    assert op.n_pass == 3
    assert op.threshold == 3.0
    tight = cal.operating_point(s, np.array([1.0, 3.0, 50.0, 1.0]), "X", 50.0, crossing_rate_khz=1000.0)
    assert tight.n_pass == 1
    assert tight.threshold == 4.5


def test_efficiency() -> None:
    eff, err = cal.efficiency(np.array([1.0, 2.0, 3.0, np.nan]), np.ones(4), 2.0)
    assert eff == 0.5
    assert err == pytest.approx(0.25)


def test_parse_targets_errors() -> None:
    assert cal.parse_targets("A=1,B=2.5") == {"A": 1.0, "B": 2.5}
    for bad in ("A", "A=x", "A=-1", "=3", ""):
        with pytest.raises(ConfigError, match="--targets"):
            cal.parse_targets(bad)


def _ops() -> list[cal.OperatingPoint]:
    s = np.arange(10_000, dtype=np.float64)
    return [cal.operating_point(s, np.ones_like(s), f"AXO_{n}", r, crossing_rate_khz=1000.0, column="score_axol1tl")
            for n, r in (("Loose", 10.0), ("Tight", 1.0))]  # fmt: skip


def test_menu_block_is_inserted_then_replaced(tmp_path: Path) -> None:
    path = tmp_path / "menu.yaml"
    text = MENU.read_text()
    stripped = text
    if cal.BLOCK_BEGIN in text:
        stripped = cal.write_menu_block(text, "")
    first = cal.write_menu_block(stripped, cal.menu_block(_ops(), "test"))
    assert first.count(cal.BLOCK_BEGIN) == 1
    assert "# Muon quality: 12 = single-muon quality" in first  # comments outside survive
    assert first.index(cal.BLOCK_BEGIN) < first.index("- name: L1_ZeroBias")
    again = cal.write_menu_block(first, cal.menu_block(_ops()[:1], "again"))
    assert again.count(cal.BLOCK_BEGIN) == 1
    assert "AXO_Tight" not in again
    assert "AXO_Loose" in again
    path.write_text(again)
    menu = load_menu(path)
    assert "AXO_Loose" in menu.seed_names
    assert "L1_ZeroBias" in menu.seed_names


def test_unclosed_block_is_an_error() -> None:
    with pytest.raises(ConfigError, match="never closed"):
        cal.write_menu_block(f"seeds:\n{cal.BLOCK_BEGIN}\n  - name: X\n", "")


def test_signal_figures() -> None:
    zb = {"score_axol1tl": np.arange(100_000.0), "weight": np.ones(100_000)}
    sig = {"score_axol1tl": np.array([99_999.5, 10.0, 99_995.0, 5.0]), "weight": np.ones(4)}
    ops = [cal.operating_point(zb["score_axol1tl"], zb["weight"], "AXO_T", 10.0, crossing_rate_khz=1000.0,
                               column="score_axol1tl")]  # fmt: skip
    fig = cal.signal_figures(ops, zb, {"s": sig}, crossing_rate_khz=1000.0, fpr=1e-5)
    assert fig["s"]["operating_points"]["AXO_T"]["efficiency"] == 0.5
    assert fig["s"]["at_fpr"]["score_axol1tl"]["zb_pass"] == 1
    assert fig["s"]["at_fpr"]["score_axol1tl"]["efficiency"] == 0.25


def test_cli_writes_menu_and_report(tmp_path: Path, zb_batch: EventBatch) -> None:
    src = tmp_path / "zb.h5"
    write_batches(src, [zb_batch])
    menu = tmp_path / "menu.yaml"
    shutil.copy(MENU, menu)
    report = tmp_path / "cal.json"
    rc = main(["calibrate", "--config", str(ROOT / "configs" / "default.yaml"), "--source", str(src),
               "--targets", "Loose=500,Tight=100", "--signal", str(src), "--menu", str(menu),
               "--report", str(report)])  # fmt: skip
    assert rc == 0
    doc = json.loads(report.read_text())
    ops = {op["seed"]: op for op in doc["operating_points"]}
    assert set(ops) == {"L1_AXO_Loose", "L1_AXO_Tight", "L1_CICADA_Loose", "L1_CICADA_Tight"}
    crossing = doc["crossing_rate_khz"]
    for op in ops.values():
        assert op["rate_khz"] <= op["target_khz"]
        assert op["n_pass"] >= int(op["target_khz"] / crossing * len(zb_batch)) - 3
    loaded = load_menu(menu)
    assert {"L1_AXO_Loose", "L1_CICADA_Tight"} <= set(loaded.seed_names)
    assert doc["signals"]["zb"]["operating_points"]["L1_AXO_Loose"]["efficiency"] == pytest.approx(
        ops["L1_AXO_Loose"]["n_pass"] / len(zb_batch))
