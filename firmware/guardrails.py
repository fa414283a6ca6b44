"""Checks for hls4ml's most common trouble: narrow accumulators and values that overflow.

An accumulator of ``Σ x·w`` over ``n`` inputs needs the product's integer bits plus
``ceil(log2 n)`` to never wrap, and the product's fractional bits to lose nothing:
``I_acc ≥ I_x + I_w + ceil(log2 n)``, ``F_acc ≥ F_x + F_w``. A narrower one is flagged;
whether it *can* overflow with these weights is checked with the exact bound
``max_j Σ_i |w_ij| · max|x| + |b_j|``. The overflow audit counts what did wrap or
saturate on the replayed events.

>>> import numpy as np
>>> from emulator.fixedpoint import FixedPointModel, FixedType
>>> from emulator.fixedpoint.layers import Dense
>>> t = FixedType(16, 6)
>>> d = Dense("d1", t, t, (57,), (8,), weight=np.ones((57, 8), np.int64), bias=np.zeros(8, np.int64),
...           weight_type=FixedType(6, 2), bias_type=FixedType(6, 2), accum_type=FixedType(16, 6))
>>> [w.layer for w in accumulator_warnings(FixedPointModel(t, (57,), (d,)))]
['d1']
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from emulator.fixedpoint import FixedPointModel, OverflowReport
from emulator.fixedpoint.layers import Conv, Dense

__all__ = ["AccumWarning", "accumulator_warnings", "overflow_counts"]


@dataclass(frozen=True, slots=True)
class AccumWarning:
    """One layer whose ``accum_t`` is narrower than its products need."""

    layer: str
    accum: str
    need_integer: int
    need_fractional: int
    can_overflow: bool

    def __str__(self) -> str:
        verdict = "can overflow with these weights" if self.can_overflow else "cannot overflow with these weights"
        return (
            f"layer {self.layer!r}: accum_t {self.accum} is narrower than its inputs need "
            f"(ap_fixed<{self.need_integer + self.need_fractional},{self.need_integer}>: product width + "
            f"log2(n_in)); {verdict}. Set accum precision (e.g. 'auto') in the hls4ml config"
        )

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "message": str(self)}


def _check(op: Dense) -> AccumWarning | None:
    x, w, acc = op.in_type, op.weight_type, op.accum_type
    n = op.weight.shape[0]
    need_int = x.integer + w.integer + math.ceil(math.log2(max(n, 1)))
    need_frac = x.fractional + w.fractional
    if acc.integer >= need_int and acc.fractional >= need_frac:
        return None
    x_mag = max(abs(x.min_int), x.max_int)
    s = x.fractional + w.fractional - acc.fractional  # products are shifted down by s into accum_t
    bound = (np.abs(op.weight).sum(axis=0) * x_mag) / 2.0**s + np.abs(op.bias) * 2.0 ** (
        acc.fractional - op.bias_type.fractional
    )
    can_overflow = bool(bound.max(initial=0) > acc.max_int)
    return AccumWarning(op.name, str(acc), need_int, need_frac, can_overflow)


def accumulator_warnings(model: FixedPointModel) -> list[AccumWarning]:
    """Dense/conv layers whose accumulator is narrower than product width + log2(n_in)."""
    found = (_check(op) for op in model.layers if isinstance(op, Dense | Conv))
    return [w for w in found if w is not None]


def overflow_counts(report: OverflowReport) -> dict[str, Any]:
    """Per layer: values that wrapped/saturated on the replayed events, and the per-site detail."""
    return {
        "events": report.n_events,
        "by_layer": report.by_layer(),
        "sites": [
            {"layer": s.layer, "site": s.site, "mode": s.mode, "values": s.values, "overflowed": s.overflowed}
            for s in report.sites
            if s.overflowed
        ],
    }
