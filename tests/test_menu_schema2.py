"""The seeds schema 2 made evaluable, on hand-made events at the edges of their cuts: the muon
track-finder index, unconstrained pT and impact parameter, the displaced-jet flag, muon showers,
CMS's AXO operating points and a muon at bx −1 (values worked out in the comments)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from emulator.errors import MenuError
from emulator.menu import Menu
from emulator.menu._anomaly_points import DEFAULT_MENU, resolve_axo
from emulator.menu._config import parse_menu
from emulator.menu._xml import read_tmxsd
from emulator.menu.convert import menu_to_xml
from firmware.errors import UnsupportedError
from firmware.menu_writer import write_menu_hls
from streams.event import EventBatch

# the 2024 menu's definitions (cuts.csv), as the tm-reporter gives them
CUTS: dict[str, dict[str, Any]] = {
    "MU-INDEX_BMTF": {"object": "MU", "type": "INDEX", "minimum": 36, "maximum": 71},
    "MU-INDEX_EMTF_POS": {"object": "MU", "type": "INDEX", "minimum": 0, "maximum": 17},
    "MU-INDEX_EMTF_NEG": {"object": "MU", "type": "INDEX", "minimum": 90, "maximum": 107},
    "MU-UPT_6": {"object": "MU", "type": "UPT", "minimum": 6, "maximum": 255},
    "MU-IP_123": {"object": "MU", "type": "IP", "data": "1,2,3"},
    "MU-QLTY_SNGL": {"object": "MU", "type": "QLTY", "data": "12,13,14,15"},
    "MU-ETA_1p2": {"object": "MU", "type": "ETA", "minimum": -1.202, "maximum": 1.202},
    "MU-PHI_TOP120": {"object": "MU", "type": "PHI", "minimum": 0.524, "maximum": 2.618},
    "MU-PHI_BOTTOM120": {"object": "MU", "type": "PHI", "minimum": 3.665, "maximum": 5.76},
    "DPHI_DPHI_MIN2p618_MAX3p142": {"type": "DPHI", "minimum": 2.618, "maximum": 3.142},
    "JET-DISP_LLP": {"object": "JET", "type": "DISP", "data": "1"},
    "AXO-MODEL_v4": {"object": "AXO", "type": "MODEL", "data": "v4"},
    "AXO-MODEL_v3": {"object": "AXO", "type": "MODEL", "data": "v3"},
    "AXO-SCORE_Nominal": {"object": "AXO", "type": "SCORE", "minimum": 415.0},
    "AXO-SCORE_Odd": {"object": "AXO", "type": "SCORE", "minimum": 400.0},
}
CDC = ("dist{MU3-1[MU-ETA_1p2, MU-PHI_TOP120, MU-QLTY_SNGL], MU3[MU-ETA_1p2, MU-PHI_BOTTOM120, MU-QLTY_SNGL]}"
       "[DPHI_DPHI_MIN2p618_MAX3p142]")  # fmt: skip


def utm_menu(**seeds: str) -> Menu:
    return Menu.from_dict({"name": "t", "columns": ["c"], "default_column": "c", "cuts": CUTS,
                           "seeds": [{"name": n, "expression": e} for n, e in seeds.items()]})  # fmt: skip


def events(n: int, **cols: Any) -> EventBatch:
    """``n`` events; a list value sets slot 0 (or the scalar) of event k to value k."""
    b = {k: np.array(v) for k, v in EventBatch.empty(n).columns.items()}
    if any(name.startswith("bxm1_") for name in cols):  # the previous crossing's muons, all fields
        b |= {f"bxm1_{k}": np.zeros_like(v) for k, v in b.items() if k.startswith("mu_") and v.ndim == 2}
    for name, values in cols.items():
        arr = b[name]
        if arr.ndim == 1:
            arr[:] = values
        else:
            arr[:, 0] = values
    return EventBatch(b)


def decide(menu: Menu, batch: EventBatch) -> list[list[bool]]:
    got = menu.evaluate(batch)
    assert np.array_equal(got, menu.evaluate_reference(batch))  # the compiled program and numpy agree
    return got.T.tolist()


def test_track_finder_index_ranges_or_and_stop_at_their_edges() -> None:
    m = utm_menu(B="MU0[MU-INDEX_BMTF, MU-QLTY_SNGL]", E="MU0[MU-INDEX_EMTF_POS, MU-INDEX_EMTF_NEG]")
    idx = [0, 17, 18, 35, 36, 71, 72, 89, 90, 107]
    b, e = decide(m, events(len(idx), mu_pt=1, mu_qual=12, mu_tfindex=idx))
    assert b == [False, False, False, False, True, True, False, False, False, False]
    assert e == [True, True, False, False, False, False, False, False, True, True]


def test_unconstrained_pt_and_impact_parameter_at_their_edges() -> None:
    # MU-UPT_6: uPT >= 6 GeV is hwUpt >= 6 (1 GeV LSB), up to 255; MU-IP_123: IP classes 1, 2, 3
    m = utm_menu(U="MU0[MU-UPT_6]", I="MU0[MU-IP_123, MU-UPT_6]", D="comb{MU0[MU-UPT_6], MU0[MU-UPT_6]}")
    u, i, _ = decide(m, events(5, mu_pt=1, mu_upt=[5, 6, 255, 6, 6], mu_ip=[3, 0, 0, 1, 3]))
    assert u == [False, True, True, True, True]
    assert i == [False, False, False, True, True]
    two = events(3, mu_pt=1, mu_upt=6)
    two.columns["mu_pt"][:, 1] = 1
    two.columns["mu_upt"][:, 1] = [5, 6, 0]
    assert decide(m, two)[2] == [False, True, False]


def test_displaced_jet_flag_and_muon_shower_bits() -> None:
    m = utm_menu(J="JET40[JET-DISP_LLP] AND HTT120", S0="MUS0", S1="MUS1", S2="MUS2", O="MUSOOT1")
    j, s0, s1, s2, o = decide(m, events(4, jet_pt=80, htt=240, jet_disp=[0, 1, 1, 0], mu_shower=[0, 1, 6, 16]))
    assert j == [False, True, True, False]
    assert (s0, s1, s2, o) == ([False, True, False, False], [False, False, True, False],
                               [False, False, True, False], [False, False, False, True])  # fmt: skip
    assert m.hw_seeds[0].conditions[0].legs[0].disp == 1  # type: ignore[union-attr]


def test_axo_operating_point_resolves_to_l1emu_calibrated_point_of_the_same_name() -> None:
    column, threshold = resolve_axo("v4", "Nominal")  # type: ignore[misc]
    assert column == "score_axol1tl"
    assert f"min: {threshold:g}" in DEFAULT_MENU.read_text().split("L1_AXO_Medium", 1)[1][:200]
    m = utm_menu(N="AXO[AXO-MODEL_v4, AXO-SCORE_Nominal]", V="AXO[AXO-MODEL_v3, AXO-SCORE_Nominal]",
                 O="AXO[AXO-MODEL_v4, AXO-SCORE_Odd]")  # fmt: skip
    below = float(np.nextafter(np.float32(threshold), np.float32(0)))
    batch = events(3, mu_pt=0).with_columns(score_axol1tl=np.array([below, threshold, 415.0], np.float32))
    assert decide(m, batch)[0] == [False, True, True]  # l1emu's threshold, never CMS's 415 on l1emu's scale
    assert "model 'v3' has no l1emu counterpart" in m.unsupported["V"]
    assert "operating point 'Odd' has no l1emu counterpart" in m.unsupported["O"]


def test_muon_at_bx_minus_one_reads_the_previous_crossing_and_never_the_central_one() -> None:
    m = utm_menu(C=CDC)
    assert m.unsupported == {}
    # muon φ LSB 2π/576: TOP120 = bins 49..240, BOTTOM120 = 336..528; Δφ in [2.618, 3.142] rad is
    # [ceil(240.0006), floor(288.04)] = 241..288 bins
    phi_prev = 100
    phi_now = [340, 341, 388, 341]  # Δφ 240 (fails), 241, 288 (pass), 241 without a bx −1 muon
    cols = {"mu_pt": 7, "mu_qual": 12, "mu_phi": phi_now, "bxm1_mu_pt": [7, 7, 7, 0], "bxm1_mu_qual": 12,
            "bxm1_mu_phi": phi_prev}  # fmt: skip
    assert decide(m, events(4, **cols))[0] == [False, True, True, False]  # no bx −1 muon: no fire
    central_only = events(4, **{k: v for k, v in cols.items() if not k.startswith("bx")})
    central_only.columns["mu_pt"][:, 1] = 7  # a second central muon in TOP120 would pass as bx 0: it must not count
    central_only.columns["mu_phi"][:, 1] = phi_prev
    central_only.columns["mu_qual"][:, 1] = 12
    assert decide(m, central_only)[0] == [False] * 4
    assert "bxm1_mu_pt" in m.missing_inputs(central_only)["C"]
    assert m.missing_inputs(events(1, bxm1_mu_pt=0)) == {}


def test_schema2_cuts_survive_yaml_utm_yaml_and_firmware_names_them() -> None:
    native = Menu.from_dict({"name": "n", "columns": ["c"], "default_column": "c", "seeds": [
        {"name": "A", "conditions": [{"legs": [{"type": "muon", "upt_min": 6, "upt_max": 255, "ip": [1, 2, 3],
                                                "index": [[36, 71]]},
                                               {"type": "muon", "pt_min": 3, "bx": -1}],
                                      "correlations": [{"dphi_min": 2.618, "dphi_max": 3.15}]}]},
        {"name": "B", "conditions": [{"legs": [{"type": "jet", "pt_min": 40, "displaced": True}]},
                                     {"signal": "MUS1"}]},
    ]})  # fmt: skip
    text, skipped = menu_to_xml(native.config)
    assert skipped == []
    again = Menu(parse_menu(read_tmxsd(text, source="x.xml"), where="x.xml"))
    assert [s.conditions for s in again.config.seeds] == [s.conditions for s in native.config.seeds]
    assert again.config.seeds[0].utm is not None
    assert "MU3-1" in again.config.seeds[0].utm.expression
    with pytest.raises(UnsupportedError, match=r"seed 0 \(A\): muon UPT/IP/INDEX cuts"):
        write_menu_hls(native, "/nonexistent")
    with pytest.raises(MenuError, match="bx: only muons of other crossings"):
        Menu.from_dict({"name": "x", "columns": ["c"], "default_column": "c",
                        "seeds": [{"name": "J", "conditions": [{"legs": [{"type": "jet", "bx": -1}]}]}]})  # fmt: skip


def test_mass_inv_upt_uses_the_unconstrained_pt_at_its_edge() -> None:
    # two muons back to back at η = 0 (Δφ = 288 bins = π): M² = 2·uPT₁·uPT₂·(1 − cos π) = 4·uPT₁·uPT₂;
    # uPT 5 and 5 GeV: M = 10 GeV exactly, uPT 5 and 4: M = 8.94 GeV (fails MASSUPT ≥ 10), pT ignored
    cuts = CUTS | {"MASSUPT_10": {"type": "MASSUPT", "minimum": 10.0, "maximum": 151982.0}}
    m = Menu.from_dict({"name": "t", "columns": ["c"], "default_column": "c", "cuts": cuts,
                        "seeds": [{"name": "U", "expression": "mass_inv_upt{MU0, MU0}[MASSUPT_10]"}]})  # fmt: skip
    batch = events(3, mu_pt=200, mu_upt=5)
    batch.columns["mu_pt"][:, 1] = 200
    batch.columns["mu_phi"][:, 1] = 288
    batch.columns["mu_upt"][:, 1] = [5, 4, 0]
    assert decide(m, batch)[0] == [True, False, False]
    assert m.config.seeds[0].conditions[0].correlations[0].upt  # type: ignore[union-attr]
