"""Measure the τ model's calibration and isolation working points on genuine τ (docs/physics.md §4).

What CMS does for its layer-2 τ LUTs, on l1emu's own towers: the energy scale per (|η| bin, merged)
is 1 / median(raw L1 τ / ``gen_tau_pt``) of the leading L1 τ, and each isolation working point is the
fraction of the raw ET at which it keeps its target efficiency for genuine τ (L1 ET ≥ 34 GeV after
calibration, |η| < 2.1). Genuine: 0.4 < raw / generator < 1.6 with ``gen_tau_pt`` > 20 GeV. Nothing here
looks at a rate.

``python -m emulator.studies.tau_luts`` prints both for the sample of ``_luts.py``'s comment
(``--process htautau --pileup 55 --events 20000 --seed 11``; pools cached as for ``l1emu generate``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np

from streams.generators.premix import PremixSource
from streams.generators.sample import SampleSpec, build_source
from streams.l1sim.config import L1SimConfig
from streams.schema import CALO_ETA_LSB, PT_LSB

__all__ = ["TauLutMeasurement", "measure_tau_luts"]

log = logging.getLogger(__name__)

_GEN_MIN, _GENUINE = 20.0, (0.4, 1.6)
_ISO_ET_MIN, _ISO_ETA_MAX = 34.0, 2.1
_MERGED_SCALE = 2.0  # the second pass scales merged τ by this, which tells merged ones apart


@dataclass(frozen=True, slots=True)
class TauLutMeasurement:
    """The measured scales (η-major like ``L1SimConfig.tau_calibration``) and working points."""

    calibration: tuple[float, ...]
    responses: tuple[float, ...]
    counts: tuple[int, ...]
    iso_loose: float
    iso_tight: float


def _leading(source: PremixSource, l1: L1SimConfig) -> dict[str, np.ndarray]:
    source = source.with_l1(l1)
    cols = ("tau_pt", "tau_eta", "tau_phi", "tau_iso", "gen_tau_pt")
    parts: dict[str, list[np.ndarray]] = {c: [] for c in cols}
    for batch in source.batches(8192):
        for c in cols:
            col = np.asarray(batch[c])
            parts[c].append(col[:, 0] if col.ndim == 2 else col)
    return {c: np.concatenate(v) for c, v in parts.items()}


def _fraction_for(source: PremixSource, l1: L1SimConfig, sel: np.ndarray, bit: int, target: float) -> float:
    """The iso fraction (bit 0 loose, bit 1 tight) at which ``target`` of the ``sel`` τ pass (bisection)."""
    lo, hi = 0.0, 1.0
    for _ in range(12):
        mid = 0.5 * (lo + hi)
        cfg = replace(l1, tau_iso_loose=mid, tau_iso_tight=mid)
        eff = float(np.mean(_leading(source, cfg)["tau_iso"][sel] & (1 << bit) > 0))
        lo, hi = (mid, hi) if eff < target else (lo, mid)
    return round(0.5 * (lo + hi), 3)


def measure_tau_luts(spec: SampleSpec, l1: L1SimConfig | None = None, *, loose_eff: float = 0.85,
                     tight_eff: float = 0.77) -> TauLutMeasurement:
    """Scales and iso working points of ``l1``'s τ model on the τ sample ``spec``."""
    l1 = l1 or L1SimConfig()
    source, _ = build_source(spec, l1=l1, progress=False)  # the tower pools once; every pass reuses them
    n_eta = len(l1.tau_calibration_eta_edges) + 1
    raw = _leading(source, replace(l1, tau_calibration=(1.0,) * (2 * n_eta)))
    twice = _leading(source, replace(l1, tau_calibration=(1.0,) * n_eta + (_MERGED_SCALE,) * n_eta))
    same = (raw["tau_eta"] == twice["tau_eta"]) & (raw["tau_phi"] == twice["tau_phi"]) & (raw["tau_pt"] > 0)
    merged = twice["tau_pt"] > 1.5 * raw["tau_pt"]
    gen = raw["gen_tau_pt"]
    ratio = np.where(gen > 0, raw["tau_pt"] * PT_LSB / np.maximum(gen, 1e-9), 0.0)
    genuine = same & (gen > _GEN_MIN) & (ratio > _GENUINE[0]) & (ratio < _GENUINE[1])
    aeta = np.abs(raw["tau_eta"]) * CALO_ETA_LSB
    eta_bin = np.searchsorted(np.asarray(l1.tau_calibration_eta_edges), aeta, side="right")
    scales, responses, counts = [], [], []
    for m in (False, True):
        for b in range(n_eta):
            sel = genuine & (merged == m) & (eta_bin == b)
            med = float(np.median(ratio[sel])) if sel.any() else 1.0
            responses.append(round(med, 3))
            scales.append(round(1.0 / med, 3))
            counts.append(int(sel.sum()))
    cal = replace(l1, tau_calibration=tuple(scales))
    calibrated = _leading(source, cal)
    in_wp = genuine & (calibrated["tau_pt"] * PT_LSB >= _ISO_ET_MIN) & (aeta < _ISO_ETA_MAX)
    log.info("τ responses %s from %s genuine τ; %d in the isolation selection", responses, counts, int(in_wp.sum()))
    loose = _fraction_for(source, cal, in_wp, 0, loose_eff)
    tight = _fraction_for(source, cal, in_wp, 1, tight_eff)
    return TauLutMeasurement(tuple(scales), tuple(responses), tuple(counts), loose, tight)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    spec = SampleSpec(process="htautau", mu=55.0, events=20_000, seed=11)
    m = measure_tau_luts(spec)
    logging.getLogger(__name__).info("measured: %s", m)
