"""A utm menu with every grammar feature against a plain-Python reference (itertools) on random events."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.menu import Menu
from emulator.menu.hardware import EMPTY, NO_MAX, HwCorrelation, HwLeg, HwObjects, HwSum
from emulator.menu.luts import LUTS
from streams.event import EventBatch
from tests.test_menu_evaluate import random_batch
from tests.test_menu_grammar_cuts import utm_menu

SEEDS = {
    "Windows": "EG5[EG-ETA_FWD_POS, EG-ETA_FWD_NEG, EG-ISO_0xA] OR MU3[MU-PHI_WRAP, MU-CHG_POS]",
    "Slice": "JET30[JET-SLICE_0to1] AND NOT MU.eq.10",
    "DEtaDPhi": "dist{MU2[MU-QLTY_DBLE], MU2}[DETA_MAX_1p6, DPHI_0p8to1p2]",
    "MassOS": "mass_inv{MU2, MU2[MU-ETA_2p10]}[MASS_7to18, CHGCOR_OS]",
    "TwoBody": "comb{MU5, MU3}[TBPT_10]",
    "Triple": "mass_inv_3{MU2, MU2, MU2}[MASS_MAX_12, CHGCOR_OS] OR comb{MU2, MU2, MU2}[CHGCOR_LS]",
    "Trv": "mass_trv{EG10, ETM10}[MASS_MIN_40]",
    "JetMet": "dist{JET30, ETMHF20[ETMHF-PHI_0to1]}[DPHI_MIN2p094]",
    "MassDR": "mass_inv_dr{JET20, JET20}[MASSDR_MIN_20]",
    "CombOrm": "comb_orm{TAU20, TAU20, JET30}[ORMDR_0p5]",
    "MassOrm": "mass_inv_orm{JET20, JET20, EG10}[MASS_MIN_40, ORMDR_0p5]",
    "DistOrm": "dist_orm{JET20, TAU20}[DR_1p4, ORMDR_0p5]",
    "SumPhi": "(ETM100[ETM-PHI_0to1] OR HTT.eq.150) AND NOT ETMHF200",
    "DR": "dist{EG10, JET20}[DR_1p4] AND (comb{JET20, JET20, JET20} OR NOT MU0)",
}


def _menu() -> Menu:
    return utm_menu(**SEEDS)


# -- reference -----------------------------------------------------------------------------------


def _objects(batch: EventBatch, e: int, coll: str) -> list[dict[str, int]]:
    if coll in ("etm", "htm", "etmhf"):
        return [{"pt": min(int(batch[coll][e]), 32767), "eta": 0, "phi": int(batch[f"{coll}_phi"][e]) % 144,
                 "charge": 0, "qual": 0, "iso": 0, "slot": 0, "mu": False}]  # fmt: skip
    prefix = {"egamma": "eg", "tau": "tau", "jet": "jet", "muon": "mu"}[coll]
    out = []
    for j in range(batch[f"{prefix}_pt"].shape[1]):
        o = {f: int(batch[f"{prefix}_{f}"][e, j]) for f in ("pt", "eta", "phi", "iso", "qual")}
        o["charge"] = int(batch["mu_charge"][e, j]) if coll == "muon" else 0
        o["phi"] %= 576 if coll == "muon" else 144
        o |= {"slot": j, "mu": coll == "muon"}
        out.append(o)
    return out


def _inside(x: int, windows: tuple[tuple[int, int], ...], wrap: bool) -> bool:
    return any((x >= lo or x <= hi) if wrap and lo > hi else lo <= x <= hi for lo, hi in windows)


def _leg_ok(leg: HwLeg, o: dict[str, int]) -> bool:
    return (
        o["pt"] > 0 and leg.pt_min <= o["pt"] <= leg.pt_max and leg.eta_min <= abs(o["eta"]) <= leg.eta_max
        and (not leg.eta_windows or _inside(o["eta"], leg.eta_windows, False))
        and (not leg.phi_windows or _inside(o["phi"], leg.phi_windows, True))
        and bool(leg.qual_mask >> min(o["qual"], 16) & 1) and bool(leg.iso_mask >> min(o["iso"], 16) & 1)
        and (leg.charge == 0 or o["charge"] == leg.charge) and leg.slots[0] <= o["slot"] <= leg.slots[1]
    )  # fmt: skip


def _deltas(a: dict[str, int], b: dict[str, int], scale: str) -> tuple[int, int, int]:
    t = LUTS[scale]

    def coord(o: dict[str, int]) -> tuple[int, int]:
        return ((o["eta"] + 2) >> 2, o["phi"] >> 2) if o["mu"] and scale == "calo" else (o["eta"], o["phi"])

    (ea, pa), (eb, pb) = coord(a), coord(b)
    de = min(abs(ea - eb), len(t.deta2) - 1)
    dp = abs(pa - pb) % t.phi_bins
    dp = min(dp, t.phi_bins - dp)
    return de, dp, int(t.deta2[de]) + int(t.dphi2[dp])


def _m2(a: dict[str, int], b: dict[str, int], scale: str, transverse: bool = False) -> int:
    t = LUTS[scale]
    de, dp, _ = _deltas(a, b, scale)
    return a["pt"] * b["pt"] * (int(t.cosh_deta[0 if transverse else de]) - int(t.cos_dphi[dp]))


def _pair_ok(c: HwCorrelation, a: dict[str, int], b: dict[str, int]) -> bool:
    de, dp, dr2 = _deltas(a, b, c.scale)
    if c.veto:
        return not any(w != EMPTY and w[0] <= v <= w[1] for w, v in ((c.deta, de), (c.dphi, dp), (c.dr2, dr2)))
    m2 = _m2(a, b, c.scale, c.transverse)
    tbpt = 4096 * (a["pt"] ** 2 + b["pt"] ** 2) + 2 * a["pt"] * b["pt"] * int(LUTS[c.scale].cos_dphi[dp])
    return (
        c.deta[0] <= de <= c.deta[1] and c.dphi[0] <= dp <= c.dphi[1] and c.dr2[0] <= dr2 <= c.dr2[1]
        and c.mass2[0] <= m2 <= c.mass2[1] and tbpt >= c.tbpt2
        and (c.massdr[0] == 0 or 256 * m2 >= 2 * c.massdr[0] * dr2)
        and (c.massdr[1] == NO_MAX or 256 * m2 <= 2 * c.massdr[1] * dr2)
        and (c.charge == 0 or a["charge"] * b["charge"] * c.charge > 0)
    )  # fmt: skip


def _whole_ok(cond: HwObjects, combo: tuple[dict[str, int], ...]) -> bool:
    q = [o["charge"] for o in combo]
    if cond.charge and (0 in q or (len(set(q)) == 1) != (cond.charge > 0)):
        return False
    if cond.mass3 != (0, NO_MAX):
        scale = "muon" if combo[0]["mu"] else "calo"
        m2 = sum(_m2(a, b, scale) for a, b in itertools.combinations(combo, 2))
        return cond.mass3[0] <= m2 <= cond.mass3[1]
    return True


def _objects_ok(batch: EventBatch, e: int, cond: HwObjects) -> bool:
    cands = [[o for o in _objects(batch, e, leg.collection) if _leg_ok(leg, o)] for leg in cond.legs]
    for combo in itertools.product(*cands):
        used = [(leg.collection, o["slot"]) for leg, o in zip(cond.legs, combo, strict=True)]
        if len(set(used)) == len(used) and _whole_ok(cond, combo) and all(
            _pair_ok(c, combo[c.legs[0]], combo[c.legs[1]]) for c in cond.correlations
        ):
            return True
    return False


def _condition(batch: EventBatch, e: int, cond: object) -> bool:
    if isinstance(cond, HwObjects):
        return _objects_ok(batch, e, cond)
    assert isinstance(cond, HwSum)
    ok = cond.min <= int(batch[cond.sum][e]) <= cond.max
    return ok and (not cond.phi_windows or _inside(int(batch[f"{cond.sum}_phi"][e]) % 144, cond.phi_windows, True))


def reference(menu: Menu, batch: EventBatch) -> np.ndarray:
    out = np.zeros((len(batch), len(menu.hw_seeds)), bool)
    for s, (seed, cfg) in enumerate(zip(menu.hw_seeds, menu.config.seeds, strict=True)):
        for e in range(len(batch)):
            values = [_condition(batch, e, c) for c in seed.conditions]
            stack: list[bool] = []
            for op in cfg.program:
                if op >= 0:
                    stack.append(values[op])
                elif op == -3:
                    stack.append(not stack.pop())
                else:
                    b, a = stack.pop(), stack.pop()
                    stack.append((a and b) if op == -1 else (a or b))
            out[e, s] = stack[0]
    return out


def _busy(seed: int, n: int) -> EventBatch:
    """Random events with sums and their φ spread wide, so every seed has passes and fails."""
    batch = random_batch(seed, n, max_objects=5)
    rng = np.random.default_rng(seed + 1)
    extra = {s: rng.integers(0, 500, n).astype(np.int32) for s in ("ett", "htt", "etm", "htm", "etmhf")}
    extra |= {f"{s}_phi": rng.integers(0, 144, n).astype(np.int16) for s in ("etm", "htm", "etmhf")}
    extra["htt"][: n // 4] = 300
    return batch.with_columns(**extra)


def test_every_feature_matches_the_reference_and_is_exercised() -> None:
    menu = _menu()
    assert menu.unsupported == {}
    batch = _busy(7, 300)
    got, want = menu.evaluate(batch), reference(menu, batch)
    for s, name in enumerate(menu.seed_names):
        assert np.array_equal(got[:, s], want[:, s]), (name, np.flatnonzero(got[:, s] != want[:, s])[:10])
        assert 0 < want[:, s].sum() < len(batch), f"{name} is not exercised ({want[:, s].sum()} passes)"


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(1, 200))
def test_program_equals_reference_and_numpy_evaluator(seed: int, n: int) -> None:
    menu = _menu()
    batch = _busy(seed, n)
    got = menu.evaluate(batch)
    assert np.array_equal(got, reference(menu, batch))
    assert np.array_equal(got, menu.evaluate_reference(batch))
