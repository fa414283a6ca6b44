"""Physical-unit views of hardware-unit columns, and model input layouts."""

from __future__ import annotations

import numpy as np

from streams.event import EventBatch
from streams.schema import CALO_PHI_LSB, COLLECTIONS, PT_LSB

__all__ = ["AXOL1TL_LAYOUT", "axol1tl_features", "physical", "sum_physical"]

#: (collection, number of objects) in AXOL1TL input order, after the MET entry.
AXOL1TL_LAYOUT: tuple[tuple[str, int], ...] = (("egamma", 4), ("muon", 4), ("jet", 10))


def _wrap_phi(phi: np.ndarray) -> np.ndarray:
    return np.where(phi > np.pi, phi - 2 * np.pi, phi)


def physical(batch: EventBatch, collection: str) -> dict[str, np.ndarray]:
    """pT (GeV), η and φ (rad, in (−π, π]) of a collection as float32 (N, size)."""
    coll = COLLECTIONS[collection]
    pt = batch[coll.column("pt")].astype(np.float32) * np.float32(PT_LSB)
    eta = batch[coll.column("eta")].astype(np.float32) * np.float32(coll.eta_lsb)
    phi = batch[coll.column("phi")].astype(np.float32) * np.float32(2 * np.pi / coll.phi_bins)
    return {"pt": pt, "eta": eta, "phi": _wrap_phi(phi).astype(np.float32)}


def sum_physical(batch: EventBatch, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Energy sum ``name`` in GeV and, for vector sums, its φ in rad."""
    et = batch[name].astype(np.float32) * np.float32(PT_LSB)
    phi_col = f"{name}_phi"
    if phi_col not in batch:
        return et, None
    phi = batch[phi_col].astype(np.float32) * np.float32(CALO_PHI_LSB)
    return et, _wrap_phi(phi).astype(np.float32)


def axol1tl_features(batch: EventBatch, *, units: str = "hw") -> np.ndarray:
    """The 57 AXOL1TL inputs: MET, 4 e/γ, 4 μ, 10 jets × (pT, η, φ).

    ``units="hw"`` gives the hardware integers the global trigger receives (as
    float32, ready for an ``ap_fixed`` input cast); ``"physical"`` gives GeV/rad.
    MET's η is 0. Objects are already pT-ordered and zero-padded.
    """
    n = len(batch)
    out = np.zeros((n, 57), dtype=np.float32)
    if units == "hw":
        out[:, 0] = batch["etm"]
        out[:, 2] = batch["etm_phi"]
    elif units == "physical":
        et, phi = sum_physical(batch, "etm")
        out[:, 0] = et
        out[:, 2] = phi if phi is not None else 0.0
    else:
        msg = f"units must be 'hw' or 'physical', not {units!r}"
        raise ValueError(msg)
    col = 3
    for name, k in AXOL1TL_LAYOUT:
        coll = COLLECTIONS[name]
        if units == "hw":
            parts = [batch[coll.column(f)][:, :k].astype(np.float32) for f in ("pt", "eta", "phi")]
        else:
            p = physical(batch, name)
            parts = [p[f][:, :k] for f in ("pt", "eta", "phi")]
        out[:, col : col + 3 * k] = np.stack(parts, axis=-1).reshape(n, 3 * k)
        col += 3 * k
    return out
