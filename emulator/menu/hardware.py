"""A menu in hardware units: every threshold an integer, converted once at load.

This is the data a firmware generator emits (see ``docs/menu.md`` for the
arithmetic). Conversions, for a physical cut X and an LSB:

* ``pT ≥ X``  ⇔ ``hwPt ≥ ceil(X / 0.5)`` (and ≥ 1: ``hwPt == 0`` is an empty slot); ``pT ≤ X`` ⇔ ``≤ floor``
* ``|η| ≤ X`` ⇔ ``|hwEta| ≤ floor(X / LSB)``; an η window [a, b] ⇔ ``ceil(a / LSB) ≤ hwEta ≤ floor(b / LSB)``
* a φ window [a, b] ⇔ ``ceil(a / LSB) ≤ hwPhi ≤ floor(b / LSB)``; a > b wraps through 0
  (``hwPhi ≥ ceil(a / LSB)`` or ``hwPhi ≤ floor(b / LSB)``)
* ``ΔR ≤ X``  ⇔ ``deta2[|Δη|] + dphi2[Δφ] ≤ floor(X² · 2^DR2_BITS)`` (``ceil`` for minima)
* ``M ≥ X``   ⇔ ``hwPt₁·hwPt₂·(cosh_deta[|Δη|] − cos_dphi[Δφ]) ≥ ceil(X² · 2^(COSH_BITS+1))``
  (M² = 2·pT₁·pT₂·(cosh Δη − cos Δφ) and pT = 0.5·hwPt, so M² = value / 2^(COSH_BITS+1))
* two-body ``pT ≥ X`` ⇔ ``2^COSH_BITS·(hwPt₁² + hwPt₂²) + 2·hwPt₁·hwPt₂·cos_dphi[Δφ] ≥ ceil(4·X²·2^COSH_BITS)``
* ``M/ΔR ≥ X`` ⇔ ``2^8·M2 ≥ 2·ceil(X²·2^8)·dR2`` (``≤`` with ``floor`` for maxima)

>>> from emulator.menu._config import LegConfig
>>> leg = compile_leg(LegConfig("jet", pt_min=30, eta_max=2.5, phi=((5.5, 0.5),)))
>>> leg.pt_min, leg.eta_min, leg.eta_max, leg.phi_windows
(60, 0, 57, ((127, 11),))
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Final

from emulator.menu._conditions import OFFSET_MUONS, SUM_LEGS, Window, leg_collection
from emulator.menu._config import (
    AlwaysCondition,
    Condition,
    CorrelationConfig,
    ExternalCondition,
    LegConfig,
    ObjectCondition,
    ScoreCondition,
    SeedConfig,
    SignalCondition,
    SumCondition,
)
from emulator.menu.luts import COSH_BITS, DR2_BITS, LUTS, ScaleName
from streams.schema import CALO_PHI_BINS, COLLECTIONS, MU_SHOWER_BITS, PT_LSB

__all__ = [
    "ALL_BITS",
    "EMPTY",
    "MASSDR_BITS",
    "NO_MAX",
    "HwAlways",
    "HwCondition",
    "HwCorrelation",
    "HwExternal",
    "HwLeg",
    "HwObjects",
    "HwScore",
    "HwSeed",
    "HwSignal",
    "HwSum",
    "compile_leg",
    "compile_seed",
    "phi_bins",
    "pipeline_depth",
]

#: "No upper bound" for integer maxima (fits int64 with room for sums).
NO_MAX: Final = (1 << 62) - 1
#: Mask accepting every 4-bit quality / isolation value (no requirement).
ALL_BITS: Final = 0xFFFF
#: A window that contains nothing (unset windows of an overlap-removal veto).
EMPTY: Final = (1, 0)
#: Fractional bits of the (M/ΔR)² thresholds.
MASSDR_BITS: Final = 8
_EPS: Final = 1e-9  # guards floor/ceil against float noise (2.5/0.0435 etc.)
_NO_PHI: Final = (NO_MAX, NO_MAX)  # a φ window narrower than a bin: never passes


def _ceil(x: float) -> int:
    return math.ceil(x - _EPS)


def _floor(x: float) -> int:
    return math.floor(x + _EPS)


def phi_bins(collection: str) -> int:
    """φ bins of a collection or sum leg."""
    if collection in OFFSET_MUONS:
        return COLLECTIONS["muon"].phi_bins
    return CALO_PHI_BINS if collection in SUM_LEGS else COLLECTIONS[collection].phi_bins


@dataclass(frozen=True, slots=True)
class HwLeg:
    """Single-object cuts: ``pt_min ≤ hwPt ≤ pt_max``, ``eta_min ≤ |hwEta| ≤ eta_max``, masks,
    signed η windows and φ windows (OR-ed within each; none = no cut), charge (0 any, ±1), slots;
    muons ``upt`` (hwUpt bounds, 1 GeV), ``ip_mask`` (bit v: IP v accepted), ``index_windows``
    (track-finder index ranges); jets ``disp`` (−1 any, 0 clear, 1 set)."""

    collection: str
    pt_min: int
    eta_min: int
    eta_max: int
    qual_mask: int  # bit q set: quality q accepted
    iso_mask: int
    pt_max: int = NO_MAX
    eta_windows: tuple[tuple[int, int], ...] = ()
    phi_windows: tuple[tuple[int, int], ...] = ()  # lo > hi: wraps through 0
    charge: int = 0
    slots: tuple[int, int] = (0, 11)
    upt: tuple[int, int] = (0, NO_MAX)
    ip_mask: int = ALL_BITS
    index_windows: tuple[tuple[int, int], ...] = ()
    disp: int = -1

    @property
    def extra_cuts(self) -> tuple[str, ...]:
        """The schema-2 cuts this leg uses (UPT, IP, INDEX, DISP; BX: another crossing's muon), for
        writers that lack them."""
        used = {"UPT": self.upt != (0, NO_MAX), "IP": self.ip_mask != ALL_BITS,
                "INDEX": bool(self.index_windows), "DISP": self.disp >= 0,
                "BX": self.collection in OFFSET_MUONS}  # fmt: skip
        return tuple(k for k, v in used.items() if v)


@dataclass(frozen=True, slots=True)
class HwCorrelation:
    """Pair cuts in integer units of ``scale`` (bins, LUT units); bounds inclusive.

    ``veto``: the pair fails when any of ``deta``/``dphi``/``dr2`` contains it (unset: :data:`EMPTY`).
    """

    legs: tuple[int, int]
    scale: ScaleName
    deta: tuple[int, int]
    dphi: tuple[int, int]
    dr2: tuple[int, int]
    mass2: tuple[int, int]
    charge: int  # 0: any, -1: opposite, +1: same
    tbpt2: int = 0
    massdr: tuple[int, int] = (0, NO_MAX)
    transverse: bool = False
    veto: bool = False
    upt: bool = False  # the mass from hwUpt (1 GeV, read as 2·hwUpt in pT units)


@dataclass(frozen=True, slots=True)
class HwObjects:
    """Legs on distinct objects, pair correlations, all-legs charge (−1 OS, +1 LS), 3-body M2 window."""

    legs: tuple[HwLeg, ...]
    correlations: tuple[HwCorrelation, ...] = ()
    charge: int = 0
    mass3: tuple[int, int] = (0, NO_MAX)


@dataclass(frozen=True, slots=True)
class HwSum:
    sum: str
    min: int
    max: int
    phi_windows: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class HwScore:
    """``column ≥ min`` (integer columns compare with ``ceil(min)``)."""

    column: str
    min: float


@dataclass(frozen=True, slots=True)
class HwAlways:
    pass


@dataclass(frozen=True, slots=True)
class HwExternal:
    """A BPTX external condition at crossing offset ``bx``: an input bit of the uGT, which l1emu
    derives from the event's bunch-crossing number and the filling scheme."""

    signal: str
    bx: int = 0


@dataclass(frozen=True, slots=True)
class HwSignal:
    """A uGT signal bit of the event: bit ``bit`` of column ``column`` (muon showers: ``mu_shower``)."""

    signal: str
    column: str
    bit: int


HwCondition = HwObjects | HwSum | HwScore | HwAlways | HwExternal | HwSignal


@dataclass(frozen=True, slots=True)
class HwSeed:
    """A seed's conditions and postfix logic (empty: their AND); ``unsupported`` seeds never fire."""

    name: str
    conditions: tuple[HwCondition, ...]
    logic: tuple[int, ...] = ()
    unsupported: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Plain-Python form: conditions tagged with their ``kind``."""
        out: dict[str, Any] = {
            "name": self.name,
            "conditions": [{"kind": type(c).__name__[2:].lower(), **asdict(c)} for c in self.conditions],
        }
        if self.logic:
            out["logic"] = list(self.logic)
        if self.unsupported:
            out["unsupported"] = self.unsupported
        return out


def _mask(value: int | tuple[int, ...] | None) -> int:
    if value is None:
        return ALL_BITS
    values = range(value, 16) if isinstance(value, int) else value
    return sum(1 << v for v in set(values))


def _ip_mask(value: int | tuple[int, ...] | None) -> int:
    if value is None:
        return ALL_BITS
    return sum(1 << v for v in set(range(value, 4) if isinstance(value, int) else value))


def _phi_window(w: Window, bins: int) -> tuple[int, int]:
    lsb = 2 * math.pi / bins
    lo, hi = _ceil(w[0] / lsb), _floor(w[1] / lsb)
    if w[0] <= w[1] and lo > hi:
        return _NO_PHI
    return lo, hi


def compile_leg(leg: LegConfig) -> HwLeg:
    """Convert one leg's cuts to hardware units of its collection."""
    bins = phi_bins(leg.type)
    lsb = COLLECTIONS[leg.type].eta_lsb if leg.type in COLLECTIONS else 1.0
    charge = {None: 0, "positive": 1, "negative": -1}[leg.charge]
    return HwLeg(
        collection=leg_collection(leg),
        pt_min=max(1, _ceil(leg.pt_min / PT_LSB)),
        eta_min=0 if leg.eta_min is None else _ceil(leg.eta_min / lsb),
        eta_max=NO_MAX if leg.eta_max is None else _floor(leg.eta_max / lsb),
        qual_mask=_mask(leg.quality),
        iso_mask=_mask(leg.iso),
        pt_max=NO_MAX if leg.pt_max is None else _floor(leg.pt_max / PT_LSB),
        eta_windows=tuple((_ceil(a / lsb), _floor(b / lsb)) for a, b in leg.eta),
        phi_windows=tuple(_phi_window(w, bins) for w in leg.phi),
        charge=charge,
        slots=leg.slots or (0, 11),
        upt=(0 if leg.upt_min is None else _ceil(leg.upt_min), NO_MAX if leg.upt_max is None else _floor(leg.upt_max)),
        ip_mask=_ip_mask(leg.ip),
        index_windows=tuple(leg.index),
        disp=-1 if leg.displaced is None else int(leg.displaced),
    )


def _bounds(lo: float | None, hi: float | None, scale: float) -> tuple[int, int]:
    """Inclusive integer bounds of ``lo ≤ x ≤ hi`` for x in units of ``1/scale``."""
    return (0 if lo is None else _ceil(lo * scale), NO_MAX if hi is None else _floor(hi * scale))


def _veto_bounds(lo: float | None, hi: float | None, scale: float) -> tuple[int, int]:
    return EMPTY if lo is None and hi is None else _bounds(lo, hi, scale)


def _sq(x: float | None) -> float | None:
    return None if x is None else x * x


def _compile_corr(corr: CorrelationConfig, legs: tuple[LegConfig, ...]) -> HwCorrelation:
    both_mu = all(legs[i].type == "muon" for i in corr.legs)
    scale: ScaleName = "muon" if both_mu else "calo"
    luts = LUTS[scale]
    win = _veto_bounds if corr.veto else _bounds
    return HwCorrelation(
        legs=(corr.legs[0], corr.legs[1]),
        scale=scale,
        deta=win(corr.deta_min, corr.deta_max, 1 / luts.eta_lsb),
        dphi=win(corr.dphi_min, corr.dphi_max, 1 / luts.phi_lsb),
        dr2=win(_sq(corr.dr_min), _sq(corr.dr_max), float(1 << DR2_BITS)),
        mass2=_bounds(_sq(corr.mass_min), _sq(corr.mass_max), float(1 << (COSH_BITS + 1))),
        charge={None: 0, "opposite": -1, "same": 1}[corr.charge],
        tbpt2=0 if corr.tbpt_min is None else _ceil(corr.tbpt_min**2 * 4 * (1 << COSH_BITS)),
        massdr=_bounds(_sq(corr.massdr_min), _sq(corr.massdr_max), float(1 << MASSDR_BITS)),
        transverse=corr.transverse,
        veto=corr.veto,
        upt=corr.upt,
    )


def _compile_objects(cond: ObjectCondition) -> HwObjects:
    corrs = tuple(_compile_corr(c, cond.legs) for c in cond.correlations)
    mass3 = _bounds(_sq(cond.mass3_min), _sq(cond.mass3_max), float(1 << (COSH_BITS + 1)))
    charge = {None: 0, "opposite": -1, "same": 1}[cond.charge]
    return HwObjects(tuple(compile_leg(leg) for leg in cond.legs), corrs, charge, mass3)


def _compile_condition(cond: Condition) -> HwCondition:
    if isinstance(cond, ObjectCondition):
        return _compile_objects(cond)
    if isinstance(cond, SumCondition):
        lo, hi = _bounds(cond.min, cond.max, 1 / PT_LSB)
        return HwSum(cond.sum, lo, hi, tuple(_phi_window(w, CALO_PHI_BINS) for w in cond.phi))
    if isinstance(cond, ScoreCondition):
        return HwScore(cond.score, cond.min)
    if isinstance(cond, ExternalCondition):
        return HwExternal(cond.external, cond.bx)
    if isinstance(cond, SignalCondition):
        return HwSignal(cond.signal, "mu_shower", MU_SHOWER_BITS[cond.signal])
    assert isinstance(cond, AlwaysCondition)
    return HwAlways()


def compile_seed(seed: SeedConfig) -> HwSeed:
    """Convert a seed's conditions to hardware units."""
    return HwSeed(seed.name, tuple(_compile_condition(c) for c in seed.conditions), seed.logic, seed.unsupported)


def pipeline_depth(seed: HwSeed) -> int:
    """Clock cycles of a seed's condition logic beyond the object compares.

    Pair cuts: |Δ| and LUT read (1), add and compare (1); a mass adds a two-stage
    multiply (and a three-body mass one more add). Several legs add one level that ORs
    over object assignments.
    """
    depth = 0
    for cond in seed.conditions:
        if not isinstance(cond, HwObjects):
            continue
        d = 1 if len(cond.legs) > 1 or cond.correlations else 0
        mass = any(c.mass2 != (0, NO_MAX) or c.tbpt2 or c.massdr != (0, NO_MAX) for c in cond.correlations)
        if cond.correlations or cond.mass3 != (0, NO_MAX):
            d += 4 if mass or cond.mass3 != (0, NO_MAX) else 2
        d += cond.mass3 != (0, NO_MAX)
        depth = max(depth, d)
    return depth
