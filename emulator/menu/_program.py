"""The menu compiled to integer tables and evaluated in one numba call per batch.

:class:`BatchEvaluator` builds numpy masks leg by leg and condition by condition: clear,
cached, and the base of the threshold studies, but each step is a few numpy calls, so a
22-seed menu costs about a millisecond per batch whatever its size. A streaming global
trigger sees small batches, so :meth:`Menu.evaluate` runs this program instead: every
distinct leg and object condition of the menu becomes a row of a table, and one kernel
walks the events, sets each leg's candidate bits, decides each object condition (the
shared depth-first search of :mod:`emulator.menu._kernels`) and ANDs each seed's
conditions, like the firmware's condition chips feeding the seed logic. Sum, score and
always conditions are one numpy compare each and enter the kernel as columns.

The tests check the program against :class:`BatchEvaluator` and a plain-Python reference.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numba
import numpy as np

from emulator.errors import StageError
from emulator.menu._evaluate import (
    _COLL_BINS,
    _COS,
    _COSH,
    _DETA2,
    _DPHI2,
    _PHI_BINS,
    COLL_INDEX,
    BatchEvaluator,
    condition_label,
    correlation_tables,
)
from emulator.menu._kernels import F_ETA, F_ISO, F_PT, F_QUAL, NSLOT, assignment_ok, stack_objects
from emulator.menu.hardware import ALL_BITS, HwCondition, HwLeg, HwObjects, HwSeed
from streams.event import EventBatch

__all__ = ["MenuProgram"]

_LEG_FIELDS: Final = 6  # collection, pt_min, eta_min, eta_max, qual_mask, iso_mask


@numba.njit(cache=True, nogil=True)
def _leg_bits(obj: np.ndarray, leg: np.ndarray, out: np.ndarray) -> None:
    """``out[e]``: bit ``j`` set if slot ``j`` of event ``e`` passes ``leg`` (a loop over events per slot)."""
    c, pt_min, eta_min, eta_max, qual, iso = leg[0], leg[1], leg[2], leg[3], leg[4], leg[5]
    out[:] = 0
    for j in range(NSLOT):
        pt, eta, q, i = obj[c, F_PT, j], obj[c, F_ETA, j], obj[c, F_QUAL, j], obj[c, F_ISO, j]
        for e in range(out.shape[0]):
            a = abs(np.int64(eta[e]))
            ok = (pt[e] >= pt_min) & (a >= eta_min) & (a <= eta_max)
            if qual != ALL_BITS:
                ok &= (qual >> min(np.int64(q[e]), 16)) & 1 != 0
            if iso != ALL_BITS:
                ok &= (iso >> min(np.int64(i[e]), 16)) & 1 != 0
            out[e] |= np.int64(ok) << j


@numba.njit(cache=True, nogil=True)
def _run(
    obj: np.ndarray, legs: np.ndarray, cond_ptr: np.ndarray, cond_legs: np.ndarray, cond_coll: np.ndarray,
    corr_ptr: np.ndarray,
    corr_legs: np.ndarray, corr_scale: np.ndarray, corr_cut: np.ndarray, other: np.ndarray,
    seed_ptr: np.ndarray, seed_conds: np.ndarray, coll_bins: np.ndarray,
    deta2: np.ndarray, dphi2: np.ndarray, cosh: np.ndarray, cos: np.ndarray, phi_bins: np.ndarray,
    out: np.ndarray,
) -> None:  # fmt: skip
    n_obj = cond_ptr.shape[0] - 1
    n = obj.shape[3]
    bits = np.empty((legs.shape[0], n), np.int64)
    for leg in range(legs.shape[0]):
        _leg_bits(obj, legs[leg], bits[leg])
    legbits = np.zeros(NSLOT, np.int64)  # one condition's legs (≤ 12)
    idx = np.zeros(NSLOT, np.int64)
    ok = np.zeros(n_obj + other.shape[1], np.bool_)
    for e in range(n):
        for k in range(n_obj):
            l0, l1, c0, c1 = cond_ptr[k], cond_ptr[k + 1], corr_ptr[k], corr_ptr[k + 1]
            empty = False
            for i in range(l0, l1):
                legbits[i - l0] = bits[cond_legs[i], e]
                empty = empty or legbits[i - l0] == 0
            if empty or (l1 - l0 == 1 and c0 == c1):
                ok[k] = not empty
            else:
                ok[k] = assignment_ok(e, legbits[: l1 - l0], cond_coll[l0:l1], obj, coll_bins, corr_legs[c0:c1],
                                      corr_scale[c0:c1], corr_cut[c0:c1], deta2, dphi2, cosh, cos,
                                      phi_bins, idx)  # fmt: skip
        for k in range(other.shape[1]):
            ok[n_obj + k] = other[e, k]
        for s in range(seed_ptr.shape[0] - 1):
            decision = True
            for i in range(seed_ptr[s], seed_ptr[s + 1]):
                if not ok[seed_conds[i]]:
                    decision = False
                    break
            out[e, s] = decision


#: The jitted program, typed for callers (numba's dispatcher type hides the signature).
run_program: Callable[..., None] = _run


def _leg_row(leg: HwLeg) -> list[int]:
    return [COLL_INDEX[leg.collection], leg.pt_min, leg.eta_min, leg.eta_max, leg.qual_mask, leg.iso_mask]


class MenuProgram:
    """A menu's seeds as integer tables for :func:`run_program` (built once per menu)."""

    def __init__(self, seeds: tuple[HwSeed, ...]) -> None:
        self.seeds = seeds
        legs: dict[HwLeg, int] = {}
        objects: dict[HwObjects, int] = {}
        others: dict[HwCondition, int] = {}
        for seed in seeds:
            for cond in seed.conditions:
                if isinstance(cond, HwObjects):
                    objects.setdefault(cond, len(objects))
                    for leg in cond.legs:
                        legs.setdefault(leg, len(legs))
                else:
                    others.setdefault(cond, len(others))
        self.others = tuple(others)
        self.legs = np.array([_leg_row(leg) for leg in legs], np.int64).reshape(-1, _LEG_FIELDS)
        conds = list(objects)
        self.cond_ptr = np.cumsum([0, *(len(c.legs) for c in conds)]).astype(np.int64)
        self.cond_legs = np.array([legs[leg] for c in conds for leg in c.legs], np.int64)
        self.cond_coll = np.array([COLL_INDEX[leg.collection] for c in conds for leg in c.legs], np.int64)
        self.corr_ptr = np.cumsum([0, *(len(c.correlations) for c in conds)]).astype(np.int64)
        self.corr_legs, self.corr_scale, self.corr_cut = correlation_tables([k for c in conds for k in c.correlations])
        index = {c: i for i, c in enumerate(conds)} | {c: len(conds) + i for i, c in enumerate(self.others)}
        self.seed_ptr = np.cumsum([0, *(len(s.conditions) for s in seeds)]).astype(np.int64)
        self.seed_conds = np.array([index[c] for s in seeds for c in s.conditions], np.int64)

    def _where(self, cond: HwCondition) -> str:
        """'seed s (NAME) condition j' of the first use of ``cond``."""
        s, j = next((s, j) for s, seed in enumerate(self.seeds) for j, c in enumerate(seed.conditions) if c == cond)
        return condition_label(self.seeds, s, j)

    def _other_columns(self, batch: EventBatch, menu: str) -> np.ndarray:
        ev = BatchEvaluator(batch)
        out = np.empty((len(batch), len(self.others)), bool)
        for k, cond in enumerate(self.others):
            try:
                out[:, k] = ev.condition(cond)
            except StageError as exc:
                msg = f"menu {menu!r}: {self._where(cond)}: {exc}"
                raise StageError(msg) from exc
        return out

    def evaluate(self, batch: EventBatch, menu: str) -> np.ndarray:
        """Bool (N, S) seed decisions; ``menu`` (its name) prefixes error messages."""
        other = self._other_columns(batch, menu)
        out = np.empty((len(batch), len(self.seeds)), bool)
        run_program(stack_objects(batch), self.legs, self.cond_ptr, self.cond_legs, self.cond_coll, self.corr_ptr,
                    self.corr_legs, self.corr_scale, self.corr_cut, other, self.seed_ptr, self.seed_conds,
                    _COLL_BINS, _DETA2, _DPHI2, _COSH, _COS, _PHI_BINS, out)  # fmt: skip
        return out
