"""Physical-unit object arrays (GeV, rad) → an :class:`EventBatch` in uGT hardware units.

Shared by the readers. Inputs are fixed-width arrays ``(n, k)`` per collection
field, zero-padded (pT = 0 means empty); they are pT-sorted, cut to the
collection size and converted: pT → floor(pT / 0.5) (saturating), η → round(η /
LSB), φ → floor(φ / (2π / bins)) mod bins.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from streams.event import BatchMeta, EventBatch
from streams.schema import BASE_COLUMNS, COLLECTIONS, PT_LSB, SUMS

__all__ = ["PT_MAX_HW", "to_batch"]

PT_MAX_HW = {"egamma": 511, "tau": 511, "jet": 2047, "muon": 511}
_SUM_MAX = (1 << 31) - 1


def _hw_pt(pt: np.ndarray, pt_max: int) -> np.ndarray:
    pt = np.nan_to_num(np.asarray(pt, np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    return np.clip(np.floor(pt / PT_LSB), 0, pt_max).astype(np.int64)


def _hw_phi(phi: np.ndarray, bins: int) -> np.ndarray:
    phi = np.nan_to_num(np.asarray(phi, np.float64))
    out: np.ndarray = np.floor(np.mod(phi, 2 * math.pi) / (2 * math.pi) * bins).astype(np.int64) % bins
    return out


def _collection(cols: dict[str, np.ndarray], name: str, data: Mapping[str, np.ndarray], n: int) -> None:
    coll = COLLECTIONS[name]
    size = coll.size
    pt = np.zeros((n, size))
    fields: dict[str, np.ndarray] = {}
    given = np.asarray(data.get("pt", np.zeros((n, 0))), np.float64)
    k = given.shape[1] if given.ndim == 2 else 0
    order = np.argsort(-np.nan_to_num(given), axis=1, kind="stable")[:, :size] if k else np.zeros((n, 0), int)
    take = min(k, size)
    pt[:, :take] = np.take_along_axis(np.nan_to_num(given), order, axis=1) if k else 0.0
    hw_pt = _hw_pt(pt, PT_MAX_HW[name])
    present = hw_pt > 0
    for f in coll.fields:
        arr = np.zeros((n, size))
        if f in data and k:
            arr[:, :take] = np.take_along_axis(np.nan_to_num(np.asarray(data[f], np.float64)), order, axis=1)
        if f == "eta":
            arr = np.round(arr / coll.eta_lsb)
        elif f == "phi":
            arr = _hw_phi(arr, coll.phi_bins)
        fields[f] = arr
    fields["pt"] = hw_pt
    for f in coll.fields:
        spec = BASE_COLUMNS[coll.column(f)]
        info = np.iinfo(spec.dtype)
        vals = np.clip(np.where(present, fields[f], 0), info.min, info.max)
        cols[coll.column(f)] = vals.astype(spec.dtype)


def to_batch(
    objects: Mapping[str, Mapping[str, np.ndarray]], sums: Mapping[str, np.ndarray], n: int, *,
    first: int, stream: str, extra: Mapping[str, np.ndarray] | None = None,
) -> EventBatch:
    """Build a batch of ``n`` events; ``objects[collection][field]`` are (n, k) arrays.

    ``sums[name]`` are (n,) ET in GeV and ``sums[name + "_phi"]`` φ in rad; missing
    collections, fields and sums are zero.

    >>> b = to_batch({"jet": {"pt": np.array([[30.0, 80.0]]), "eta": np.array([[0.0, 1.0]]),
    ...               "phi": np.array([[0.0, -0.1]])}}, {"etm": np.array([12.2])}, 1, first=0, stream="x")
    >>> b["jet_pt"][0, :3].tolist(), int(b["jet_eta"][0, 0]), int(b["jet_phi"][0, 0]), int(b["etm"][0])
    ([160, 60, 0], 23, 141, 24)
    """
    cols: dict[str, np.ndarray] = {}
    for name in COLLECTIONS:
        _collection(cols, name, objects.get(name, {}), n)
    for name, has_phi in SUMS.items():
        et = np.asarray(sums.get(name, np.zeros(n)), np.float64)
        cols[name] = np.clip(np.floor(np.nan_to_num(et) / PT_LSB), 0, _SUM_MAX).astype(np.int32)
        if has_phi:
            cols[f"{name}_phi"] = _hw_phi(sums.get(f"{name}_phi", np.zeros(n)), 144).astype(np.int16)
    defaults: dict[str, np.ndarray] = {
        "run": np.ones(n, np.uint32), "lumi": np.ones(n, np.uint32),
        "event": np.arange(first + 1, first + n + 1, dtype=np.uint64), "bx": np.ones(n, np.uint16),
        "pileup": np.zeros(n, np.float32), "weight": np.ones(n, np.float32),
        "regions": np.zeros((n, *BASE_COLUMNS["regions"].shape), np.uint16),
        "mu_shower": np.zeros(n, np.uint8),
    }
    for name, value in (extra or {}).items():
        spec = BASE_COLUMNS[name]
        defaults[name] = np.asarray(value).astype(spec.dtype).reshape(n, *spec.shape)
    cols |= defaults
    return EventBatch({k: cols[k] for k in BASE_COLUMNS}, BatchMeta(stream=stream, first=first))
