"""Every utm grammar feature on hand-made events, at the edges of its cut (values worked out in the comments)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from emulator.errors import MenuError
from emulator.menu import Menu
from emulator.menu.luts import LUTS
from streams.event import EventBatch

CUTS: dict[str, dict[str, Any]] = {
    "MU-QLTY_DBLE": {"object": "MU", "type": "QLTY", "data": "8,9,10,11,12,13,14,15"},
    "MU-QLTY_4or12": {"object": "MU", "type": "QLTY", "data": "4,12"},
    "MU-ETA_2p10": {"object": "MU", "type": "ETA", "minimum": -2.104, "maximum": 2.104},
    "MU-PHI_TOP120": {"object": "MU", "type": "PHI", "minimum": 0.524, "maximum": 2.618},
    "MU-PHI_WRAP": {"object": "MU", "type": "PHI", "minimum": 5.76, "maximum": 0.524},
    "MU-CHG_POS": {"object": "MU", "type": "CHG", "data": "positive"},
    "MU-UPT_5": {"object": "MU", "type": "UPT", "minimum": 5, "maximum": 255},
    "EG-ETA_FWD_POS": {"object": "EG", "type": "ETA", "minimum": 2.523, "maximum": 5.0},
    "EG-ETA_FWD_NEG": {"object": "EG", "type": "ETA", "minimum": -5.0, "maximum": -2.523},
    "EG-ISO_0xA": {"object": "EG", "type": "ISO", "data": "1,3"},
    "JET-SLICE_0to1": {"object": "JET", "type": "SLICE", "data": "0,1"},
    "ETM-PHI_0to1": {"object": "ETM", "type": "PHI", "minimum": 0.0, "maximum": 1.0},
    "ETMHF-PHI_0to1": {"object": "ETMHF", "type": "PHI", "minimum": 0.0, "maximum": 1.0},
    "DETA_MAX_1p6": {"type": "DETA", "minimum": 0.0, "maximum": 1.6},
    "DPHI_0p8to1p2": {"type": "DPHI", "minimum": 0.8, "maximum": 1.2},
    "DPHI_MIN2p094": {"type": "DPHI", "minimum": 2.094, "maximum": 3.142},
    "DR_1p4": {"type": "DR", "minimum": 0.0, "maximum": 1.4},
    "MASS_MIN_7": {"type": "MASS", "minimum": 7.0, "maximum": 151982.0},
    "MASS_7to18": {"type": "MASS", "minimum": 7.0, "maximum": 18.0},
    "MASS_MAX_12": {"type": "MASS", "minimum": 0.0, "maximum": 12.0},
    "MASS_MIN_40": {"type": "MASS", "minimum": 40.0, "maximum": 151982.0},
    "MASSDR_MIN_20": {"type": "MASSDR", "minimum": 20.0, "maximum": 151982.0},
    "TBPT_10": {"type": "TBPT", "minimum": 10.0},
    "CHGCOR_OS": {"type": "CHGCOR", "data": "os"},
    "CHGCOR_LS": {"type": "CHGCOR", "data": "ls"},
    "ORMDR_0p5": {"type": "ORMDR", "minimum": 0.0, "maximum": 0.5},
}


def utm_menu(**seeds: str) -> Menu:
    return Menu.from_dict({"name": "t", "columns": ["c"], "default_column": "c", "cuts": CUTS,
                           "seeds": [{"name": n, "expression": e} for n, e in seeds.items()]})  # fmt: skip


def event(**cols: Any) -> EventBatch:
    b = {k: np.array(v) for k, v in EventBatch.empty(1).columns.items()}
    for name, values in cols.items():
        if b[name].ndim == 1:
            b[name][0] = values
        else:
            b[name][0, : len(values)] = values
    return EventBatch(b)


def fires(menu: Menu, **cols: Any) -> list[bool]:
    got = menu.evaluate(event(**cols))[0]
    assert np.array_equal(got, menu.evaluate_reference(event(**cols))[0])
    return [bool(x) for x in got]


MU2 = {"mu_qual": [15, 15], "mu_charge": [1, -1]}


def test_thresholds_ge_eq_and_empty_slots() -> None:
    m = utm_menu(A="MU4p5", B="MU.eq.10", Z="MU0")
    assert fires(m, mu_pt=[9]) == [True, False, True]  # 4.5 GeV = hwPt 9
    assert fires(m, mu_pt=[8]) == [False, False, True]
    assert fires(m, mu_pt=[20]) == [True, True, True]  # .eq. 10 GeV: hwPt exactly 20
    assert fires(m, mu_pt=[21]) == [True, False, True]
    assert fires(m, mu_pt=[0]) == [False, False, False]  # hwPt 0 is an empty slot, even for MU0


def test_signed_eta_windows() -> None:
    """EG η LSB 0.0435: [2.523, 5.0] -> hwEta 58..114; MU LSB 0.010875: ±2.104 -> ±193."""
    m = utm_menu(P="EG10[EG-ETA_FWD_POS]", PN="EG10[EG-ETA_FWD_POS, EG-ETA_FWD_NEG]", M="MU0[MU-ETA_2p10]")
    assert fires(m, eg_pt=[20], eg_eta=[58])[:2] == [True, True]
    assert fires(m, eg_pt=[20], eg_eta=[57])[:2] == [False, False]
    assert fires(m, eg_pt=[20], eg_eta=[-58])[:2] == [False, True]  # the sign matters; two windows OR
    assert fires(m, eg_pt=[20], eg_eta=[114])[:2] == [True, True]
    assert fires(m, eg_pt=[20], eg_eta=[115])[:2] == [False, False]
    assert [fires(m, mu_pt=[5], mu_eta=[e])[2] for e in (193, 194, -193, -194)] == [True, False, True, False]


def test_phi_windows_and_wrap_around() -> None:
    """MU φ LSB 2π/576: [0.524, 2.618] -> 49..240; [5.76, 0.524] wraps: ≥ 529 or ≤ 48."""
    m = utm_menu(T="MU0[MU-PHI_TOP120]", W="MU0[MU-PHI_WRAP]")
    got = {p: fires(m, mu_pt=[5], mu_phi=[p]) for p in (48, 49, 240, 241, 528, 529, 0, 575)}
    assert got == {48: [False, True], 49: [True, False], 240: [True, False], 241: [False, False],
                   528: [False, False], 529: [False, True], 0: [False, True], 575: [False, True]}  # fmt: skip


def test_quality_isolation_luts_charge_and_slices() -> None:
    m = utm_menu(D="MU0[MU-QLTY_DBLE]", L="MU0[MU-QLTY_4or12]", C="MU0[MU-CHG_POS]", I="EG5[EG-ISO_0xA]",
                 S="JET10[JET-SLICE_0to1]")  # fmt: skip
    assert [fires(m, mu_pt=[5], mu_qual=[q])[:2] for q in (7, 8, 4, 5, 12)] == [
        [False, False], [True, False], [False, True], [False, False], [True, True]]  # fmt: skip
    assert [fires(m, mu_pt=[5], mu_charge=[q])[2] for q in (1, -1, 0)] == [True, False, False]
    assert [fires(m, eg_pt=[20], eg_iso=[i])[3] for i in (0, 1, 2, 3)] == [False, True, False, True]
    assert fires(m, jet_pt=[100])[4]
    assert fires(m, jet_pt=[0, 30])[4]
    assert not fires(m, jet_pt=[0, 0, 100])[4]  # only slots 0 and 1 count


def test_pair_deta_dphi_dr_on_the_muon_scale() -> None:
    """Δη ≤ 1.6 -> ≤ 147 bins; Δφ in [0.8, 1.2] -> 74..110 bins; ΔR ≤ 1.4 -> dR2 ≤ floor(1.96 · 4096) = 8028,
    and deta2[128] = 7937, deta2[129] = 8061."""
    assert (int(LUTS["muon"].deta2[128]), int(LUTS["muon"].deta2[129])) == (7937, 8061)
    m = utm_menu(E="dist{MU0, MU0}[DETA_MAX_1p6]", P="dist{MU0, MU0}[DPHI_0p8to1p2]", R="dist{MU0, MU0}[DR_1p4]")
    two = {"mu_pt": [10, 10]}
    assert fires(m, **two, mu_eta=[0, 147])[0]
    assert not fires(m, **two, mu_eta=[0, 148])[0]
    assert [fires(m, **two, mu_phi=[0, p])[1] for p in (73, 74, 110, 111, 576 - 74)] == [False, True, True, False, True]
    assert fires(m, **two, mu_eta=[0, 128])[2]
    assert not fires(m, **two, mu_eta=[-1, 128])[2]


def test_invariant_mass_charge_and_two_body_pt() -> None:
    """Back to back at equal η: M² = 4·pT₁·pT₂, so M ≥ 7 GeV ⇔ hwPt₁·hwPt₂ ≥ 49 and M ≤ 18 ⇔ ≤ 324.
    Collinear: |p⃗T₁ + p⃗T₂| = pT₁ + pT₂, so TBPT ≥ 10 GeV ⇔ hwPt₁ + hwPt₂ ≥ 20."""
    m = utm_menu(M="mass_inv{MU0, MU0}[MASS_MIN_7]", W="mass_inv{MU0, MU0}[MASS_7to18, CHGCOR_OS]",
                 T="comb{MU0, MU0}[TBPT_10]", S="comb{MU0, MU0}[CHGCOR_LS]")  # fmt: skip
    back = {"mu_phi": [0, 288], "mu_charge": [1, -1]}
    assert fires(m, mu_pt=[7, 7], **back)[:2] == [True, True]
    assert fires(m, mu_pt=[6, 8], **back)[:2] == [False, False]
    assert fires(m, mu_pt=[18, 18], **back)[1]
    assert not fires(m, mu_pt=[18, 19], **back)[1]
    assert not fires(m, mu_pt=[18, 18], mu_phi=[0, 288], mu_charge=[1, 1])[1]  # same sign
    assert fires(m, mu_pt=[10, 10])[2]
    assert not fires(m, mu_pt=[10, 9])[2]
    assert [fires(m, mu_pt=[5, 5], mu_charge=q)[3] for q in ([1, 1], [-1, -1], [1, -1], [1, 0])] == [
        True, True, False, False]  # fmt: skip


def test_three_body_mass_and_triple_charge_correlation() -> None:
    """μ₀, μ₂ along φ = 0, μ₁ opposite: M² = 4·pT₁·(pT₀ + pT₂) ≤ 144 GeV² ⇔ hwPt₁·(hwPt₀ + hwPt₂) ≤ 144."""
    m = utm_menu(M="mass_inv_3{MU0, MU0, MU0}[MASS_MAX_12]", OS="comb{MU0, MU0, MU0}[CHGCOR_OS]",
                 LS="comb{MU0, MU0, MU0}[CHGCOR_LS]")  # fmt: skip
    geo = {"mu_phi": [0, 288, 0], "mu_charge": [1, 1, 1]}
    assert fires(m, mu_pt=[6, 12, 6], **geo)[0]
    assert not fires(m, mu_pt=[7, 12, 6], **geo)[0]
    three = {"mu_pt": [5, 5, 5]}
    assert fires(m, **three, mu_charge=[1, 1, -1])[1:] == [True, False]
    assert fires(m, **three, mu_charge=[-1, -1, -1])[1:] == [False, True]
    assert fires(m, **three, mu_charge=[1, 1, 0])[1:] == [False, False]  # no valid charge, no correlation


def test_transverse_mass_and_object_sum_dphi() -> None:
    """Back to back: M_T² = 4·pT·ET ≥ 40² ⇔ hwPt·hwET ≥ 1600. Calo φ LSB 2π/144: Δφ ≥ 2.094 ⇔ ≥ 48 bins."""
    m = utm_menu(T="mass_trv{EG20, ETM10}[MASS_MIN_40]", D="dist{JET30, ETMHF80}[DPHI_MIN2p094]")
    assert fires(m, eg_pt=[40], etm=40, etm_phi=72)[0]
    assert not fires(m, eg_pt=[40], etm=39, etm_phi=72)[0]
    jet = {"jet_pt": [60], "etmhf": 160}
    assert fires(m, **jet, etmhf_phi=48)[1]
    assert not fires(m, **jet, etmhf_phi=47)[1]
    assert not fires(m, jet_pt=[60], etmhf=159, etmhf_phi=60)[1]  # ETMHF80: ET ≥ hw 160


def test_mass_over_delta_r() -> None:
    """Same φ, Δη = k bins: (M/ΔR)² = M2 / (2·dR2); the integer cut is 2^8·M2 ≥ 2·ceil(400·2^8)·dR2."""
    m = utm_menu(R="mass_inv_dr{JET0, JET0}[MASSDR_MIN_20]")
    t = LUTS["calo"]
    for k in (10, 40):
        m2_per_pt2, dr2 = int(t.cosh_deta[k]) - 4096, int(t.deta2[k])
        lo = next(p for p in range(1, 2048) if 256 * p * p * m2_per_pt2 >= 2 * 102400 * dr2)
        assert fires(m, jet_pt=[lo, lo], jet_eta=[0, k])[0]
        assert not fires(m, jet_pt=[lo - 1, lo - 1], jet_eta=[0, k])[0]


def test_overlap_removal() -> None:
    """ΔR ≤ 0.5 -> dR2 ≤ 1024; calo deta2[11] = 938 (overlaps), deta2[12] = 1116 (does not)."""
    assert (int(LUTS["calo"].deta2[11]), int(LUTS["calo"].deta2[12])) == (938, 1116)
    m = utm_menu(C="comb_orm{TAU10, TAU10, JET20}[ORMDR_0p5]",
                 M="mass_inv_orm{JET20, JET20, TAU10}[MASS_MIN_40, ORMDR_0p5]")
    taus = {"tau_pt": [40, 40], "tau_eta": [0, 60]}
    assert not fires(m, **taus)[0]  # the overlap-removal object must exist
    assert not fires(m, **taus, jet_pt=[80], jet_eta=[11])[0]
    assert fires(m, **taus, jet_pt=[80], jet_eta=[12])[0]
    assert fires(m, **taus, jet_pt=[80, 60], jet_eta=[11, 30])[0]  # another jet clear of both taus
    jets = {"jet_pt": [100, 100], "jet_phi": [0, 72], "jet_eta": [0, 0]}  # M = 2·50 GeV
    assert fires(m, **jets, tau_pt=[40], tau_eta=[30])[1]
    assert not fires(m, **jets, tau_pt=[40], tau_eta=[5])[1]  # the tau sits on jet 0: it is removed
    assert fires(m, jet_pt=[100, 100, 100], jet_phi=[0, 72, 72], jet_eta=[0, 0, 40], tau_pt=[40], tau_eta=[5])[1]


def test_sums_with_phi_and_equality() -> None:
    m = utm_menu(E="ETMHF90", P="ETM50[ETM-PHI_0to1]", Q="HTT.eq.100")
    assert fires(m, etmhf=180)[0]
    assert not fires(m, etmhf=179)[0]
    assert fires(m, etm=100, etm_phi=22)[1]
    assert not fires(m, etm=100, etm_phi=23)[1]  # floor(1.0/(2π/144)) = 22
    assert [fires(m, htt=h)[2] for h in (199, 200, 201)] == [False, True, False]


def test_and_or_not_and_brackets() -> None:
    m = utm_menu(A="MU5 OR NOT EG10", B="NOT (MU5 OR EG10)", C="(MU5 AND EG10) OR JET50",
                 D="comb{MU5, MU5} AND NOT JET50")
    cases = {(0, 0, 0): [True, True, False, False], (10, 0, 0): [True, False, False, False],
             (0, 20, 0): [False, False, False, False], (10, 20, 0): [True, False, True, False],
             (0, 0, 100): [True, True, True, False]}  # fmt: skip
    for (mu, eg, jet), want in cases.items():
        assert fires(m, mu_pt=[mu], eg_pt=[eg], jet_pt=[jet]) == want, (mu, eg, jet)
    assert fires(m, mu_pt=[10, 10])[3]
    assert not fires(m, mu_pt=[10, 10], jet_pt=[100])[3]


def test_missing_columns_make_seeds_unsupported_never_silently_evaluated() -> None:
    m = utm_menu(U="CENT0", X="EXT_BPTX_BeamGas_B1_VME-1 OR MU5", B="MU5-1", H="HTMHF100 AND MU5", A="MU5")
    assert fires(m, mu_pt=[100]) == [False, False, False, False, True]
    assert m.unsupported["U"] == "CENT0: centrality bits need event column centrality (CENT0..7)"
    ext = "EXT_BPTX_BeamGas_B1_VME-1: this BPTX reference/beam-gas signal is not derived from the filling scheme"
    assert ext in m.unsupported["X"]
    assert "B" not in m.unsupported  # a muon of bx -1: evaluated where the sample carries bxm1_mu_* columns
    missing = m.missing_inputs(event(mu_pt=[100]))
    assert missing["B"].startswith("needs the muons of another crossing (columns bxm1_mu_pt")
    jet = utm_menu(J="JET5-1")
    assert jet.unsupported["J"].startswith("JET5-1: needs the objects of that crossing (event columns of bx -1)")
    assert m.unsupported["H"] == "HTMHF100: HTMHF needs event columns htmhf and htmhf_phi"
    assert "A" not in m.unsupported


@pytest.mark.parametrize(
    ("expression", "needle"),
    [
        ("EG5[MU-QLTY_DBLE]", "cut 'MU-QLTY_DBLE' is a MU QLTY cut; EG takes ['ETA', 'ISO', 'PHI', 'SLICE']"),
        ("MU5[DR_1p4]", "cut 'DR_1p4' is a function DR cut; MU takes"),
        ("dist{MU5, MU5}[MU-QLTY_DBLE]", "cut 'MU-QLTY_DBLE' (MU QLTY) cannot go on dist{...}"),
        ("dist{MU5, MU5}[MASS_MIN_7]", "cut 'MASS_MIN_7' (MASS) cannot go on dist{...}"),
        ("mass_inv{MU5, MU5}[DR_1p4]", "mass_inv{...} needs a MASS cut"),
        ("dist{MU5, MU5}", "dist{...} needs at least one cut"),
        ("dist{MU5, MU5}[DR_1p4, DR_1p4]", "dist{...} has two DR cuts"),
        ("comb{MU5, EG5}", "comb{...} needs objects of one type, got ['MU', 'EG']"),
        ("comb{JET5, JET5}[CHGCOR_OS]", "CHGCOR_OS (charge correlation) needs muons, not jet"),
        ("comb{JET5, JET5, JET5}[TBPT_10]", "TBPT_10 (two-body pT) needs exactly two objects"),
        ("dist{JET5, ETM10}[DETA_MAX_1p6]", "a etm leg has no η: use dphi, tbpt or a transverse mass"),
        ("comb{JET5, ETM10}", "comb{...} cannot take ETM"),
        ("mass_trv{JET5, EG5}[MASS_MIN_40]", "mass_trv{...} needs an ETM, HTM or ETMHF object"),
        ("comb_orm{JET5, JET5}[ORMDR_0p5]", "removes overlaps of one calo object type with another"),
        ("comb_orm{TAU5, JET5}[DR_1p4]", "cut 'DR_1p4' (DR) cannot go on comb_orm{...}"),
        ("mass_inv_orm{JET5, JET5, TAU5}[MASS_MIN_40]", "needs an overlap-removal cut"),
        ("dist{MU5, MU5}[DR_NOPE]", "cut 'DR_NOPE' (on dist{...}) is not defined in the menu"),
        ("MU5[MU-ETA_2p10, MU-ETA_2p10, MU-ETA_2p10, MU-ETA_2p10, MU-ETA_2p10, MU-ETA_2p10]", "6 ETA cuts"),
        ("EXT_X[MU-QLTY_DBLE]", "EXT_X takes no cuts"),
    ],
)
def test_semantic_errors_name_seed_and_cut(expression: str, needle: str) -> None:
    with pytest.raises(MenuError) as err:
        utm_menu(L1_Bad=expression)
    msg = str(err.value)
    assert msg.startswith("<menu>: seeds[0] (L1_Bad).expression: seed L1_Bad: "), msg
    assert needle in msg, msg


def test_bad_cut_definitions_name_the_cut() -> None:
    for fields, needle in (({"object": "MU", "type": "QLTY", "data": "16"}, "QLTY data must list values 0..15"),
                           ({"object": "EG", "type": "QLTY", "data": "1"}, "EG takes cut types"),
                           ({"type": "DR", "minimum": 2, "maximum": 1}, "minimum 2.0 exceeds maximum 1.0"),
                           ({"object": "MU", "type": "CHG", "data": "plus"}, "CHG data must be one of"),
                           ({"type": "CHGCOR", "data": "opposite"}, "CHGCOR data must be one of ['os', 'ls']"),
                           ({"type": "DR", "minimum": "x"}, "minimum: expected a finite number"),
                           ({"object": "MU", "type": "ETA", "unit": "rad"}, "unknown field(s) ['unit']")):  # fmt: skip
        with pytest.raises(MenuError, match=r"<menu>\.cuts\.C-X") as err:
            Menu.from_dict({"name": "t", "columns": ["c"], "default_column": "c", "cuts": {"C-X": fields},
                            "seeds": [{"name": "S", "expression": "MU5"}]})  # fmt: skip
        assert needle in str(err.value), str(err.value)
