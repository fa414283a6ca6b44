"""Conversion of menu cuts to hardware-unit integers."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.menu._config import (
    AlwaysCondition,
    CorrelationConfig,
    LegConfig,
    ObjectCondition,
    ScoreCondition,
    SeedConfig,
    SumCondition,
)
from emulator.menu.hardware import (
    ALL_BITS,
    NO_MAX,
    HwAlways,
    HwObjects,
    HwScore,
    HwSum,
    compile_leg,
    compile_seed,
    pipeline_depth,
)
from emulator.menu.luts import COSH_BITS, DR2_BITS, LUTS

CALO_LSB = Fraction("0.0435")
MU_LSB = Fraction("0.010875")


def _seed(*conds: object) -> SeedConfig:
    return SeedConfig("S", tuple(conds), (1,))  # type: ignore[arg-type]


@given(cents=st.integers(0, 100_000), hw=st.integers(0, 4095))
def test_pt_threshold_equivalence(cents: int, hw: int) -> None:
    """pT ≥ X GeV ⇔ hwPt ≥ ceil(X / 0.5), for every hwPt (and empty slots never pass)."""
    x = Fraction(cents, 100)
    leg = compile_leg(LegConfig("jet", pt_min=float(x)))
    assert (hw >= leg.pt_min) == (hw > 0 and Fraction(hw, 2) >= x)


@given(milli=st.integers(0, 6000), hw=st.integers(-300, 300), muon=st.booleans())
def test_eta_max_and_min_equivalence(milli: int, hw: int, muon: bool) -> None:
    """|η| ≤ E ⇔ |hwEta| ≤ floor(E/LSB) and |η| ≥ E ⇔ |hwEta| ≥ ceil(E/LSB), exactly."""
    e = Fraction(milli, 1000)
    lsb = MU_LSB if muon else CALO_LSB
    kind: Literal["muon", "egamma"] = "muon" if muon else "egamma"
    hi = compile_leg(LegConfig(kind, eta_max=float(e)))
    lo = compile_leg(LegConfig(kind, eta_min=float(e)))
    assert (abs(hw) <= hi.eta_max) == (abs(hw) * lsb <= e)
    assert (abs(hw) >= lo.eta_min) == (abs(hw) * lsb >= e)


def test_named_thresholds() -> None:
    leg = compile_leg(LegConfig("egamma", pt_min=25, eta_max=2.5))
    assert (leg.pt_min, leg.eta_min, leg.eta_max) == (50, 0, 57)
    assert compile_leg(LegConfig("muon", pt_min=4.5, eta_max=2.4)).eta_max == 220
    assert compile_leg(LegConfig("tau", eta_max=2.1)).eta_max == 48
    assert compile_leg(LegConfig("jet")).pt_min == 1  # an empty slot never passes
    assert compile_leg(LegConfig("jet")).eta_max == NO_MAX


def test_quality_and_isolation_masks() -> None:
    assert compile_leg(LegConfig("muon", quality=12)).qual_mask == 0xF000
    assert compile_leg(LegConfig("muon", quality=(4, 12))).qual_mask == (1 << 4) | (1 << 12)
    assert compile_leg(LegConfig("tau", iso=(1, 3))).iso_mask == 0b1010
    assert compile_leg(LegConfig("tau")).iso_mask == ALL_BITS


def test_correlation_scale_and_bounds() -> None:
    mumu = ObjectCondition(
        (LegConfig("muon"), LegConfig("muon")),
        (CorrelationConfig(dr_max=1.2, charge="opposite"),),
    )
    hw = compile_seed(_seed(mumu)).conditions[0]
    assert isinstance(hw, HwObjects)
    corr = hw.correlations[0]
    assert corr.scale == "muon"
    assert corr.charge == -1
    assert corr.dr2 == (0, math.floor(1.44 * 2**DR2_BITS + 1e-9))
    assert corr.mass2 == (0, NO_MAX)
    assert corr.deta == (0, NO_MAX)

    mujet = ObjectCondition(
        (LegConfig("muon"), LegConfig("jet")),
        (CorrelationConfig(deta_max=1.5, dphi_min=1.0, mass_min=300),),
    )
    hw = compile_seed(_seed(mujet)).conditions[0]
    assert isinstance(hw, HwObjects)
    corr = hw.correlations[0]
    assert corr.scale == "calo"
    assert corr.deta == (0, 34)  # floor(1.5 / 0.0435)
    assert corr.dphi == (math.ceil(1.0 / LUTS["calo"].phi_lsb), NO_MAX)
    assert corr.mass2 == (300**2 * 2 ** (COSH_BITS + 1), NO_MAX)


def test_sum_score_and_always_conditions() -> None:
    seed = compile_seed(
        _seed(SumCondition("etmhf", min=90.0, max=100.25), ScoreCondition("axo", 3.5), AlwaysCondition())
    )
    assert seed.conditions == (HwSum("etmhf", 180, 200), HwScore("axo", 3.5), HwAlways())
    d = seed.as_dict()
    assert [c["kind"] for c in d["conditions"]] == ["sum", "score", "always"]


@pytest.mark.parametrize(
    ("cond", "depth"),
    [
        (ObjectCondition((LegConfig("jet"),)), 0),
        (ObjectCondition((LegConfig("jet"), LegConfig("jet"))), 1),
        (ObjectCondition((LegConfig("jet"), LegConfig("jet")), (CorrelationConfig(dr_max=1.0),)), 3),
        (ObjectCondition((LegConfig("jet"), LegConfig("jet")), (CorrelationConfig(mass_min=1.0),)), 5),
        (SumCondition("htt", 100.0), 0),
    ],
    ids=["single", "double", "dr", "mass", "sum"],
)
def test_pipeline_depth(cond: object, depth: int) -> None:
    assert pipeline_depth(compile_seed(_seed(cond))) == depth
