"""Run Pythia 8 (``pythia8mc``) and flatten its final-state particles to arrays."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import numpy as np

from streams.errors import SourceError
from streams.generators._taus import leading_visible_tau

__all__ = ["GeneratedParticles", "pythia_version", "run_pythia"]

log = logging.getLogger(__name__)

_CHUNK = 500  # events per nextBatch call
_ETA_KEEP = 5.5  # particles beyond never reach a tower (neutrinos are always kept)
_NEUTRINOS = np.array([12, 14, 16])
_TAU_ETA = 2.5  # visible τ_h kept per event (the L1 τ acceptance)


@dataclass(frozen=True, slots=True)
class GeneratedParticles:
    """Final-state particles of ``n`` events as flat arrays with event offsets."""

    offsets: np.ndarray  # int64 (n + 1,)
    pt: np.ndarray  # float32 GeV
    eta: np.ndarray  # float32
    phi: np.ndarray  # float32, (-π, π]
    e: np.ndarray  # float32 GeV
    pid: np.ndarray  # int32 PDG id
    charge: np.ndarray  # int8, units of e
    sigma_mb: float
    sigma_err_mb: float
    pthat: np.ndarray | None = None  # float32 (n,) GeV, p̂T of each event's hardest interaction
    tau_vis: np.ndarray | None = None  # float32 (n, 3): leading visible τ_h (pT GeV, η, φ), |η| < 2.5


def pythia_version() -> str:
    """Installed ``pythia8mc`` version, or ``"absent"``."""
    try:
        return metadata.version("pythia8mc")
    except metadata.PackageNotFoundError:
        return "absent"


def _make_pythia(lines: Sequence[str]) -> Any:
    try:
        import pythia8mc
    except ImportError as exc:
        msg = "Pythia 8 is not installed (pip install 'l1emu[physics]' brings pythia8mc)"
        raise SourceError(msg) from exc
    pythia = pythia8mc.Pythia("", False)
    for line in lines:
        if not pythia.readString(line):
            msg = f"Pythia rejected the setting {line!r}"
            raise SourceError(msg)
    if not pythia.init():
        msg = f"Pythia initialisation failed with settings {list(lines)}"
        raise SourceError(msg)
    return pythia


def _flatten(batch: Any, charge_of: dict[int, int]) -> dict[str, np.ndarray]:
    import awkward as ak

    allp = batch.prt

    def flat(a: Any, dtype: type) -> np.ndarray:
        return np.asarray(ak.to_numpy(ak.flatten(a)), dtype)

    tau_vis = leading_visible_tau(
        ak.to_numpy(ak.num(allp, axis=1)).astype(np.int64), flat(allp.id, np.int64), flat(allp.daughter1, np.int64),
        flat(allp.daughter2, np.int64), flat(allp.p.px, np.float64), flat(allp.p.py, np.float64),
        flat(allp.p.pz, np.float64), _TAU_ETA)
    prt = batch.prt[batch.prt.status > 0]
    counts = ak.to_numpy(ak.num(prt, axis=1)).astype(np.int64)
    px = ak.to_numpy(ak.flatten(prt.p.px))
    py = ak.to_numpy(ak.flatten(prt.p.py))
    pz = ak.to_numpy(ak.flatten(prt.p.pz))
    e = ak.to_numpy(ak.flatten(prt.p.e))
    pid = ak.to_numpy(ak.flatten(prt.id)).astype(np.int32)
    pt = np.hypot(px, py)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.arcsinh(np.where(pt > 0, pz / np.maximum(pt, 1e-300), np.sign(pz) * 1e6))
    keep = (np.abs(eta) < _ETA_KEEP) | np.isin(np.abs(pid), _NEUTRINOS)
    keep &= pt > 0
    event = np.repeat(np.arange(len(counts)), counts)[keep]
    uniq, inv = np.unique(pid[keep], return_inverse=True)
    charges = np.array([charge_of[int(u)] for u in uniq], dtype=np.int8)
    return {
        "counts": np.bincount(event, minlength=len(counts)).astype(np.int64),
        "pt": pt[keep].astype(np.float32),
        "eta": eta[keep].astype(np.float32),
        "phi": np.arctan2(py[keep], px[keep]).astype(np.float32),
        "e": e[keep].astype(np.float32),
        "pid": pid[keep],
        "charge": charges[inv.reshape(-1)] if len(uniq) else np.zeros(0, np.int8),
        "pthat": np.sqrt(np.maximum(ak.to_numpy(batch.info.pT2Hat), 0.0)).astype(np.float32),
        "tau_vis": tau_vis,
    }


class _ChargeTable(dict[int, int]):
    """PDG id -> integer charge, filled from Pythia's particle data on demand."""

    def __init__(self, pythia: Any) -> None:
        super().__init__()
        self._data = pythia.particleData

    def __missing__(self, pid: int) -> int:
        value = round(float(self._data.charge(pid)))
        self[pid] = value
        return value


def run_pythia(
    lines: Sequence[str], n_events: int, *, progress: bool = True, desc: str = "pythia"
) -> GeneratedParticles:
    """Generate ``n_events`` with the given Pythia settings; tqdm bar if ``progress``."""
    from tqdm import tqdm

    pythia = _make_pythia(lines)
    charge_of = _ChargeTable(pythia)
    parts: list[dict[str, np.ndarray]] = []
    done = 0
    with tqdm(total=n_events, desc=desc, unit="ev", disable=not progress, leave=False) as bar:
        while done < n_events:
            batch = pythia.nextBatch(min(_CHUNK, n_events - done))
            if len(batch) == 0:
                msg = f"Pythia produced no events in a batch ({done}/{n_events} done)"
                raise SourceError(msg)
            flat = _flatten(batch, charge_of)
            take = min(len(flat["counts"]), n_events - done)
            if take < len(flat["counts"]):
                stop = int(flat["counts"][:take].sum())
                flat = {k: (v[:take] if k in ("counts", "pthat", "tau_vis") else v[:stop]) for k, v in flat.items()}
            parts.append(flat)
            done += take
            bar.update(take)
    info = pythia.infoPython()
    sigma, sigma_err = float(info.sigmaGen()), float(info.sigmaErr())
    log.info("generated %d events, sigma = %.4g +- %.2g mb", done, sigma, sigma_err)
    counts = np.concatenate([p["counts"] for p in parts])
    return GeneratedParticles(
        offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        **{k: np.concatenate([p[k] for p in parts]) for k in ("pt", "eta", "phi", "e", "pid", "charge")},
        sigma_mb=sigma,
        sigma_err_mb=sigma_err,
        pthat=np.concatenate([p["pthat"] for p in parts]),
        tau_vis=np.concatenate([p["tau_vis"] for p in parts]),
    )
