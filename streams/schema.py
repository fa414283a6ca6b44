"""The versioned column schema of an :class:`~streams.event.EventBatch`.

All L1 objects are in CMS uGT hardware integer units (see ``docs/event-model.md``):
pT LSB 0.5 GeV, calo η LSB 0.0435 and φ LSB 2π/144, muon η LSB 0.010875 and
φ LSB 2π/576. Collections have fixed maximum multiplicities, are pT-ordered and
zero-padded (an empty slot has ``pt == 0``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Final

import numpy as np

__all__ = [
    "ALLOWED_DTYPES",
    "BASE_COLUMNS",
    "CALO_ETA_LSB",
    "CALO_PHI_BINS",
    "CALO_PHI_LSB",
    "COLLECTIONS",
    "COLUMN_NAME_RE",
    "HARD_EVENT",
    "MU_ETA_LSB",
    "MU_PHI_BINS",
    "MU_PHI_LSB",
    "MU_SHOWER_BITS",
    "NEIGHBOUR_BX",
    "N_REGION_ETA",
    "N_REGION_PHI",
    "PT_LSB",
    "SCHEMA_V1_ADDED",
    "SCHEMA_VERSION",
    "SUMS",
    "Collection",
    "ColumnSpec",
    "neighbour_column",
]

#: 2: muon unconstrained pT, impact parameter and track-finder index, displaced-jet flag, muon-shower bits.
SCHEMA_VERSION: Final = 2

PT_LSB: Final = 0.5  # GeV, calo objects, muons and energy sums
CALO_ETA_LSB: Final = 0.087 / 2
CALO_PHI_BINS: Final = 144
CALO_PHI_LSB: Final = 2 * math.pi / CALO_PHI_BINS
MU_ETA_LSB: Final = 0.010875
MU_PHI_BINS: Final = 576
MU_PHI_LSB: Final = 2 * math.pi / MU_PHI_BINS
N_REGION_PHI: Final = 18
N_REGION_ETA: Final = 14

COLUMN_NAME_RE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,63}$")

ALLOWED_DTYPES: Final = frozenset(
    np.dtype(t).str
    for t in (
        "bool", "int8", "int16", "int32", "int64",
        "uint8", "uint16", "uint32", "uint64", "float32", "float64",
    )
)


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """Name, dtype and per-event shape of one column."""

    name: str
    dtype: np.dtype
    shape: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Collection:
    """A fixed-multiplicity L1 object collection (columns ``<prefix>_<field>``)."""

    name: str
    prefix: str
    size: int
    fields: tuple[str, ...]
    eta_lsb: float
    phi_bins: int

    def column(self, field: str) -> str:
        """Column name of ``field`` in this collection."""
        return f"{self.prefix}_{field}"


_CALO_FIELDS: Final = ("pt", "eta", "phi", "iso", "qual")
#: Muons (uGMT → uGT): also the unconstrained pT (``upt``, 1 GeV LSB, 8 bits), the impact parameter
#: (``ip``, 2 bits) and the track-finder index (``tfindex``, 0–107: EMTF+ 0–17, OMTF+ 18–35, BMTF
#: 36–71, OMTF− 72–89, EMTF− 90–107); jets the displaced (LLP) flag ``disp``.
COLLECTIONS: Final = {
    "egamma": Collection("egamma", "eg", 12, _CALO_FIELDS, CALO_ETA_LSB, CALO_PHI_BINS),
    "tau": Collection("tau", "tau", 12, _CALO_FIELDS, CALO_ETA_LSB, CALO_PHI_BINS),
    "jet": Collection("jet", "jet", 12, (*_CALO_FIELDS, "disp"), CALO_ETA_LSB, CALO_PHI_BINS),
    "muon": Collection(
        "muon", "mu", 8, (*_CALO_FIELDS, "charge", "upt", "ip", "tfindex"), MU_ETA_LSB, MU_PHI_BINS
    ),
}

#: Bits of the ``mu_shower`` column (uGT muon-shower signals MUS0–2, out-of-time MUSOOT0–1).
MU_SHOWER_BITS: Final = {"MUS0": 0, "MUS1": 1, "MUS2": 2, "MUSOOT0": 3, "MUSOOT1": 4}

#: Energy sums: name -> has a φ column ``<name>_phi`` (calo φ scale).
SUMS: Final = {"ett": False, "htt": False, "etm": True, "htm": True, "etmhf": True}

_FIELD_DTYPES: Final = {
    "pt": np.int16,
    "eta": np.int16,
    "phi": np.int16,
    "iso": np.uint8,
    "qual": np.uint8,
    "charge": np.int8,
    "upt": np.uint8,
    "ip": np.uint8,
    "tfindex": np.uint8,
    "disp": np.uint8,
}


def _base_columns() -> dict[str, ColumnSpec]:
    cols: list[ColumnSpec] = [
        ColumnSpec("run", np.dtype(np.uint32)),
        ColumnSpec("lumi", np.dtype(np.uint32)),
        ColumnSpec("event", np.dtype(np.uint64)),
        ColumnSpec("bx", np.dtype(np.uint16)),
        ColumnSpec("pileup", np.dtype(np.float32)),
        ColumnSpec("weight", np.dtype(np.float32)),
    ]
    for coll in COLLECTIONS.values():
        cols += [
            ColumnSpec(coll.column(f), np.dtype(_FIELD_DTYPES[f]), (coll.size,))
            for f in coll.fields
        ]
    for name, has_phi in SUMS.items():
        cols.append(ColumnSpec(name, np.dtype(np.int32)))
        if has_phi:
            cols.append(ColumnSpec(f"{name}_phi", np.dtype(np.int16)))
    cols.append(
        ColumnSpec("regions", np.dtype(np.uint16), (N_REGION_PHI, N_REGION_ETA))
    )
    cols.append(ColumnSpec("mu_shower", np.dtype(np.uint8)))
    return {c.name: c for c in cols}


#: Optional int32 column of generated samples: the pool event that makes a crossing hard (−1: none).
#: Crossings that share it are correlated by pool reuse; :mod:`emulator.rates` groups them by it.
HARD_EVENT: Final = "hard_event"

#: Columns every batch of this schema version carries, in wire order.
BASE_COLUMNS: Final = _base_columns()

#: Columns schema version 2 added; a version-1 file reads with them zero (:mod:`streams.hdf5`).
SCHEMA_V1_ADDED: Final = ("mu_upt", "mu_ip", "mu_tfindex", "jet_disp", "mu_shower")

#: Crossing offsets whose muons a sample may carry (uGT conditions reach bx −2 … +2).
NEIGHBOUR_BX: Final = (-2, -1, 1, 2)


def neighbour_column(column: str, bx: int) -> str:
    """The optional column holding ``column`` of the crossing ``bx`` away (``bxm1_mu_pt`` for bx −1).

    >>> neighbour_column("mu_pt", -1), neighbour_column("mu_eta", 2)
    ('bxm1_mu_pt', 'bxp2_mu_eta')
    """
    if bx not in NEIGHBOUR_BX:
        msg = f"crossing offset {bx!r} is not one of {NEIGHBOUR_BX}"
        raise ValueError(msg)
    return f"bx{'m' if bx < 0 else 'p'}{abs(bx)}_{column}"
