"""Batch evaluation (numpy masks + numba kernel) against a plain-Python reference."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest

from emulator.errors import StageError
from emulator.menu import Menu
from emulator.menu._evaluate import BatchEvaluator
from emulator.menu.hardware import HwAlways, HwCondition, HwCorrelation, HwLeg, HwObjects, HwScore, HwSum
from emulator.menu.luts import LUTS
from streams.event import EventBatch
from streams.schema import COLLECTIONS

# -- events -------------------------------------------------------------------------------------

_ETA_MAX_HW = {"egamma": 60, "tau": 50, "jet": 110, "muon": 225}


def random_batch(seed: int, n: int, *, max_objects: int = 6) -> EventBatch:
    """Events with few, pT-ordered objects spread over every cut's range (incl. φ wrap-around)."""
    rng = np.random.default_rng(seed)
    cols = dict(EventBatch.empty(n).columns)
    for name, coll in COLLECTIONS.items():
        k = rng.integers(0, min(max_objects, coll.size) + 1, n)
        present = np.arange(coll.size)[None, :] < k[:, None]
        pt = -np.sort(-rng.integers(1, 160, (n, coll.size)), axis=1)
        cols[coll.column("pt")] = np.where(present, pt, 0).astype(np.int16)
        lim = _ETA_MAX_HW[name]
        fields = {
            "eta": rng.integers(-lim, lim + 1, (n, coll.size)),
            "phi": rng.integers(0, coll.phi_bins, (n, coll.size)),
            "qual": rng.integers(0, 16, (n, coll.size)),
            "iso": rng.integers(0, 4, (n, coll.size)),
            "charge": rng.choice([-1, 1], (n, coll.size)),
            "upt": rng.integers(0, 40, (n, coll.size)),
            "ip": rng.integers(0, 4, (n, coll.size)),
            "tfindex": rng.integers(0, 108, (n, coll.size)),
            "disp": rng.integers(0, 2, (n, coll.size)),
        }
        for f in coll.fields[1:]:
            cols[coll.column(f)] = np.where(present, fields[f], 0).astype(cols[coll.column(f)].dtype)
    for s in ("ett", "htt", "etm", "htm", "etmhf"):
        cols[s] = rng.integers(0, 600, n).astype(np.int32)
    cols["axo_score"] = rng.random(n).astype(np.float32) * 10
    cols["int_score"] = rng.integers(0, 10, n).astype(np.int16)
    return EventBatch(cols)


# -- reference ------------------------------------------------------------------------------------


def _objects(batch: EventBatch, e: int, coll_name: str) -> list[dict[str, int]]:
    coll = COLLECTIONS[coll_name]
    out = []
    for j in range(coll.size):
        obj = {f: int(batch[coll.column(f)][e, j]) for f in coll.fields}
        obj["slot"] = j
        if obj["pt"] > 0:
            out.append(obj)
    return out


def _leg_ok(leg: HwLeg, o: dict[str, int]) -> bool:
    return (
        o["pt"] >= leg.pt_min
        and leg.eta_min <= abs(o["eta"]) <= leg.eta_max
        and o["qual"] <= 15 and bool(leg.qual_mask >> o["qual"] & 1)
        and o["iso"] <= 15 and bool(leg.iso_mask >> o["iso"] & 1)
        and leg.upt[0] <= o.get("upt", 0) <= leg.upt[1] and bool(leg.ip_mask >> o.get("ip", 0) & 1)
        and (not leg.index_windows or any(lo <= o.get("tfindex", 0) <= hi for lo, hi in leg.index_windows))
        and leg.disp in (-1, o.get("disp", 0))
    )  # fmt: skip


def _coords(o: dict[str, int], is_mu: bool, scale: str) -> tuple[int, int]:
    if is_mu and scale == "calo":
        return math.floor((o["eta"] + 2) / 4), (o["phi"] % 576) // 4
    return o["eta"], o["phi"] % LUTS[scale].phi_bins


def _pair_ok(c: HwCorrelation, a: dict[str, int], a_mu: bool, b: dict[str, int], b_mu: bool) -> bool:
    t = LUTS[c.scale]
    ea, pa = _coords(a, a_mu, c.scale)
    eb, pb = _coords(b, b_mu, c.scale)
    de = min(abs(ea - eb), len(t.deta2) - 1)
    dp = abs(pa - pb) % t.phi_bins
    dp = min(dp, t.phi_bins - dp)
    dr2 = int(t.deta2[de]) + int(t.dphi2[dp])
    pt = ("upt", 2) if c.upt else ("pt", 1)  # uPT has a 1 GeV LSB: 2·hwUpt in pT units
    m2 = pt[1] * a[pt[0]] * pt[1] * b[pt[0]] * (int(t.cosh_deta[de]) - int(t.cos_dphi[dp]))
    charge_ok = c.charge == 0 or (a["charge"] * b["charge"] * c.charge > 0)
    return (
        c.deta[0] <= de <= c.deta[1] and c.dphi[0] <= dp <= c.dphi[1]
        and c.dr2[0] <= dr2 <= c.dr2[1] and c.mass2[0] <= m2 <= c.mass2[1] and charge_ok
    )  # fmt: skip


def _objects_ok(batch: EventBatch, e: int, cond: HwObjects) -> bool:
    cands = [[o for o in _objects(batch, e, leg.collection) if _leg_ok(leg, o)] for leg in cond.legs]
    for combo in itertools.product(*cands):
        used = [(leg.collection, o["slot"]) for leg, o in zip(cond.legs, combo, strict=True)]
        if len(set(used)) < len(used):
            continue
        if all(
            _pair_ok(c, combo[c.legs[0]], cond.legs[c.legs[0]].collection == "muon",
                     combo[c.legs[1]], cond.legs[c.legs[1]].collection == "muon")
            for c in cond.correlations
        ):  # fmt: skip
            return True
    return False


def reference(batch: EventBatch, e: int, cond: HwCondition) -> bool:
    if isinstance(cond, HwObjects):
        return _objects_ok(batch, e, cond)
    if isinstance(cond, HwSum):
        return cond.min <= int(batch[cond.sum][e]) <= cond.max
    if isinstance(cond, HwScore):
        return float(batch[cond.column][e]) >= cond.min
    assert isinstance(cond, HwAlways)
    return True


# -- menus ----------------------------------------------------------------------------------------


def _menu(seeds: list[dict[str, Any]]) -> Menu:
    return Menu.from_dict({"name": "t", "columns": ["c"], "default_column": "c", "seeds": seeds})


def _seed(name: str, *conds: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "conditions": list(conds)}


MU = {"type": "muon", "pt_min": 5}
JET = {"type": "jet", "pt_min": 20}
SEEDS = [
    _seed("SingleMu", {"legs": [{"type": "muon", "pt_min": 30, "quality": 12, "eta_max": 1.5}]}),
    _seed("MuIsoList", {"legs": [{"type": "muon", "quality": [4, 8], "iso": [1, 3]}]}),
    _seed("EgEtaWindow", {"legs": [{"type": "egamma", "pt_min": 20, "eta_min": 1.0, "eta_max": 2.0}]}),
    _seed("DoubleEG", {"legs": [{"type": "egamma", "pt_min": 50}, {"type": "egamma", "pt_min": 40}]}),
    _seed("TripleTau", {"legs": [{"type": "tau", "pt_min": 30, "iso": 2}] * 3}),
    _seed("QuadJet", {"legs": [{"type": "jet", "pt_min": p} for p in (60, 50, 40, 20)]}),
    _seed("DoubleMuOS_dR", {"legs": [MU, MU], "correlations": [{"charge": "opposite", "dr_max": 1.5}]}),
    _seed("DoubleMuSS_dPhi", {"legs": [MU, MU], "correlations": [{"charge": "same", "dphi_min": 2.5}]}),
    _seed("MuJet_dR", {"legs": [MU, JET], "correlations": [{"dr_max": 0.8}]}),
    _seed("MuJet_dEta", {"legs": [MU, JET], "correlations": [{"deta_min": 0.5, "deta_max": 1.0}]}),
    _seed("DiJetMass", {"legs": [JET, JET], "correlations": [{"mass_min": 150, "mass_max": 250}]}),
    _seed("EgJetMassDR", {"legs": [{"type": "egamma", "pt_min": 10}, JET],
                          "correlations": [{"mass_min": 60, "dr_min": 1.0}]}),
    _seed("TriJetTwoCorr", {"legs": [JET, JET, JET], "correlations": [
        {"legs": [0, 2], "dr_min": 2.0}, {"legs": [1, 2], "dphi_max": 1.0}]}),
    _seed("MuJetAndHTT", {"legs": [MU, JET], "correlations": [{"dr_max": 1.5}]}, {"sum": "htt", "min": 100}),
    _seed("SumWindow", {"sum": "etmhf", "min": 50, "max": 150.5}),
    _seed("Score", {"score": "axo_score", "min": 7.25}),
    _seed("IntScore", {"score": "int_score", "min": 6.5}),
    _seed("Always", {"always": True}),
    _seed("MuUptIpIndex", {"legs": [{"type": "muon", "upt_min": 12, "ip": [1, 2, 3], "index": [[36, 71]]},
                                    {"type": "muon", "upt_min": 5, "upt_max": 20, "index": [[0, 17], [90, 107]]}]}),
    _seed("MuUptDR", {"legs": [{"type": "muon", "upt_min": 20}, MU], "correlations": [{"dr_max": 2.0}]}),
    _seed("MuMassUpt", {"legs": [MU, MU], "correlations": [{"mass_min": 10, "mass_max": 40, "upt": True}]}),
    _seed("DisplacedJets", {"legs": [{"type": "jet", "pt_min": 20, "displaced": True},
                                     {"type": "jet", "pt_min": 30, "displaced": False}]}),
]


@pytest.fixture(scope="module")
def menu() -> Menu:
    return _menu(SEEDS)


@pytest.fixture(scope="module")
def batch() -> EventBatch:
    return random_batch(11, 500)


def test_evaluation_matches_reference_for_every_seed(menu: Menu, batch: EventBatch) -> None:
    got = menu.evaluate(batch)
    assert got.dtype == bool
    assert got.shape == (len(batch), len(SEEDS))
    for s, seed in enumerate(menu.hw_seeds):
        want = np.array(
            [all(reference(batch, e, c) for c in seed.conditions) for e in range(len(batch))]
        )
        assert np.array_equal(got[:, s], want), f"{seed.name}: {np.flatnonzero(got[:, s] != want)[:10]}"
        assert 0 < want.sum() < len(batch) or seed.name == "Always", f"{seed.name} is not exercised"


def test_evaluation_is_independent_of_batch_split(menu: Menu, batch: EventBatch) -> None:
    whole = menu.evaluate(batch)
    parts = np.concatenate([menu.evaluate(batch.select(slice(a, a + 77))) for a in range(0, len(batch), 77)])
    assert np.array_equal(whole, parts)


def _one_event(**cols: list[int]) -> EventBatch:
    b = dict(EventBatch.empty(1).columns)
    for name, values in cols.items():
        b[name][0, : len(values)] = values
    return EventBatch(b)


def test_same_collection_legs_take_distinct_objects() -> None:
    menu = _menu([_seed("DoubleJet", {"legs": [JET, JET]})])
    assert not menu.evaluate(_one_event(jet_pt=[100]))[0, 0]
    assert menu.evaluate(_one_event(jet_pt=[100, 40]))[0, 0]


def test_cross_collection_legs_may_share_slot_index() -> None:
    menu = _menu([_seed("MuJet", {"legs": [MU, JET]})])
    assert menu.evaluate(_one_event(mu_pt=[20], jet_pt=[100]))[0, 0]


def test_assignment_search_backtracks() -> None:
    """Leg 0 must not greedily take the leading jet when only the second completes the pair."""
    menu = _menu([_seed("P", {"legs": [JET, {"type": "jet", "pt_min": 80}],
                              "correlations": [{"dphi_min": 3.0}]})])  # fmt: skip
    ev = _one_event(jet_pt=[200, 150, 60], jet_phi=[0, 72, 1])
    assert menu.evaluate(ev)[0, 0]  # jets 2 (φ=1) and 0 (φ=0) fail; 0 and 1 are back to back


def test_phi_wraps_around() -> None:
    menu = _menu([_seed("D", {"legs": [JET, JET], "correlations": [{"dphi_max": 0.1}]})])
    assert menu.evaluate(_one_event(jet_pt=[100, 50], jet_phi=[143, 1]))[0, 0]
    assert not menu.evaluate(_one_event(jet_pt=[100, 50], jet_phi=[72, 1]))[0, 0]


def test_muon_coordinates_convert_for_mixed_pairs() -> None:
    menu = _menu([_seed("MJ", {"legs": [MU, JET], "correlations": [{"dr_max": 0.05}]})])
    same = _one_event(mu_pt=[20], mu_eta=[81], mu_phi=[41], jet_pt=[100], jet_eta=[20], jet_phi=[10])
    assert menu.evaluate(same)[0, 0]  # (81+2)>>2 = 20, 41>>2 = 10: the same calo tower
    off = _one_event(mu_pt=[20], mu_eta=[81], mu_phi=[49], jet_pt=[100], jet_eta=[20], jet_phi=[10])
    assert not menu.evaluate(off)[0, 0]


def test_integer_decisions_agree_with_float_physics(batch: EventBatch) -> None:
    """Away from the threshold (LUT rounding), integer ΔR and mass cuts equal float ones."""
    menu = _menu([
        _seed("DR", {"legs": [JET, JET], "correlations": [{"dr_max": 1.0}]}),
        _seed("M", {"legs": [JET, JET], "correlations": [{"mass_min": 120}]}),
    ])  # fmt: skip
    got = menu.evaluate(batch)
    pt = batch["jet_pt"][:, :2] * 0.5
    eta = batch["jet_eta"][:, :2] * COLLECTIONS["jet"].eta_lsb
    phi = batch["jet_phi"][:, :2] * 2 * np.pi / 144
    dphi = np.abs(np.angle(np.exp(1j * (phi[:, 0] - phi[:, 1]))))
    dr = np.hypot(eta[:, 0] - eta[:, 1], dphi)
    mass = np.sqrt(np.maximum(2 * pt[:, 0] * pt[:, 1] * (np.cosh(eta[:, 0] - eta[:, 1]) - np.cos(dphi)), 0))
    two = (batch["jet_pt"][:, :2] >= 40).all(axis=1) & (batch["jet_pt"][:, 2] == 0)  # exactly two jets
    clear_dr = two & (np.abs(dr - 1.0) > 1e-3)
    clear_m = two & (np.abs(mass - 120) > 0.5)
    assert clear_dr.sum() > 20
    assert clear_m.sum() > 20
    assert np.array_equal(got[clear_dr, 0], dr[clear_dr] <= 1.0)
    assert np.array_equal(got[clear_m, 1], mass[clear_m] >= 120)


def test_missing_score_column_names_seed_and_column() -> None:
    menu = _menu([_seed("Always", {"always": True}), _seed("AXO_Tight", {"score": "axo_score", "min": 1})])
    with pytest.raises(StageError, match=r"seed 1 \(AXO_Tight\).*'axo_score'"):
        menu.evaluate(EventBatch.empty(3))


def test_score_column_must_be_one_number_per_event() -> None:
    menu = _menu([_seed("S", {"score": "vec", "min": 1})])
    b = EventBatch.empty(2).with_columns(vec=np.zeros((2, 3), np.float32))
    with pytest.raises(StageError, match=r"'vec' must be a numeric \(N,\) column"):
        menu.evaluate(b)


def test_quality_and_iso_above_four_bits_never_pass_a_mask() -> None:
    menu = _menu([_seed("Q", {"legs": [{"type": "muon", "quality": 12}]})])
    assert not menu.evaluate(_one_event(mu_pt=[10], mu_qual=[200]))[0, 0]
    assert menu.evaluate(_one_event(mu_pt=[10], mu_qual=[15]))[0, 0]


def test_conditions_are_cached_per_batch(batch: EventBatch) -> None:
    ev = BatchEvaluator(batch)
    cond = HwObjects((HwLeg("jet", 10, 0, 100, 0xFFFF, 0xFFFF),) * 2)
    first = ev.condition(cond)
    assert ev.condition(cond) is first
    assert ev.leg(cond.legs[0]) is ev.leg(HwLeg("jet", 10, 0, 100, 0xFFFF, 0xFFFF))


def test_kernel_muon_index_matches_collection_order() -> None:
    from emulator.menu._evaluate import COLL_INDEX
    from emulator.menu._kernels import MUON, NSLOT

    assert COLL_INDEX["muon"] == MUON
    assert max(c.size for c in COLLECTIONS.values()) == NSLOT


def test_strided_and_empty_batches(menu: Menu, batch: EventBatch) -> None:
    whole = menu.evaluate(batch)
    strided = batch.select(slice(None, None, 3))
    assert not strided["jet_pt"].flags["C_CONTIGUOUS"]
    assert np.array_equal(menu.evaluate(strided), whole[::3])
    assert menu.evaluate(batch.select(slice(0, 0))).shape == (0, len(SEEDS))
