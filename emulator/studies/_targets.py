"""What a threshold scan varies: a seed's leg pT, energy-sum minimum or score minimum.

Parameter names (``--param``):

* ``pt``: the seed's leading legs — every object leg whose ``pt_min`` equals the seed's
  highest; equal legs (``DoubleJet150er2p5``) move together, an asymmetric seed
  (``DoubleEG_25_12``) scans its leading leg with the others fixed;
* ``pt[K]``: the K-th object leg of the seed, counting legs across conditions in order;
* ``sum`` or a sum name (``htt``, ``ett``, ``etm``, ``htm``, ``etmhf``): the minimum of the seed's sum condition;
* ``score`` or a score column name: the minimum of the seed's score condition.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Final, Literal

import numpy as np

from emulator.errors import MenuError
from emulator.menu import LegConfig, Menu, ObjectCondition, ScoreCondition, SeedConfig, SumCondition
from emulator.menu.hardware import HwSum, compile_leg, compile_seed
from streams.schema import SUMS

__all__ = ["ParamKind", "ScanTarget", "hw_thresholds", "resolve_target"]

ParamKind = Literal["pt", "sum", "score"]
_Scanned = tuple[tuple[int, tuple[int, ...]], ...]
_LEG_RE: Final = re.compile(r"^pt\[(\d+)\]$")


@dataclass(frozen=True, slots=True)
class ScanTarget:
    """One scanned cut of one seed; ``scanned`` maps condition index -> scanned leg indices."""

    seed: str
    index: int
    param: str
    kind: ParamKind
    scanned: _Scanned
    menu_threshold: float
    prescale: int | float  # the column's (2, 2.5)

    @property
    def unit(self) -> str:
        return "" if self.kind == "score" else "GeV"

    def describe(self) -> str:
        """Which cut moves, e.g. ``conditions[0].legs[0,1].pt_min``."""
        field = {"pt": "pt_min", "sum": "min", "score": "min"}[self.kind]
        parts = []
        for cond, legs in self.scanned:
            leg_part = f".legs[{','.join(map(str, legs))}]" if legs else ""
            parts.append(f"conditions[{cond}]{leg_part}.{field}")
        return " & ".join(parts)


def _legs(menu: Menu, s: int) -> list[tuple[int, int, LegConfig]]:
    return [
        (j, i, leg)
        for j, cond in enumerate(menu.config.seeds[s].conditions) if isinstance(cond, ObjectCondition)
        for i, leg in enumerate(cond.legs)
    ]  # fmt: skip


def _group(picked: list[tuple[int, int, LegConfig]]) -> _Scanned:
    conds = sorted({j for j, _, _ in picked})
    return tuple((j, tuple(i for jj, i, _ in picked if jj == j)) for j in conds)


def _pt_target(menu: Menu, s: int, param: str, where: str) -> tuple[ParamKind, _Scanned, float]:
    legs = _legs(menu, s)
    if not legs:
        msg = f"{where}: the seed has no object legs; scan a sum or score parameter instead"
        raise MenuError(msg)
    m = _LEG_RE.match(param)
    if m:
        k = int(m.group(1))
        if k >= len(legs):
            msg = f"{where}: leg index {k} out of range, the seed has {len(legs)} object legs"
            raise MenuError(msg)
        picked = [legs[k]]
    else:
        top = max(leg.pt_min for _, _, leg in legs)
        picked = [x for x in legs if x[2].pt_min == top]
    return "pt", _group(picked), picked[0][2].pt_min


def _cut_target(menu: Menu, s: int, param: str, where: str) -> tuple[ParamKind, _Scanned, float]:
    conds = menu.config.seeds[s].conditions
    sums = [(j, c) for j, c in enumerate(conds) if isinstance(c, SumCondition) and param in ("sum", c.sum)]
    scores = [(j, c) for j, c in enumerate(conds) if isinstance(c, ScoreCondition) and param in ("score", c.score)]
    found = sums or scores
    if len(found) != 1:
        what = "no" if not found else f"{len(found)}"
        msg = f"{where}: {what} matching condition(s); parameters: pt, pt[K], sum names {sorted(SUMS)}, score names"
        raise MenuError(msg)
    j, cond = found[0]
    kind: ParamKind = "sum" if sums else "score"
    assert isinstance(cond, SumCondition | ScoreCondition)
    return kind, ((j, ()),), cond.min


def resolve_target(menu: Menu, seed: str, param: str, *, column: str | None = None) -> ScanTarget:
    """The cut ``param`` of ``seed`` in ``menu``; MenuError names seed and parameter otherwise.

    >>> from emulator.menu import load_menu
    >>> t = resolve_target(load_menu("configs/menus/cms2024.yaml"), "L1_DoubleEG_25_12_er2p5", "pt")
    >>> t.describe(), t.menu_threshold
    ('conditions[0].legs[0].pt_min', 25.0)
    """
    if seed not in menu.seed_names:
        msg = f"{menu.config.path}: no seed {seed!r} in menu {menu.name!r}"
        raise MenuError(msg)
    s = menu.seed_names.index(seed)
    where = f"{menu.config.path}: seed {seed!r}, --param {param!r}"
    if param == "pt" or _LEG_RE.match(param):
        kind, scanned, thr = _pt_target(menu, s, param, where)
    else:
        kind, scanned, thr = _cut_target(menu, s, param, where)
    value = float(menu.prescale_values(column)[s])
    prescale = int(value) if value.is_integer() else value
    return ScanTarget(seed, s, param, kind, scanned, float(thr), prescale)


def _score_threshold(x: float, dtype: np.dtype | None) -> float:
    if dtype is not None and dtype.kind == "f":
        return float(np.asarray(x, dtype=dtype))  # the comparison happens in the column's precision
    if dtype is not None:
        return float(math.ceil(x))
    return x


def hw_thresholds(
    menu: Menu, target: ScanTarget, values: np.ndarray, *, score_dtype: np.dtype | None = None
) -> np.ndarray:
    """Hardware thresholds (float64) of physical thresholds ``values``, converted exactly as the menu does.

    A seed passes at threshold ``x`` exactly when its critical value is ≥ the result.
    """
    out = np.empty(len(values))
    if target.kind == "pt":
        j, legs = target.scanned[0]
        cond = menu.config.seeds[target.index].conditions[j]
        assert isinstance(cond, ObjectCondition)
        leg = cond.legs[legs[0]]
        for k, x in enumerate(values):
            out[k] = compile_leg(replace(leg, pt_min=float(x))).pt_min
    elif target.kind == "sum":
        cond = menu.config.seeds[target.index].conditions[target.scanned[0][0]]
        assert isinstance(cond, SumCondition)
        for k, x in enumerate(values):
            hw = compile_seed(SeedConfig("scan", (SumCondition(cond.sum, min=float(x)),), (1,))).conditions[0]
            assert isinstance(hw, HwSum)
            out[k] = hw.min
    else:
        for k, x in enumerate(values):
            out[k] = _score_threshold(float(x), score_dtype)
    return out
