"""The menu model: seeds with their conditions and logic, prescale columns, validated at load.

A menu is a mapping with ``name``, ``columns`` (prescale column names), ``default_column``
and ``seeds``. A seed has a ``name``, a ``prescale`` (one number for every column, or a
mapping column -> number; 0 disables) and either l1emu ``conditions`` (their AND)::

    {legs: [{type: jet, pt_min: 30, eta_max: 2.5, quality: 1, iso: [1, 3]}, ...],
     correlations: [{legs: [0, 1], dr_max: 1.2, mass_min: 300, charge: opposite}]}
    {sum: etmhf, min: 90}
    {score: axo_score, min: 12.5}
    {always: true}

or a utm ``expression`` (the uGT grammar, as in XML menus) whose cuts are defined in the
menu's ``cuts`` mapping (``NAME: {object, type, minimum, maximum, data}``), with optional
``index``, ``module_id``, ``module_index`` and ``comment``. A uGT XML menu reads into the
same model (:mod:`emulator.menu._xml`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from emulator.errors import MenuError
from emulator.menu._conditions import (
    KINDS,
    AlwaysCondition,
    Condition,
    CorrelationConfig,
    ExternalCondition,
    LegConfig,
    ObjectCondition,
    ScoreCondition,
    SignalCondition,
    SumCondition,
)
from emulator.menu._cuts import CutDef, parse_cuts
from emulator.menu._grammar import Node
from emulator.menu._utm import AND, compile_expression
from emulator.params import from_mapping
from streams.errors import ConfigError

__all__ = [
    "AlwaysCondition",
    "Condition",
    "CorrelationConfig",
    "ExternalCondition",
    "LegConfig",
    "MenuConfig",
    "ObjectCondition",
    "ScoreCondition",
    "SeedConfig",
    "SignalCondition",
    "SumCondition",
    "UtmSeed",
    "and_logic",
    "parse_menu",
]

NAME_RE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
#: uGT prescales have two decimal digits (the firmware counts in hundredths).
PRESCALE_DIGITS: Final = 2


def and_logic(n: int) -> tuple[int, ...]:
    """Postfix logic of the AND of conditions 0..n-1."""
    code = [0]
    for k in range(1, n):
        code += [k, AND]
    return tuple(code)


@dataclass(frozen=True, slots=True)
class UtmSeed:
    """What a utm seed carries besides its conditions (kept for writing the XML back)."""

    expression: str
    tree: Node
    index: int | None = None
    module_id: int | None = None
    module_index: int | None = None
    comment: str = ""


@dataclass(frozen=True, slots=True)
class SeedConfig:
    """A seed: its conditions, the logic over them (postfix; empty = their AND), prescales.

    ``unsupported`` is why the seed cannot be evaluated on this event model (it then has
    no conditions and never fires); ``utm`` its expression when it came from one.
    """

    name: str
    conditions: tuple[Condition, ...]
    prescales: tuple[float, ...]
    logic: tuple[int, ...] = ()
    utm: UtmSeed | None = None
    unsupported: str = ""

    @property
    def program(self) -> tuple[int, ...]:
        """The seed's postfix logic, the AND of its conditions when none is given."""
        return self.logic or and_logic(len(self.conditions))


@dataclass(frozen=True, slots=True)
class MenuConfig:
    """A whole menu as written, in physical units."""

    name: str
    columns: tuple[str, ...]
    default_column: str
    seeds: tuple[SeedConfig, ...]
    path: str = ""
    cuts: tuple[CutDef, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)  # utm menu metadata (uuid_menu, grammar_version, ...)


@dataclass(frozen=True, slots=True)
class _MenuHeader:
    name: str
    columns: tuple[str, ...]
    default_column: str
    seeds: tuple[dict[str, Any], ...]
    description: str = ""
    cuts: dict[str, Any] | None = None
    utm: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class _SeedHeader:
    name: str
    conditions: tuple[dict[str, Any], ...] = ()
    expression: str = ""
    prescale: float | dict[str, Any] = 1
    description: str = ""
    index: int | None = None
    module_id: int | None = None
    module_index: int | None = None
    comment: str = ""


def _parse_condition(raw: Any, where: str) -> Condition:
    if not isinstance(raw, Mapping):
        msg = f"{where}: expected a mapping, got {type(raw).__name__}"
        raise MenuError(msg)
    keys = set(raw) & set(KINDS)
    if len(keys) != 1:
        msg = f"{where}: a condition needs exactly one of {sorted(KINDS)}, got keys {sorted(map(str, raw))}"
        raise MenuError(msg)
    cond: Condition = from_mapping(KINDS[keys.pop()], raw, where=where)
    return cond


def check_prescale(p: Any, where: str) -> float:
    """A prescale: a number >= 0 with at most two decimals (0 disables); returns it as float."""
    ok = not isinstance(p, bool) and isinstance(p, int | float) and p >= 0 and math.isfinite(p)
    if ok and abs(p * 10**PRESCALE_DIGITS - round(p * 10**PRESCALE_DIGITS)) > 1e-6:
        ok = False
    if not ok:
        msg = f"{where}: prescale {p!r} must be a number >= 0 with at most {PRESCALE_DIGITS} decimals (0 disables)"
        raise MenuError(msg)
    return float(p)


def _parse_prescales(value: float | dict[str, Any], columns: tuple[str, ...], where: str) -> tuple[float, ...]:
    if not isinstance(value, dict):
        table: Mapping[str, Any] = dict.fromkeys(columns, value)
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
    return tuple(check_prescale(table[c], f"{where}: column {c!r}") for c in columns)


def _parse_seed(raw: Any, columns: tuple[str, ...], cuts: Mapping[str, CutDef], where: str) -> SeedConfig:
    name = raw.get("name") if isinstance(raw, Mapping) else None
    where = f"{where} ({name})" if isinstance(name, str) else where
    head = from_mapping(_SeedHeader, raw, where=where)
    if not NAME_RE.match(head.name):
        msg = f"{where}.name: {head.name!r} is not a valid seed name (letters, digits, '_')"
        raise MenuError(msg)
    prescales = _parse_prescales(head.prescale, columns, f"{where}.prescale")
    if head.expression and head.conditions:
        msg = f"{where}: give either conditions (l1emu) or an expression (utm), not both"
        raise MenuError(msg)
    if head.expression:
        try:
            out = compile_expression(head.expression, cuts, seed=head.name)
        except MenuError as exc:
            msg = f"{where}.expression: {exc}"
            raise MenuError(msg) from exc
        utm = UtmSeed(head.expression, out.tree, head.index, head.module_id, head.module_index, head.comment)
        return SeedConfig(head.name, out.conditions, prescales, out.logic, utm, "; ".join(out.unsupported))
    if not head.conditions:
        msg = f"{where}.conditions: a seed needs at least one condition (use {{always: true}} for zero bias)"
        raise MenuError(msg)
    conds = tuple(_parse_condition(c, f"{where}.conditions[{j}]") for j, c in enumerate(head.conditions))
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
    """Validate a loaded mapping (YAML, or an XML menu read into one) into a :class:`MenuConfig`."""
    try:
        head = from_mapping(_MenuHeader, raw, where=where)
        _check_header(head, where)
        cuts = parse_cuts(head.cuts, where=where)
        seeds = tuple(
            _parse_seed(s, head.columns, cuts, f"{where}: seeds[{i}]") for i, s in enumerate(head.seeds)
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
    indices = [s.utm.index for s in seeds if s.utm is not None and s.utm.index is not None]
    clash = sorted({i for i in indices if indices.count(i) > 1})
    if clash:
        msg = f"{where}: algorithm indices repeat: {clash}"
        raise MenuError(msg)
    return MenuConfig(head.name, head.columns, head.default_column, seeds, where, tuple(cuts.values()),
                      dict(head.utm or {}))  # fmt: skip
