"""The menu's YAML model: frozen dataclasses in physical units, validated at load.

A menu file is a mapping with ``name``, ``columns`` (prescale column names),
``default_column`` and ``seeds``. Each seed has a ``name``, a ``prescale`` (an
integer for every column, or a mapping column -> integer) and ``conditions``, a
list whose entries are one of::

    {legs: [{type: jet, pt_min: 30, eta_max: 2.5, quality: 1, iso: [1, 3]}, ...],
     correlations: [{legs: [0, 1], dr_max: 1.2, mass_min: 300, charge: opposite}]}
    {sum: etmhf, min: 90}
    {score: axo_score, min: 12.5}
    {always: true}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Final, Literal

from emulator.errors import MenuError
from emulator.params import from_mapping
from streams.errors import ConfigError
from streams.schema import COLUMN_NAME_RE

__all__ = [
    "AlwaysCondition",
    "Condition",
    "CorrelationConfig",
    "LegConfig",
    "MenuConfig",
    "ObjectCondition",
    "ScoreCondition",
    "SeedConfig",
    "SumCondition",
    "parse_menu",
]

MAX_LEGS: Final = 4
MAX_BITS: Final = 15  # quality and isolation are 4-bit fields: values 0..15
NAME_RE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
ObjectType = Literal["egamma", "tau", "jet", "muon"]
SumName = Literal["ett", "htt", "etm", "htm", "etmhf"]


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


@dataclass(frozen=True, slots=True)
class LegConfig:
    """One object requirement: pT ≥ pt_min (GeV), eta_min ≤ |η| ≤ eta_max, quality, isolation.

    ``quality`` / ``iso``: an integer is a minimum, a list the accepted values.
    """

    type: ObjectType
    pt_min: float = 0.0
    eta_max: float | None = None
    eta_min: float | None = None
    quality: int | tuple[int, ...] | None = None
    iso: int | tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.pt_min < 0:
            msg = f"pt_min must be >= 0, not {self.pt_min}"
            raise ValueError(msg)
        _check_range(self.eta_min, self.eta_max, "eta")
        _check_bits(self.quality, "quality")
        _check_bits(self.iso, "iso")


@dataclass(frozen=True, slots=True)
class CorrelationConfig:
    """Cuts on a pair of legs (ΔR, |Δη|, |Δφ| in rad, mass in GeV, muon charges)."""

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

    def __post_init__(self) -> None:
        if len(self.legs) != 2 or self.legs[0] == self.legs[1]:
            msg = f"legs {list(self.legs)} must name two different legs"
            raise ValueError(msg)
        for name in ("dr", "deta", "dphi", "mass"):
            _check_range(getattr(self, f"{name}_min"), getattr(self, f"{name}_max"), name)
        if all(getattr(self, f.name) is None for f in fields(self) if f.name != "legs"):
            msg = "a correlation needs at least one cut (dr/deta/dphi/mass min/max or charge)"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class ObjectCondition:
    """1–4 legs on distinct objects (any collections), plus pair correlations."""

    legs: tuple[LegConfig, ...]
    correlations: tuple[CorrelationConfig, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= len(self.legs) <= MAX_LEGS:
            msg = f"legs: {len(self.legs)} legs given, need 1..{MAX_LEGS}"
            raise ValueError(msg)
        for k, corr in enumerate(self.correlations):
            bad = [i for i in corr.legs if not 0 <= i < len(self.legs)]
            if bad:
                msg = f"correlations[{k}].legs: index {bad[0]} out of range for {len(self.legs)} legs"
                raise ValueError(msg)
            kinds = {self.legs[i].type for i in corr.legs}
            if corr.charge is not None and kinds != {"muon"}:
                msg = f"correlations[{k}].charge needs two muon legs, got {sorted(kinds)}"
                raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class SumCondition:
    """An energy sum within [min, max] GeV."""

    sum: SumName
    min: float = 0.0
    max: float | None = None

    def __post_init__(self) -> None:
        _check_range(self.min, self.max, "sum")


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


Condition = ObjectCondition | SumCondition | ScoreCondition | AlwaysCondition
_KINDS: Final[dict[str, type[Any]]] = {
    "legs": ObjectCondition,
    "sum": SumCondition,
    "score": ScoreCondition,
    "always": AlwaysCondition,
}


@dataclass(frozen=True, slots=True)
class SeedConfig:
    """A seed: the AND of its conditions, with one prescale per menu column."""

    name: str
    conditions: tuple[Condition, ...]
    prescales: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class MenuConfig:
    """A whole menu as written, in physical units."""

    name: str
    columns: tuple[str, ...]
    default_column: str
    seeds: tuple[SeedConfig, ...]
    path: str = ""


@dataclass(frozen=True, slots=True)
class _MenuHeader:
    name: str
    columns: tuple[str, ...]
    default_column: str
    seeds: tuple[dict[str, Any], ...]
    description: str = ""


@dataclass(frozen=True, slots=True)
class _SeedHeader:
    name: str
    conditions: tuple[dict[str, Any], ...]
    prescale: int | dict[str, Any] = 1
    description: str = ""


def _parse_condition(raw: Any, where: str) -> Condition:
    if not isinstance(raw, Mapping):
        msg = f"{where}: expected a mapping, got {type(raw).__name__}"
        raise MenuError(msg)
    keys = set(raw) & set(_KINDS)
    if len(keys) != 1:
        msg = f"{where}: a condition needs exactly one of {sorted(_KINDS)}, got keys {sorted(map(str, raw))}"
        raise MenuError(msg)
    cond: Condition = from_mapping(_KINDS[keys.pop()], raw, where=where)
    return cond


def _parse_prescales(value: int | dict[str, Any], columns: tuple[str, ...], where: str) -> tuple[int, ...]:
    if isinstance(value, int):
        table = dict.fromkeys(columns, value)
    else:
        unknown = sorted(set(value) - set(columns))
        missing = [c for c in columns if c not in value]
        if unknown or missing:
            msg = (
                f"{where}: unknown column(s) {unknown}, missing column(s) {missing}; "
                f"menu columns: {list(columns)}"
            )
            raise MenuError(msg)
        table = value
    for col, p in table.items():
        if isinstance(p, bool) or not isinstance(p, int) or p < 0:
            msg = f"{where}: column {col!r}: prescale {p!r} must be an integer >= 0 (0 disables)"
            raise MenuError(msg)
    return tuple(int(table[c]) for c in columns)


def _parse_seed(raw: Any, columns: tuple[str, ...], where: str) -> SeedConfig:
    name = raw.get("name") if isinstance(raw, Mapping) else None
    where = f"{where} ({name})" if isinstance(name, str) else where
    head = from_mapping(_SeedHeader, raw, where=where)
    if not NAME_RE.match(head.name):
        msg = f"{where}.name: {head.name!r} is not a valid seed name (letters, digits, '_')"
        raise MenuError(msg)
    if not head.conditions:
        msg = f"{where}.conditions: a seed needs at least one condition (use {{always: true}} for zero bias)"
        raise MenuError(msg)
    conds = tuple(_parse_condition(c, f"{where}.conditions[{j}]") for j, c in enumerate(head.conditions))
    prescales = _parse_prescales(head.prescale, columns, f"{where}.prescale")
    return SeedConfig(head.name, conds, prescales)


def _check_header(head: _MenuHeader, where: str) -> None:
    if not head.columns:
        msg = f"{where}.columns: at least one prescale column is needed"
        raise MenuError(msg)
    dupes = sorted({c for c in head.columns if head.columns.count(c) > 1})
    if dupes:
        msg = f"{where}.columns: names repeat: {dupes}"
        raise MenuError(msg)
    if head.default_column not in head.columns:
        msg = f"{where}.default_column: {head.default_column!r} is not one of {list(head.columns)}"
        raise MenuError(msg)
    if not head.seeds:
        msg = f"{where}.seeds: the menu has no seeds"
        raise MenuError(msg)


def parse_menu(raw: Any, *, where: str) -> MenuConfig:
    """Validate a loaded YAML mapping into a :class:`MenuConfig`; errors are :class:`MenuError`."""
    try:
        head = from_mapping(_MenuHeader, raw, where=where)
        _check_header(head, where)
        seeds = tuple(
            _parse_seed(s, head.columns, f"{where}: seeds[{i}]") for i, s in enumerate(head.seeds)
        )
    except MenuError:
        raise
    except ConfigError as exc:
        raise MenuError(str(exc)) from exc
    names = [s.name for s in seeds]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        msg = f"{where}: seed names repeat: {dupes}"
        raise MenuError(msg)
    return MenuConfig(head.name, head.columns, head.default_column, seeds, where)
