"""l1emu's zero-bias rates against CMS's: per-seed ratios, rate-versus-threshold curves, the total's make-up.

CMS numbers are the zero-bias rates of the CMS L1 menu tools' example rate table (Run 2, about
2 × 10³⁴, ⟨μ⟩ ≈ 50–60; REFERENCE.md §9). Rate curves are computed from the event columns with the
weights of a stitched sample: for each object type the rate of "at least one (or two) objects
passing the type's cuts with pT ≥ T", the same definitions as the CMS seeds they pass through.

>>> import numpy as np
>>> cols = {"jet_pt": np.array([[200, 100], [60, 0], [0, 0]]), "jet_eta": np.zeros((3, 2), int),
...         "jet_iso": np.zeros((3, 2), int), "weight": np.ones(3)}
>>> c = threshold_curve(cols, CURVES["jet"], np.array([20.0, 50.0, 120.0]), crossing_khz=3.0)
>>> c["rate_khz"]
[2.0, 1.0, 0.0]
>>> comparison({"L1_SingleJet180": {"rate_raw_khz": 3.22, "rate_raw_err_khz": 0.2}})["L1_SingleJet180"]["ratio"]
1.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from streams.schema import CALO_ETA_LSB, MU_ETA_LSB, PT_LSB

__all__ = [
    "CMS_RATES_KHZ", "CURVES", "RATIO_GOAL", "CurveSpec", "comparison", "composition", "default_thresholds",
    "sequence_curves", "threshold_curve",
]

#: CMS zero-bias rates (kHz, ± stat.) of REFERENCE.md §9.
CMS_RATES_KHZ: Final[dict[str, tuple[float, float]]] = {
    "L1_SingleMu22": (10.15, 1.28),
    "L1_SingleIsoEG30er2p1": (15.47, 1.58),
    "L1_DoubleEG_25_12_er2p5": (4.19, 0.82),
    "L1_DoubleIsoTau34er2p1": (12.09, 1.40),
    "L1_SingleJet180": (3.22, 0.72),
    "L1_HTT360er": (3.54, 0.76),
    "L1_ETMHF100": (3.38, 0.74),
}
#: The issue's goal: every seed within this factor of CMS.
RATIO_GOAL: Final = 1.5


@dataclass(frozen=True, slots=True)
class CurveSpec:
    """Rate of ≥ ``count`` objects of a collection (or a sum ≥ T) after the cuts of a CMS seed family."""

    label: str
    prefix: str  # collection column prefix, or the sum column
    eta_max: float | None = None
    eta_lsb: float = CALO_ETA_LSB
    iso: tuple[int, ...] | None = None  # accepted iso values
    quality_min: int | None = None
    count: int = 1
    cms_seed: str | None = None  # the CMS point drawn on the curve
    cms_threshold: float | None = None
    is_sum: bool = False


CURVES: Final[dict[str, CurveSpec]] = {c.label: c for c in (
    CurveSpec("muon", "mu", eta_lsb=MU_ETA_LSB, quality_min=12, cms_seed="L1_SingleMu22", cms_threshold=22),
    CurveSpec("egamma", "eg", eta_max=2.523),
    CurveSpec("iso_egamma_er2p1", "eg", eta_max=2.131, iso=(1, 3), cms_seed="L1_SingleIsoEG30er2p1",
              cms_threshold=30),
    CurveSpec("tau_er2p1", "tau", eta_max=2.131),
    CurveSpec("double_iso_tau_er2p1", "tau", eta_max=2.131, iso=(1, 2, 3), count=2,
              cms_seed="L1_DoubleIsoTau34er2p1", cms_threshold=34),
    CurveSpec("jet", "jet", cms_seed="L1_SingleJet180", cms_threshold=180),
    CurveSpec("htt", "htt", is_sum=True, cms_seed="L1_HTT360er", cms_threshold=360),
    CurveSpec("etmhf", "etmhf", is_sum=True, cms_seed="L1_ETMHF100", cms_threshold=100),
)}


def _kth_pt(cols: Mapping[str, np.ndarray], spec: CurveSpec) -> np.ndarray:
    """Per event, the ``count``-th highest pT (GeV) of the objects passing the spec's cuts."""
    pt = np.asarray(cols[f"{spec.prefix}_pt"]).astype(np.float64) * PT_LSB
    ok = pt > 0
    if spec.eta_max is not None:
        ok &= np.abs(np.asarray(cols[f"{spec.prefix}_eta"])) * spec.eta_lsb <= spec.eta_max + 1e-9
    if spec.iso is not None:
        ok &= np.isin(np.asarray(cols[f"{spec.prefix}_iso"]), spec.iso)
    if spec.quality_min is not None:
        ok &= np.asarray(cols[f"{spec.prefix}_qual"]) >= spec.quality_min
    passed = np.sort(np.where(ok, pt, 0.0), axis=1)[:, ::-1]
    return passed[:, spec.count - 1] if passed.shape[1] >= spec.count else np.zeros(len(pt))


def threshold_curve(cols: Mapping[str, np.ndarray], spec: CurveSpec, thresholds: np.ndarray, *,
                    crossing_khz: float) -> dict[str, Any]:
    """Weighted rate (kHz, ± √Σw²) of events whose spec value is ≥ each threshold (GeV)."""
    value = (np.asarray(cols[spec.prefix]).astype(np.float64) * PT_LSB if spec.is_sum else _kth_pt(cols, spec))
    w = np.asarray(cols["weight"], np.float64)
    total = float(w.sum())
    order = np.argsort(value)
    v, ws = value[order], w[order]
    above = np.cumsum(ws[::-1])[::-1]  # Σw of events with value ≥ v[k]
    above2 = np.cumsum((ws * ws)[::-1])[::-1]
    k = np.searchsorted(v, np.asarray(thresholds, np.float64) - 1e-9, side="left")
    s = np.where(k < len(v), above[np.minimum(k, len(v) - 1)], 0.0)
    s2 = np.where(k < len(v), above2[np.minimum(k, len(v) - 1)], 0.0)
    scale = crossing_khz / total if total > 0 else 0.0
    return {"label": spec.label, "thresholds": [float(t) for t in thresholds],
            "rate_khz": [float(x) for x in s * scale], "rate_err_khz": [float(x) for x in np.sqrt(s2) * scale],
            "cms_seed": spec.cms_seed, "cms_threshold": spec.cms_threshold,
            "cms_rate_khz": CMS_RATES_KHZ[spec.cms_seed] if spec.cms_seed else None}


def comparison(seeds: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per CMS seed present in a rate report's ``seeds``: unprescaled rates, ratio ± error, within goal."""
    out: dict[str, dict[str, Any]] = {}
    for name, (cms, cms_err) in CMS_RATES_KHZ.items():
        s = seeds.get(name)
        if s is None:
            continue
        ours, err = float(s["rate_raw_khz"]), float(s["rate_raw_err_khz"])
        ratio = ours / cms
        ratio_err = ratio * math.hypot(err / ours if ours > 0 else 0.0, cms_err / cms)
        out[name] = {"l1emu_khz": ours, "l1emu_err_khz": err, "cms_khz": cms, "cms_err_khz": cms_err,
                     "ratio": round(ratio, 6), "ratio_err": ratio_err,
                     "within_goal": 1 / RATIO_GOAL <= ratio <= RATIO_GOAL}
    return out


def composition(seeds: Mapping[str, Mapping[str, Any]], total_khz: float, top: int = 15) -> list[dict[str, Any]]:
    """The seeds that make the total (prescaled rates and pure rates, largest first), with shares."""
    rows = sorted(seeds.items(), key=lambda kv: -float(kv[1]["rate_khz"]))[:top]
    return [{"seed": n, "rate_khz": float(s["rate_khz"]), "pure_rate_khz": float(s["pure_rate_khz"]),
             "share_of_total": float(s["rate_khz"]) / total_khz if total_khz > 0 else 0.0}
            for n, s in rows if float(s["rate_khz"]) > 0]


def default_thresholds(spec: CurveSpec) -> np.ndarray:
    """The thresholds (GeV) a curve is drawn at."""
    hi = {"htt": 600.0, "etmhf": 200.0, "jet": 300.0}.get(spec.label, 120.0 if spec.count == 1 else 80.0)
    return np.linspace(hi / 30, hi, 30)


def sequence_curves(cols: Mapping[str, np.ndarray], crossing_khz: float,
                    names: Sequence[str] = tuple(CURVES)) -> dict[str, dict[str, Any]]:
    """Every curve of :data:`CURVES` (or ``names``) on one sample's columns."""
    return {n: threshold_curve(cols, CURVES[n], default_thresholds(CURVES[n]), crossing_khz=crossing_khz)
            for n in names}
