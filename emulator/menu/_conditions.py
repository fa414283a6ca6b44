"""The menu's conditions in physical units: frozen dataclasses, validated when built.

Both menu formats end here: l1emu YAML conditions are read into them field by field, and
utm expressions (uGT XML menus) are compiled into them by :mod:`emulator.menu._utm`.

>>> leg = LegConfig("egamma", pt_min=28, eta=((2.523, 5.0), (-5.0, -2.523)), iso=(1, 3))
>>> ObjectCondition((leg,)).legs[0].eta[1]
(-5.0, -2.523)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Final, Literal

from streams.filling import BPTX_SIGNALS
from streams.schema import COLUMN_NAME_RE, MU_SHOWER_BITS, NEIGHBOUR_BX

__all__ = [
    "KINDS",
    "MAX_LEGS",
    "OFFSET_MUONS",
    "SUM_LEGS",
    "AlwaysCondition",
    "Condition",
    "CorrelationConfig",
    "ExternalCondition",
    "LegConfig",
    "ObjectCondition",
    "ScoreCondition",
    "SignalCondition",
    "SumCondition",
    "leg_collection",
]

MAX_LEGS: Final = 5  # comb_orm of four objects plus the overlap-removal object
MAX_BITS: Final = 15  # quality and isolation are 4-bit fields: values 0..15
MAX_ETA_WINDOWS: Final = 5
MAX_PHI_WINDOWS: Final = 2
#: Collections of the muons of other crossings (bx −2, −1, +1, +2; columns ``bxm1_mu_pt``, ...) -> offset.
OFFSET_MUONS: Final = {f"muon_bx{'m' if k < 0 else 'p'}{abs(k)}": k for k in NEIGHBOUR_BX}
MAX_INDEX: Final = 107  # muon track-finder indices 0..107 (uGMT inputs 36-71, three muons per link)
ObjectType = Literal["egamma", "tau", "jet", "muon", "etm", "htm", "etmhf"]
#: Energy sums with a φ that can be a leg of a correlation (one "object" per event).
SUM_LEGS: Final = ("etm", "htm", "etmhf")
SumName = Literal["ett", "htt", "etm", "htm", "etmhf"]
Window = tuple[float, float]


def _check_bits(value: int | tuple[int, ...] | None, field: str) -> None:
    values = (value,) if isinstance(value, int) else value or ()
    bad = [v for v in values if not 0 <= v <= MAX_BITS]
    if bad:
        msg = f"{field}: values {bad} outside 0..{MAX_BITS}"
        raise ValueError(msg)
    if isinstance(value, tuple) and not value:
        msg = f"{field}: an empty list accepts nothing; omit the field instead"
        raise ValueError(msg)


def _check_range(lo: float | None, hi: float | None, name: str) -> None:
    for v, which in ((lo, "min"), (hi, "max")):
        if v is not None and v < 0:
            msg = f"{name}_{which} must be >= 0, not {v}"
            raise ValueError(msg)
    if lo is not None and hi is not None and lo > hi:
        msg = f"{name}_min {lo} exceeds {name}_max {hi}"
        raise ValueError(msg)


def _check_windows(windows: tuple[Window, ...], name: str, most: int, *, wrap: bool) -> None:
    if len(windows) > most:
        msg = f"{name}: {len(windows)} windows given, at most {most}"
        raise ValueError(msg)
    for lo, hi in windows:
        if wrap and not (0 <= lo <= 2 * math.pi + 1e-6 and 0 <= hi <= 2 * math.pi + 1e-6):
            msg = f"{name}: window [{lo}, {hi}] outside 0..2π (a minimum above the maximum wraps through 0)"
            raise ValueError(msg)
        if not wrap and lo > hi:
            msg = f"{name}: window [{lo}, {hi}] has its minimum above its maximum"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class LegConfig:
    """One object: pT in [pt_min, pt_max] GeV, η and φ windows, quality, isolation, charge, slots.

    ``eta_min``/``eta_max`` cut on |η|; ``eta`` is a list of signed windows (OR-ed, like the
    uGT's five η windows) and ``phi`` of φ windows in rad (a minimum above the maximum wraps
    through 0). ``quality``/``iso``: an integer is a minimum, a list the accepted values.
    ``slots`` [first, last] restricts the object slots (uGT SLICE). Sum legs (etm, htm,
    etmhf) take only pT and φ cuts; their "object" is the sum and its φ. Muons also take
    ``upt_min``/``upt_max`` (unconstrained pT, GeV), ``ip`` (impact-parameter LUT, values 0..3, an
    integer is a minimum) and ``index`` (track-finder index ranges [lo, hi] within 0..107, OR-ed);
    jets ``displaced`` (the LLP flag must be set, or with false clear).
    """

    type: ObjectType
    pt_min: float = 0.0
    eta_max: float | None = None
    eta_min: float | None = None
    quality: int | tuple[int, ...] | None = None
    iso: int | tuple[int, ...] | None = None
    pt_max: float | None = None
    eta: tuple[Window, ...] = ()
    phi: tuple[Window, ...] = ()
    charge: Literal["positive", "negative"] | None = None
    slots: tuple[int, int] | None = None
    upt_min: float | None = None
    upt_max: float | None = None
    ip: int | tuple[int, ...] | None = None
    index: tuple[tuple[int, int], ...] = ()
    displaced: bool | None = None
    bx: int = 0

    def __post_init__(self) -> None:
        _check_range(self.pt_min, self.pt_max, "pt")
        _check_leg_extra(self)
        _check_range(self.eta_min, self.eta_max, "eta")
        _check_bits(self.quality, "quality")
        _check_bits(self.iso, "iso")
        _check_windows(self.eta, "eta", MAX_ETA_WINDOWS, wrap=False)
        _check_windows(self.phi, "phi", MAX_PHI_WINDOWS, wrap=True)
        if self.charge is not None and self.type != "muon":
            msg = f"charge: only muons have a charge, not {self.type}"
            raise ValueError(msg)
        if self.slots is not None and not 0 <= self.slots[0] <= self.slots[1] <= 11:
            msg = f"slots: {list(self.slots)} must be [first, last] within 0..11"
            raise ValueError(msg)
        if self.type in SUM_LEGS:
            extra = [f for f in ("eta_max", "eta_min", "quality", "iso", "slots") if getattr(self, f) is not None]
            if extra or self.eta:
                msg = f"a {self.type} leg takes pt_min, pt_max and phi only, not {extra or ['eta']}"
                raise ValueError(msg)


def leg_collection(leg: LegConfig) -> str:
    """The collection a leg reads: its type, or for a muon at another crossing that crossing's muons."""
    if leg.bx == 0:
        return leg.type
    return next(name for name, k in OFFSET_MUONS.items() if k == leg.bx)


def _check_leg_extra(leg: LegConfig) -> None:
    if isinstance(leg.bx, bool) or not isinstance(leg.bx, int) or (leg.bx and leg.bx not in NEIGHBOUR_BX):
        msg = f"bx: the crossing offset must be an integer in [-2, 2], got {leg.bx!r}"
        raise ValueError(msg)
    if leg.bx and leg.type != "muon":
        msg = f"bx: only muons of other crossings are in the event model, not {leg.type}"
        raise ValueError(msg)
    muon = ("upt_min", "upt_max", "ip")
    given = [f for f in muon if getattr(leg, f) is not None] + (["index"] if leg.index else [])
    if given and leg.type != "muon":
        msg = f"{', '.join(given)}: only muons have an unconstrained pT, impact parameter and track-finder index"
        raise ValueError(msg)
    if leg.displaced is not None and leg.type != "jet":
        msg = f"displaced: only jets carry the displaced (LLP) flag, not {leg.type}"
        raise ValueError(msg)
    _check_range(leg.upt_min, leg.upt_max, "upt")
    values = (leg.ip,) if isinstance(leg.ip, int) else leg.ip or ()
    if any(not 0 <= v <= 3 for v in values) or (isinstance(leg.ip, tuple) and not leg.ip):
        msg = f"ip: values {list(values)} must be a non-empty list within 0..3 (2 bits)"
        raise ValueError(msg)
    if len(leg.index) > MAX_ETA_WINDOWS:
        msg = f"index: {len(leg.index)} ranges given, at most {MAX_ETA_WINDOWS}"
        raise ValueError(msg)
    for lo, hi in leg.index:
        if not 0 <= lo <= hi <= MAX_INDEX:
            msg = f"index: range [{lo}, {hi}] must be [lo, hi] within 0..{MAX_INDEX}"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class CorrelationConfig:
    """Cuts on a pair of legs: ΔR, |Δη|, Δφ [rad], mass and M/ΔR [GeV], two-body pT, charges.

    ``transverse``: the mass is the transverse mass (cosh Δη taken as 1), as for a lepton and
    a missing-energy sum. ``upt``: the mass of two muons' unconstrained pT (uGT ``mass_inv_upt``).
    ``veto``: overlap removal, the pair *fails* when any of its given Δη, Δφ or ΔR windows
    contains it (only those three cuts).
    """

    legs: tuple[int, ...] = (0, 1)  # two leg indices
    dr_min: float | None = None
    dr_max: float | None = None
    deta_min: float | None = None
    deta_max: float | None = None
    dphi_min: float | None = None
    dphi_max: float | None = None
    mass_min: float | None = None
    mass_max: float | None = None
    charge: Literal["opposite", "same"] | None = None
    tbpt_min: float | None = None
    massdr_min: float | None = None
    massdr_max: float | None = None
    transverse: bool = False
    veto: bool = False
    upt: bool = False

    def __post_init__(self) -> None:
        if self.upt and ((self.mass_min is None and self.mass_max is None) or self.transverse or self.veto):
            msg = "upt (a mass of unconstrained pT) needs mass_min or mass_max, and no transverse or veto"
            raise ValueError(msg)
        if len(self.legs) != 2 or self.legs[0] == self.legs[1]:
            msg = f"legs {list(self.legs)} must name two different legs"
            raise ValueError(msg)
        for name in ("dr", "deta", "dphi", "mass", "massdr"):
            _check_range(getattr(self, f"{name}_min"), getattr(self, f"{name}_max"), name)
        _check_range(self.tbpt_min, None, "tbpt")
        cuts = [f.name for f in fields(self) if f.name not in ("legs", "transverse", "veto", "upt")]
        given = [c for c in cuts if getattr(self, c) is not None]
        if not given:
            msg = f"a correlation needs at least one cut ({', '.join(cuts)})"
            raise ValueError(msg)
        if self.veto and not set(given) <= {"dr_min", "dr_max", "deta_min", "deta_max", "dphi_min", "dphi_max"}:
            msg = f"veto (overlap removal) takes dr/deta/dphi windows only, not {given}"
            raise ValueError(msg)
        if self.transverse and self.mass_min is None and self.mass_max is None:
            msg = "transverse needs mass_min or mass_max"
            raise ValueError(msg)


def _check_correlation(k: int, corr: CorrelationConfig, legs: tuple[LegConfig, ...]) -> None:
    bad = [i for i in corr.legs if not 0 <= i < len(legs)]
    if bad:
        msg = f"correlations[{k}].legs: index {bad[0]} out of range for {len(legs)} legs"
        raise ValueError(msg)
    kinds = {legs[i].type for i in corr.legs}
    if corr.upt and kinds != {"muon"}:
        msg = f"correlations[{k}].upt: a mass of unconstrained pT needs two muon legs, got {sorted(kinds)}"
        raise ValueError(msg)
    if corr.charge is not None and kinds != {"muon"}:
        msg = f"correlations[{k}].charge needs two muon legs, got {sorted(kinds)}"
        raise ValueError(msg)
    sums = kinds & set(SUM_LEGS)
    if sums:
        used = [n for n in ("dr_min", "dr_max", "deta_min", "deta_max", "massdr_min", "massdr_max")
                if getattr(corr, n) is not None]  # fmt: skip
        if len(sums) > 1 or (kinds <= set(SUM_LEGS)):
            msg = f"correlations[{k}]: a sum can correlate with one object, not with {sorted(kinds)}"
            raise ValueError(msg)
        if used or ((corr.mass_min is not None or corr.mass_max is not None) and not corr.transverse):
            msg = f"correlations[{k}]: a {sums.pop()} leg has no η: use dphi, tbpt or a transverse mass"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class ObjectCondition:
    """1–5 legs on distinct objects (any collections), pair correlations, and whole-set cuts.

    ``charge``: charge correlation of all legs (muons): ``same`` = all alike, ``opposite`` =
    not all alike (the uGT's triple/quad-muon LS/OS). ``mass3_min/max``: invariant mass of
    three legs of one collection, M² = M₁₂² + M₁₃² + M₂₃² (massless objects).
    """

    legs: tuple[LegConfig, ...]
    correlations: tuple[CorrelationConfig, ...] = ()
    charge: Literal["opposite", "same"] | None = None
    mass3_min: float | None = None
    mass3_max: float | None = None

    def __post_init__(self) -> None:
        if not 1 <= len(self.legs) <= MAX_LEGS:
            msg = f"legs: {len(self.legs)} legs given, need 1..{MAX_LEGS}"
            raise ValueError(msg)
        for k, corr in enumerate(self.correlations):
            _check_correlation(k, corr, self.legs)
        kinds = {leg.type for leg in self.legs}
        if self.charge is not None and (kinds != {"muon"} or len(self.legs) < 2):
            msg = f"charge needs two or more muon legs, got {[leg.type for leg in self.legs]}"
            raise ValueError(msg)
        _check_range(self.mass3_min, self.mass3_max, "mass3")
        three = self.mass3_min is not None or self.mass3_max is not None
        if three and (len(self.legs) != 3 or len(kinds) != 1 or kinds & set(SUM_LEGS)):
            msg = f"mass3 needs three legs of one object collection, got {[leg.type for leg in self.legs]}"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class SumCondition:
    """An energy sum within [min, max] GeV, its φ in one of ``phi`` windows [rad] (etm, htm, etmhf)."""

    sum: SumName
    min: float = 0.0
    max: float | None = None
    phi: tuple[Window, ...] = ()

    def __post_init__(self) -> None:
        _check_range(self.min, self.max, "sum")
        _check_windows(self.phi, "phi", MAX_PHI_WINDOWS, wrap=True)
        if self.phi and self.sum not in SUM_LEGS:
            msg = f"phi: {self.sum} has no φ (only {', '.join(SUM_LEGS)})"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class ScoreCondition:
    """A per-event score column ≥ min (e.g. an anomaly-detection score)."""

    score: str
    min: float

    def __post_init__(self) -> None:
        if not COLUMN_NAME_RE.match(self.score):
            msg = f"score: {self.score!r} is not a valid column name"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class AlwaysCondition:
    """Always true (zero bias: every crossing passes; rate set by the prescale)."""

    always: Literal[True] = True


#: Crossings away from the central one that the uGT reads external conditions at.
MAX_BX_OFFSET: Final = 2


@dataclass(frozen=True, slots=True)
class ExternalCondition:
    """A BPTX external condition (uGT name, e.g. ``EXT_BPTX_OR_VME``) at the crossing ``bx``
    away from this one, derived from the crossing's bunch-crossing number and the filling
    scheme (:mod:`streams.filling`)."""

    external: str
    bx: int = 0

    def __post_init__(self) -> None:
        if self.external not in BPTX_SIGNALS:
            msg = f"external: {self.external!r} is not a BPTX signal l1emu derives (known: {', '.join(BPTX_SIGNALS)})"
            raise ValueError(msg)
        if isinstance(self.bx, bool) or not isinstance(self.bx, int) or abs(self.bx) > MAX_BX_OFFSET:
            msg = f"bx: the crossing offset must be an integer in [-{MAX_BX_OFFSET}, {MAX_BX_OFFSET}], got {self.bx!r}"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class SignalCondition:
    """A uGT signal bit the event carries: the muon showers ``MUS0``–``MUS2``, ``MUSOOT0``–``MUSOOT1``
    (bits of column ``mu_shower``)."""

    signal: str

    def __post_init__(self) -> None:
        if self.signal not in MU_SHOWER_BITS:
            known = ", ".join(MU_SHOWER_BITS)
            msg = f"signal: {self.signal!r} is not a signal the event model carries (known: {known})"
            raise ValueError(msg)


Condition = ObjectCondition | SumCondition | ScoreCondition | AlwaysCondition | ExternalCondition | SignalCondition
#: The YAML key that selects each kind of condition.
KINDS: Final[dict[str, type[Any]]] = {
    "legs": ObjectCondition,
    "sum": SumCondition,
    "score": ScoreCondition,
    "always": AlwaysCondition,
    "external": ExternalCondition,
    "signal": SignalCondition,
}
