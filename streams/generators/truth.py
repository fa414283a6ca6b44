"""Generator-level truth of hard-scatter pool events: the ``gen_*`` columns of turn-on studies.

Computed once per pool event (vectorised numpy; jets with fastjet's multi-event
interface) and cached next to the pool as ``truth-….npz``, keyed by the pool's key
and :data:`TRUTH_FORMAT`. All quantities are float32 GeV, 0 when absent:

* ``gen_mu_pt`` / ``gen_ele_pt``: hardest final-state μ (|η| < 2.4) / e (|η| < 2.5);
* ``gen_jet_pt``: hardest anti-kT 0.4 jet of visible particles (|η| < 5 inputs), |η| < 4.7;
* ``gen_tau_pt``: leading visible hadronic τ (τ minus its neutrinos), |η| < 2.5, kept by the pool;
* ``gen_ht`` / ``gen_mht``: scalar / vector sum of jets with pT > 30 GeV, |η| < 2.4;
* ``gen_met``: |Σ pT| of invisible particles (ν, |PDG id| > 10⁶);
* ``gen_ett``: Σ pT of visible particles with |η| < 3 (the L1 ETT acceptance).

>>> GEN_COLUMNS[0], len(GEN_COLUMNS)
('gen_mu_pt', 8)
"""

from __future__ import annotations

import json
import logging
import os
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np

from streams.errors import SourceError
from streams.generators.pool import ParticlePool, default_cache_dir

__all__ = [
    "GEN_COLUMNS", "TRUTH_DEFINITIONS", "TRUTH_FORMAT", "compute_truth", "concat_truth", "load_truth",
    "truth_filename",
]

log = logging.getLogger(__name__)

#: Bump when a definition below changes: cached truth files are then recomputed.
TRUTH_FORMAT: Final = 2  # 2: gen_tau_pt is the visible τ_h (was the leading central jet)
GEN_COLUMNS: Final = (
    "gen_mu_pt", "gen_ele_pt", "gen_tau_pt", "gen_jet_pt", "gen_ht", "gen_met", "gen_mht", "gen_ett",
)
_MU_ETA: Final = 2.4
_ELE_ETA: Final = 2.5
_TAU_ETA: Final = 2.5
_JET_R: Final = 0.4
_JET_INPUT_ETA: Final = 5.0
_JET_ETA: Final = 4.7
_JET_MIN_PT: Final = 5.0
_HT_PT: Final = 30.0
_HT_ETA: Final = 2.4
_ETT_ETA: Final = 3.0
_NEUTRINOS: Final = np.array([12, 14, 16])
_BSM_INVISIBLE: Final = 1_000_000

#: Human-readable definitions, written into the sample provenance.
TRUTH_DEFINITIONS: Final = {
    "gen_mu_pt": f"leading final-state muon, |eta| < {_MU_ETA}",
    "gen_ele_pt": f"leading final-state electron, |eta| < {_ELE_ETA}",
    "gen_tau_pt": f"leading visible hadronic tau (tau minus its neutrinos, last copy, no e/mu daughter), "
                  f"|eta| < {_TAU_ETA}",
    "gen_jet_pt": f"leading anti-kT {_JET_R} jet of visible particles (|eta| < {_JET_INPUT_ETA}), |eta| < {_JET_ETA}",
    "gen_ht": f"scalar sum of jets with pT > {_HT_PT} GeV, |eta| < {_HT_ETA}",
    "gen_met": f"|sum pT| of neutrinos and |PDG id| > {_BSM_INVISIBLE}",
    "gen_mht": f"|vector sum pT| of jets with pT > {_HT_PT} GeV, |eta| < {_HT_ETA}",
    "gen_ett": f"sum pT of visible particles, |eta| < {_ETT_ETA}",
}


def _leading(pool: ParticlePool, event: np.ndarray, sel: np.ndarray) -> np.ndarray:
    out = np.zeros(len(pool), np.float32)
    np.maximum.at(out, event[sel], pool.pt[sel])
    return out


def _vector_sum(n: int, event: np.ndarray, pt: np.ndarray, phi: np.ndarray) -> np.ndarray:
    px = np.bincount(event, weights=pt * np.cos(phi), minlength=n)
    py = np.bincount(event, weights=pt * np.sin(phi), minlength=n)
    return np.hypot(px, py).astype(np.float32)


def _jets(pool: ParticlePool, visible: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, ...]:
    """(event, pt, eta, phi) of all anti-kT jets above 5 GeV, flat over events (fastjet)."""
    sel = visible & (np.abs(pool.eta) < _JET_INPUT_ETA)
    if not sel.any():
        return tuple(np.zeros(0, t) for t in (np.int64, np.float64, np.float64, np.float64))
    import awkward as ak
    import fastjet

    pt, eta, phi = (np.asarray(a[sel], np.float64) for a in (pool.pt, pool.eta, pool.phi))
    particles = ak.zip({"px": pt * np.cos(phi), "py": pt * np.sin(phi), "pz": pt * np.sinh(eta),
                        "E": pt * np.cosh(eta)})
    counts = np.bincount(event[sel], minlength=len(pool))
    seq = fastjet.ClusterSequence(ak.unflatten(particles, counts),
                                  fastjet.JetDefinition(fastjet.antikt_algorithm, _JET_R))
    jets = seq.inclusive_jets(_JET_MIN_PT)
    jet_event = np.repeat(np.arange(len(pool)), ak.to_numpy(ak.num(jets, axis=1)))
    px, py, pz = (ak.to_numpy(ak.flatten(getattr(jets, c))) for c in ("px", "py", "pz"))
    jet_pt = np.hypot(px, py)
    return jet_event, jet_pt, np.arcsinh(pz / np.maximum(jet_pt, 1e-12)), np.arctan2(py, px)


def compute_truth(pool: ParticlePool) -> dict[str, np.ndarray]:
    """The :data:`GEN_COLUMNS` of every event of ``pool`` (float32, GeV).

    >>> from streams.generators.pool import PoolSettings
    >>> f = lambda *v: np.array(v, np.float32)
    >>> pool = ParticlePool(PoolSettings("wlnu", events=1), np.array([0, 2]), pt=f(40, 35),
    ...                     eta=f(0.5, 1.0), phi=f(0, 3), e=f(45, 54), pid=np.array([13, -14]),
    ...                     charge=np.array([-1, 0], np.int8))
    >>> t = compute_truth(pool)
    >>> float(t["gen_mu_pt"][0]), float(t["gen_met"][0]), float(t["gen_ett"][0])
    (40.0, 35.0, 40.0)
    """
    n = len(pool)
    event = pool.event_index()
    apid = np.abs(pool.pid)
    aeta = np.abs(pool.eta)
    invisible = np.isin(apid, _NEUTRINOS) | (apid > _BSM_INVISIBLE)
    visible = ~invisible
    jet_event, jet_pt, jet_eta, jet_phi = _jets(pool, visible, event)
    central = (jet_pt > _HT_PT) & (np.abs(jet_eta) < _HT_ETA)
    lead_jet = np.zeros(n, np.float32)
    in_acc = np.abs(jet_eta) < _JET_ETA
    np.maximum.at(lead_jet, jet_event[in_acc], jet_pt[in_acc])
    tau_vis = pool.event_tau_vis()
    lead_tau = np.where(np.abs(tau_vis[:, 1]) < _TAU_ETA, tau_vis[:, 0], 0.0).astype(np.float32)
    sums_ett = visible & (aeta < _ETT_ETA)
    return {
        "gen_mu_pt": _leading(pool, event, (apid == 13) & (aeta < _MU_ETA)),
        "gen_ele_pt": _leading(pool, event, (apid == 11) & (aeta < _ELE_ETA)),
        "gen_tau_pt": lead_tau,
        "gen_jet_pt": lead_jet,
        "gen_ht": np.bincount(jet_event[central], weights=jet_pt[central], minlength=n).astype(np.float32),
        "gen_met": _vector_sum(n, event[invisible], pool.pt[invisible].astype(np.float64),
                               pool.phi[invisible].astype(np.float64)),
        "gen_mht": _vector_sum(n, jet_event[central], jet_pt[central], jet_phi[central]),
        "gen_ett": np.bincount(event[sums_ett], weights=pool.pt[sums_ett], minlength=n).astype(np.float32),
    }


def truth_filename(pool: ParticlePool) -> str:
    """Cache file name of a pool's truth: the pool's file name with ``truth-`` for ``pool-``."""
    return "truth-" + pool.settings.filename().removeprefix("pool-")


def _read(path: Path, key: str, n: int) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            cols = {c: np.asarray(z[c]) for c in GEN_COLUMNS}
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        msg = f"{path}: unreadable truth cache ({exc})"
        raise SourceError(msg) from exc
    if meta.get("pool_key") != key or meta.get("format") != TRUTH_FORMAT:
        msg = f"{path}: truth cache made for pool key {meta.get('pool_key')!r}, format {meta.get('format')!r}"
        raise SourceError(msg)
    bad = [c for c, a in cols.items() if a.shape != (n,) or a.dtype != np.float32]
    if bad:
        msg = f"{path}: truth columns {bad} are not float32 of {n} events"
        raise SourceError(msg)
    return cols


def _write(path: Path, key: str, cols: Mapping[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    meta = json.dumps({"pool_key": key, "format": TRUTH_FORMAT, "definitions": TRUTH_DEFINITIONS})
    arrays: dict[str, Any] = {"meta": np.array(meta), **{c: cols[c] for c in GEN_COLUMNS}}
    with tmp.open("wb") as fh:
        np.savez_compressed(fh, **arrays)
    tmp.replace(path)


def load_truth(pool: ParticlePool, *, cache_dir: Path | None = None) -> dict[str, np.ndarray]:
    """:func:`compute_truth` of ``pool``, read from / written to the pool cache (default dir if None)."""
    path = (cache_dir or default_cache_dir()) / truth_filename(pool)
    key = pool.settings.key()
    if path.exists():
        try:
            cols = _read(path, key, len(pool))
        except SourceError as exc:
            log.warning("%s; recomputing", exc)
        else:
            log.info("truth %s: %d events from cache", path.name, len(pool))
            return cols
    cols = compute_truth(pool)
    try:
        _write(path, key, cols)
    except OSError as exc:
        log.warning("%s: cannot write truth cache (%s); continuing without", path, exc)
    return cols


def concat_truth(parts: Sequence[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Join the truth of pools concatenated in the same order (e.g. QCD p̂T bins).

    >>> a = {c: np.ones(2, np.float32) for c in GEN_COLUMNS}
    >>> concat_truth([a, a])["gen_ht"].tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    return {c: np.concatenate([p[c] for p in parts]).astype(np.float32) for c in GEN_COLUMNS}
