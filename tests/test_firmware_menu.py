"""The menu as HLS C++: generated from templates, compiled with g++, bit-exact with Menu.evaluate.

Events are stressed so that every cut sits near its threshold (pT on threshold values, η/φ
spread over the full range, out-of-range quality/isolation values, negative sums), and a
menu exercises every condition kind. Three g++ compiles (~5 s each).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emulator.menu import Menu, load_menu
from firmware._menu_layout import menu_fields, pack_events, score_kind
from firmware.errors import BitExactError, FirmwareError, UnsupportedError
from firmware.gxx import compile_cpp
from firmware.menu_check import MenuCheck, check_menu, run_harness
from firmware.menu_writer import write_menu_hls
from streams.event import EventBatch
from streams.schema import COLLECTIONS, SUMS

_PTS = [0, 1, 5, 8, 9, 10, 14, 20, 24, 30, 36, 48, 60, 70, 72, 100, 120, 200, 220, 280, 300, 2047, -3]

ALL_CUTS = {
    "name": "allcuts", "columns": ["c"], "default_column": "c",
    "seeds": [
        {"name": "MuEtaWindow", "conditions": [{"legs": [
            {"type": "muon", "pt_min": 4, "eta_min": 0.5, "eta_max": 2.0, "quality": [4, 8, 12]}]}]},
        {"name": "EGIsoList", "conditions": [{"legs": [{"type": "egamma", "pt_min": 10, "iso": [0, 2],
                                                         "quality": 3}]}]},
        {"name": "TripleJet", "conditions": [{"legs": [{"type": "jet", "pt_min": 150}, {"type": "jet", "pt_min": 60},
                                                        {"type": "jet", "pt_min": 35}]}]},
        {"name": "QuadMixed", "conditions": [{"legs": [
            {"type": "jet", "pt_min": 100}, {"type": "egamma", "pt_min": 10}, {"type": "jet", "pt_min": 50},
            {"type": "egamma", "pt_min": 5}]}]},
        {"name": "MuMuSameDphi", "conditions": [{"legs": [{"type": "muon", "pt_min": 2}, {"type": "muon", "pt_min": 2}],
            "correlations": [{"legs": [0, 1], "charge": "same", "dphi_min": 0.3, "dphi_max": 2.5, "deta_min": 0.1}]}]},
        {"name": "MuMuMass", "conditions": [{"legs": [{"type": "muon", "pt_min": 3}, {"type": "muon", "pt_min": 3}],
            "correlations": [{"mass_max": 40, "mass_min": 5, "dr_min": 0.2, "charge": "opposite"}]}]},
        {"name": "MuJetDR", "conditions": [{"legs": [{"type": "muon", "pt_min": 5},
                                                      {"type": "jet", "pt_min": 30, "eta_max": 2.5}],
            "correlations": [{"dr_max": 0.8, "deta_max": 0.6}]}]},
        {"name": "TriCorr", "conditions": [{"legs": [{"type": "jet", "pt_min": 30}, {"type": "jet", "pt_min": 30},
                                                      {"type": "tau", "pt_min": 20}],
            "correlations": [{"legs": [0, 2], "dr_min": 1.0}, {"legs": [1, 0], "mass_min": 200, "dphi_max": 3.0}]}]},
        {"name": "SumWindow", "conditions": [{"sum": "htt", "min": 100, "max": 900}, {"sum": "etm", "min": 20}]},
        {"name": "ScoreF", "conditions": [{"score": "score_f", "min": 0.1}]},
        {"name": "ScoreI", "conditions": [{"score": "score_i", "min": 7.5}]},
        {"name": "Always", "conditions": [{"always": True}]},
    ],
}  # fmt: skip


def stress_batch(rng: np.random.Generator, n: int) -> EventBatch:
    """Objects on threshold values, η/φ over the full range, quality/iso beyond 15, negative sums."""
    cols = dict(EventBatch.empty(n).columns)
    for c in COLLECTIONS.values():
        shape = (n, c.size)
        eta = 300 if c.name == "muon" else 80
        cols[c.column("pt")] = rng.choice(_PTS, shape).astype(np.int16)
        cols[c.column("eta")] = rng.integers(-eta, eta, shape).astype(np.int16)
        cols[c.column("phi")] = rng.integers(0, c.phi_bins, shape).astype(np.int16)
        cols[c.column("iso")] = rng.integers(0, 18, shape).astype(np.uint8)
        cols[c.column("qual")] = rng.integers(0, 18, shape).astype(np.uint8)
        if c.name == "muon":
            cols[c.column("charge")] = rng.choice([-1, 0, 1], shape).astype(np.int8)
    for name in SUMS:
        cols[name] = rng.integers(-10, 4000, n).astype(np.int32)
    cols["score_f"] = rng.normal(0.1, 0.01, n).astype(np.float32)
    cols["score_i"] = rng.integers(0, 12, n).astype(np.int32)
    # the default menu's anomaly seeds: scores spread over their calibrated thresholds
    cols["score_axol1tl"] = rng.uniform(20.0, 40.0, n).astype(np.float32)
    cols["score_cicada"] = rng.uniform(-1.1, -0.8, n).astype(np.float32)
    return EventBatch(cols)


@pytest.fixture(scope="module")
def stress() -> EventBatch:
    return stress_batch(np.random.default_rng(3), 20_000)


@pytest.mark.hls4ml
def test_every_cut_kind_is_bit_exact(stress: EventBatch, tmp_path: Path) -> None:
    menu = Menu.from_dict(ALL_CUTS)
    check = check_menu(menu, stress, tmp_path)
    rates = menu.evaluate(stress).mean(axis=0)
    assert ((rates > 0.01) & (rates < 0.99)).sum() >= 10  # the events really probe the cuts
    assert (check.events, check.mismatches, check.first) == (20_000, 0, ())
    check.raise_if_mismatch()


@pytest.mark.hls4ml
def test_default_menu_is_bit_exact_on_stressed_events(stress: EventBatch, tmp_path: Path) -> None:
    check = check_menu(load_menu("configs/menus/cms2024.yaml"), stress, tmp_path)
    assert check.mismatches == 0
    assert (tmp_path / "build_prj.tcl").read_text().count("set_top l1emu_menu") == 1


@pytest.mark.hls4ml
def test_a_wrong_threshold_is_caught_and_named(stress: EventBatch, tmp_path: Path) -> None:
    menu = Menu.from_dict(ALL_CUTS)
    prj = write_menu_hls(menu, tmp_path, scores={"score_f": "float", "score_i": "int"})
    src = prj.source.read_text()
    assert "in.htt >= 200LL" in src
    prj.source.write_text(src.replace("in.htt >= 200LL", "in.htt >= 201LL"))
    exe = compile_cpp([prj.source, prj.testbench], tmp_path / "tb")
    got, want = run_harness(prj, exe, stress), menu.evaluate(stress)
    bad = np.flatnonzero((got != want).any(axis=1))
    assert bad.size > 0
    assert set(np.flatnonzero((got != want).any(axis=0))) == {menu.seed_names.index("SumWindow")}
    assert (stress["htt"][bad] == 200).all()
    check = MenuCheck(len(stress), int(bad.size), ((int(bad[0]), ("SumWindow",)),), str(tmp_path))
    with pytest.raises(BitExactError, match=r"event \d+: SumWindow"):
        check.raise_if_mismatch()


def test_record_layout_matches_the_struct(tmp_path: Path) -> None:
    fields = menu_fields({"score_f": "float"})
    batch = EventBatch.empty(2).with_columns(score_f=np.array([0.5, -1.0], np.float32))
    batch.columns["jet_pt"][1, 3] = 77
    words = pack_events(batch, fields)
    assert words.shape == (2, sum(f.count for f in fields)) == (2, 12 * 5 * 3 + 8 * 6 + 5 + 1)
    offset = sum(f.count for f in fields[: [f.column for f in fields].index("jet_pt")])
    assert words[1, offset + 3] == 77
    assert words[:, -1].astype(np.uint32).view(np.float32).tolist() == [0.5, -1.0]
    header = write_menu_hls(Menu.from_dict(ALL_CUTS), tmp_path, scores={"score_f": "float"}).header.read_text()
    assert "ap_int<16> jet_pt[12];" in header
    assert "float score_f;" in header


def test_unsupported_inputs_raise_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedError, match="dtype <U3"):
        score_kind(np.dtype("U3"))
    with pytest.raises(FirmwareError, match=r"score columns \['score_f', 'score_i'\]"):
        check_menu(Menu.from_dict(ALL_CUTS), EventBatch.empty(3), tmp_path)
