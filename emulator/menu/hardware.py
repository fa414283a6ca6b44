"""A menu in hardware units: every threshold an integer, converted once at load.

This is the data a firmware generator emits (see ``docs/menu.md`` for the
arithmetic). Conversions, for a physical cut X and an LSB:

* ``pT ≥ X``  ⇔ ``hwPt ≥ ceil(X / 0.5)`` (and ≥ 1: ``hwPt == 0`` is an empty slot)
* ``|η| ≤ X`` ⇔ ``|hwEta| ≤ floor(X / LSB)``; ``|η| ≥ X`` ⇔ ``|hwEta| ≥ ceil(X / LSB)``
* ``ΔR ≤ X``  ⇔ ``deta2[|Δη|] + dphi2[Δφ] ≤ floor(X² · 2^DR2_BITS)`` (``ceil`` for minima)
* ``M ≥ X``   ⇔ ``hwPt₁·hwPt₂·(cosh_deta[|Δη|] − cos_dphi[Δφ]) ≥ ceil(X² · 2^(COSH_BITS+1))``
  (M² = 2·pT₁·pT₂·(cosh Δη − cos Δφ) and pT = 0.5·hwPt, so M² = value / 2^(COSH_BITS+1))

>>> from emulator.menu._config import LegConfig
>>> compile_leg(LegConfig("jet", pt_min=30, eta_max=2.5))
HwLeg(collection='jet', pt_min=60, eta_min=0, eta_max=57, qual_mask=65535, iso_mask=65535)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Final

from emulator.menu._config import (
    AlwaysCondition,
    Condition,
    CorrelationConfig,
    LegConfig,
    ObjectCondition,
    ScoreCondition,
    SeedConfig,
    SumCondition,
)
from emulator.menu.luts import COSH_BITS, DR2_BITS, LUTS, ScaleName
from streams.schema import COLLECTIONS, PT_LSB

__all__ = [
    "ALL_BITS",
    "NO_MAX",
    "HwAlways",
    "HwCondition",
    "HwCorrelation",
    "HwLeg",
    "HwObjects",
    "HwScore",
    "HwSeed",
    "HwSum",
    "compile_leg",
    "compile_seed",
    "pipeline_depth",
]

#: "No upper bound" for integer maxima (fits int64 with room for sums).
NO_MAX: Final = (1 << 62) - 1
#: Mask accepting every 4-bit quality / isolation value (no requirement).
ALL_BITS: Final = 0xFFFF
_EPS: Final = 1e-9  # guards floor/ceil against float noise (2.5/0.0435 etc.)


def _ceil(x: float) -> int:
    return math.ceil(x - _EPS)


def _floor(x: float) -> int:
    return math.floor(x + _EPS)


@dataclass(frozen=True, slots=True)
class HwLeg:
    """Single-object cuts: ``hwPt ≥ pt_min``, ``eta_min ≤ |hwEta| ≤ eta_max``, bit masks."""

    collection: str
    pt_min: int
    eta_min: int
    eta_max: int
    qual_mask: int  # bit q set: quality q accepted
    iso_mask: int


@dataclass(frozen=True, slots=True)
class HwCorrelation:
    """Pair cuts in integer units of ``scale`` (bins, LUT units); bounds inclusive."""

    legs: tuple[int, int]
    scale: ScaleName
    deta: tuple[int, int]
    dphi: tuple[int, int]
    dr2: tuple[int, int]
    mass2: tuple[int, int]
    charge: int  # 0: any, -1: opposite, +1: same


@dataclass(frozen=True, slots=True)
class HwObjects:
    legs: tuple[HwLeg, ...]
    correlations: tuple[HwCorrelation, ...] = ()


@dataclass(frozen=True, slots=True)
class HwSum:
    sum: str
    min: int
    max: int


@dataclass(frozen=True, slots=True)
class HwScore:
    """``column ≥ min`` (integer columns compare with ``ceil(min)``)."""

    column: str
    min: float


@dataclass(frozen=True, slots=True)
class HwAlways:
    pass


HwCondition = HwObjects | HwSum | HwScore | HwAlways


@dataclass(frozen=True, slots=True)
class HwSeed:
    name: str
    conditions: tuple[HwCondition, ...]

    def as_dict(self) -> dict[str, Any]:
        """Plain-Python form: conditions tagged with their ``kind``."""
        return {
            "name": self.name,
            "conditions": [{"kind": type(c).__name__[2:].lower(), **asdict(c)} for c in self.conditions],
        }


def _mask(value: int | tuple[int, ...] | None) -> int:
    if value is None:
        return ALL_BITS
    values = range(value, 16) if isinstance(value, int) else value
    return sum(1 << v for v in set(values))


def compile_leg(leg: LegConfig) -> HwLeg:
    """Convert one leg's cuts to hardware units of its collection."""
    lsb = COLLECTIONS[leg.type].eta_lsb
    return HwLeg(
        collection=leg.type,
        pt_min=max(1, _ceil(leg.pt_min / PT_LSB)),
        eta_min=0 if leg.eta_min is None else _ceil(leg.eta_min / lsb),
        eta_max=NO_MAX if leg.eta_max is None else _floor(leg.eta_max / lsb),
        qual_mask=_mask(leg.quality),
        iso_mask=_mask(leg.iso),
    )


def _bounds(lo: float | None, hi: float | None, scale: float) -> tuple[int, int]:
    """Inclusive integer bounds of ``lo ≤ x ≤ hi`` for x in units of ``1/scale``."""
    return (0 if lo is None else _ceil(lo * scale), NO_MAX if hi is None else _floor(hi * scale))


def _sq(x: float | None) -> float | None:
    return None if x is None else x * x


def _compile_corr(corr: CorrelationConfig, legs: tuple[LegConfig, ...]) -> HwCorrelation:
    both_mu = all(legs[i].type == "muon" for i in corr.legs)
    scale: ScaleName = "muon" if both_mu else "calo"
    luts = LUTS[scale]
    return HwCorrelation(
        legs=(corr.legs[0], corr.legs[1]),
        scale=scale,
        deta=_bounds(corr.deta_min, corr.deta_max, 1 / luts.eta_lsb),
        dphi=_bounds(corr.dphi_min, corr.dphi_max, 1 / luts.phi_lsb),
        dr2=_bounds(_sq(corr.dr_min), _sq(corr.dr_max), float(1 << DR2_BITS)),
        mass2=_bounds(_sq(corr.mass_min), _sq(corr.mass_max), float(1 << (COSH_BITS + 1))),
        charge={None: 0, "opposite": -1, "same": 1}[corr.charge],
    )


def _compile_condition(cond: Condition) -> HwCondition:
    if isinstance(cond, ObjectCondition):
        corrs = tuple(_compile_corr(c, cond.legs) for c in cond.correlations)
        return HwObjects(tuple(compile_leg(leg) for leg in cond.legs), corrs)
    if isinstance(cond, SumCondition):
        lo, hi = _bounds(cond.min, cond.max, 1 / PT_LSB)
        return HwSum(cond.sum, lo, hi)
    if isinstance(cond, ScoreCondition):
        return HwScore(cond.score, cond.min)
    assert isinstance(cond, AlwaysCondition)
    return HwAlways()


def compile_seed(seed: SeedConfig) -> HwSeed:
    """Convert a seed's conditions to hardware units."""
    return HwSeed(seed.name, tuple(_compile_condition(c) for c in seed.conditions))


def pipeline_depth(seed: HwSeed) -> int:
    """Clock cycles of a seed's condition logic beyond the object compares.

    Pair cuts: |Δ| and LUT read (1), add and compare (1); a mass adds a two-stage
    multiply. Several legs add one level that ORs over object assignments.
    """
    depth = 0
    for cond in seed.conditions:
        if not isinstance(cond, HwObjects):
            continue
        d = 1 if len(cond.legs) > 1 or cond.correlations else 0
        if cond.correlations:
            mass = any(c.mass2 != (0, NO_MAX) for c in cond.correlations)
            d += 4 if mass else 2
        depth = max(depth, d)
    return depth
