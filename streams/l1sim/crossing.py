"""Emulate L1 objects for premixed bunch crossings, in uGT hardware units.

A crossing is described by the pool events drawn for it (index, φ rotation in
towers, η reflection) plus an optional hard-scatter event; :class:`CrossingEmulator`
turns a batch of such descriptions into the L1 columns of an
:class:`~streams.event.EventBatch` (everything but run/lumi/event/bx/pileup/weight).

>>> import numpy as np
>>> from streams.l1sim.response import TowerPool
>>> z = np.zeros(0, np.float32)
>>> pool = TowerPool(np.array([0, 1]), np.array([40], np.uint8), np.array([3], np.uint8),
...                  np.array([480], np.uint16), np.array([480], np.uint16),
...                  np.array([0, 0]), z, z, z, np.zeros(0, np.int8), z)
>>> emu = CrossingEmulator(pool)
>>> cols = emu.emulate(draw_counts=np.array([1]), draw_idx=np.array([0]),
...                    draw_rot=np.array([0]), draw_flip=np.array([False]))
>>> int(cols["jet_pt"][0, 0]), int(cols["jet_eta"][0, 0]), int(cols["ett"][0])
(120, 1, 120)
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Final

import numpy as np

from streams.errors import ConfigError
from streams.l1sim._kernel import emulate_kernel
from streams.l1sim._tau_iso import tau_iso_arrays
from streams.l1sim.config import TAU_CLUSTERINGS, L1SimConfig
from streams.l1sim.geometry import EG_IETA_RANGE, ETA_EDGES, N_ETA, N_PHI, REGION_OF_IETA, TOWER_HW_ETA
from streams.l1sim.response import TowerPool
from streams.schema import BASE_COLUMNS, CALO_ETA_LSB, COLLECTIONS, N_REGION_ETA, N_REGION_PHI, PT_LSB

__all__ = ["L1_COLUMNS", "MUON_WEIGHT", "CrossingEmulator", "MuonBoost", "egtau_luts", "met_thresholds"]

_SUM_ORDER: Final = ("ett", "htt", "etm", "etm_phi", "htm", "htm_phi", "etmhf", "etmhf_phi")
_BOOK: Final = ("run", "lumi", "event", "bx", "pileup", "weight")
#: Key of :meth:`CrossingEmulator.emulate`'s output: the crossing's forced-decay weight factor.
MUON_WEIGHT: Final = "muon_weight"


@dataclass(frozen=True, slots=True)
class MuonBoost:
    """Forced muon decays: sources with probability p < ``p_max`` and pT ≥ ``pt_min_gev`` become
    muons with p' = min(1, ``factor`` · p); the crossing is weighted by the likelihood ratio
    (p/p' where one is made, (1 − p)/(1 − p') where not), so weighted rates are unchanged in
    expectation while rare decays in flight are ``factor`` times more frequent. factor 1: off."""

    factor: float = 1.0
    p_max: float = 0.05
    pt_min_gev: float = 8.0

    def __post_init__(self) -> None:
        if not self.factor >= 1.0 or not 0.0 < self.p_max <= 1.0:
            msg = f"muon boost factor {self.factor} must be >= 1 and p_max {self.p_max} in (0, 1]"
            raise ConfigError(msg)

    def array(self) -> np.ndarray:
        return np.array([self.factor, self.p_max, self.pt_min_gev], np.float64)


#: The EventBatch columns the emulator fills.
L1_COLUMNS: Final = tuple(c for c in BASE_COLUMNS if c not in _BOOK)


def _trig_lut(bins: int, offset: float) -> tuple[np.ndarray, np.ndarray]:
    ang = 2 * math.pi * (np.arange(bins) + offset) / bins
    scale = 1 << 10
    return (np.round(np.cos(ang) * scale).astype(np.int64), np.round(np.sin(ang) * scale).astype(np.int64))


#: compNTT4 takes 5 bits (0 … 31).
NTT4_BINS: Final = 32
#: CMS tower areas in units of 0.087 × 0.087 for |ieta| 1 … 28 and the 12 HF towers (ieta 30 … 41).
_CMS_TOWER_AREA: Final = np.array([1.0] * 20 + [1.03, 1.15, 1.3, 1.48, 1.72, 2.05, 1.72, 4.02]
                                  + [3.29, 2.01, 2.02, 2.01, 2.02, 2.0, 2.03, 1.99, 2.02, 2.04, 2.0, 3.47])


def met_thresholds(c: L1SimConfig) -> np.ndarray:
    """float64 (N_ETA, 32): a tower enters ETM/ETMHF if its ET (hw) is above [ieta, compNTT4].

    The CMS Run-2 tower-threshold LUT (see ``L1SimConfig.met_pum_*``): integer thresholds,
    rounded half up, HF lowered by ``met_pum_hf_offset_hw``, clipped to [0, ``met_pum_max_hw``],
    and 0 for |ieta| < ``met_pum_ieta_min``.
    """
    half = N_ETA // 2
    k = np.where(np.arange(N_ETA) >= half, np.arange(N_ETA) - half + 1, half - np.arange(N_ETA))  # 1 … 40
    if not c.met_pum:
        return np.full((N_ETA, NTT4_BINS), c.sum_tower_min_hw - 1.0)
    cms_ieta = np.where(k <= 28, k, k + 1).astype(np.float64)  # CMS skips ieta 29
    ntt4 = np.arange(NTT4_BINS, dtype=np.float64)
    per_eta = _CMS_TOWER_AREA[k - 1] ** c.met_pum_a / (c.met_pum_d * (1.0 + np.exp(-c.met_pum_b * cms_ieta)))
    thr: np.ndarray = np.floor(per_eta[:, None] * ntt4[None, :] ** c.met_pum_c + 0.5)
    thr -= np.where(cms_ieta > 28, c.met_pum_hf_offset_hw, 0)[:, None]
    thr = np.clip(thr, 0.0, float(c.met_pum_max_hw))
    thr[cms_ieta < c.met_pum_ieta_min] = 0.0
    return thr


def _eta_bins(edges: tuple[float, ...]) -> np.ndarray:
    """int64 (N_ETA,): the bin of each tower's |η| centre among ``edges``."""
    centre = np.abs(0.5 * (ETA_EDGES[:-1] + ETA_EDGES[1:]))
    bins: np.ndarray = np.searchsorted(np.asarray(edges, np.float64), centre, side="right").astype(np.int64)
    return bins


def egtau_luts(c: L1SimConfig) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """The e/γ LUTs (η bin per tower, raw-ET edges in hw, shape_ok (η, ET, 128) uint8, scale (η, ET))
    and the τ scales (N_ETA, [unmerged, merged]) of ``c``; without the shape veto every shape passes.

    >>> lut, tau = egtau_luts(L1SimConfig())
    >>> lut[2].shape[2], tau.shape
    (128, (80, 2))
    """
    n_et = len(c.eg_lut_et_edges_gev) + 1
    n_eta = len(c.eg_lut_eta_edges) + 1
    masks = [int(m, 16) if c.eg_shape_veto else (1 << 128) - 1 for m in c.eg_shape_ok]
    ok = np.array([[(m >> s) & 1 for s in range(128)] for m in masks], np.uint8).reshape(n_eta, n_et, 128)
    scale = np.asarray(c.eg_calibration, np.float64).reshape(n_eta, n_et)
    et_edges = np.ceil(np.asarray(c.eg_lut_et_edges_gev, np.float64) / PT_LSB - 1e-9).astype(np.int64)
    tau_bin = _eta_bins(c.tau_calibration_eta_edges)
    tau = np.asarray(c.tau_calibration, np.float64).reshape(2, -1)[:, tau_bin].T.copy()
    return (_eta_bins(c.eg_lut_eta_edges), et_edges, ok, scale), tau


def _geometry(c: L1SimConfig) -> tuple[np.ndarray, ...]:
    cos72, sin72 = _trig_lut(N_PHI, 0.5)  # tower centres
    cos144, sin144 = _trig_lut(144, 0.0)  # uGT calo φ scale, as emulator.algorithms.jet_sums
    return (TOWER_HW_ETA.astype(np.int64), REGION_OF_IETA.astype(np.int64), cos72, sin72, cos144, sin144,
            met_thresholds(c))


def _pool_tuple(p: TowerPool) -> tuple[np.ndarray, ...]:
    return (p.dep_off, p.dep_ieta, p.dep_iphi, p.dep_em, p.dep_had, p.mu_off, p.mu_pt, p.mu_eta,
            p.mu_phi, p.mu_charge, p.mu_prob)


class CrossingEmulator:
    """L1 objects for crossings built from a pileup pool and an optional hard-scatter pool."""

    def __init__(
        self, pileup: TowerPool, hard: TowerPool | None = None, *,
        config: L1SimConfig | None = None, seed: int = 0, muon_boost: MuonBoost | None = None,
    ) -> None:
        self.config = c = config or L1SimConfig()
        self.muon_boost = muon_boost or MuonBoost()
        self._pu = _pool_tuple(pileup)
        self._hs = _pool_tuple(hard if hard is not None else pileup)
        self.has_hard = hard is not None
        self._key = np.uint64(seed & 0xFFFFFFFFFFFFFFFF)
        self._configure(c)

    def _configure(self, c: L1SimConfig) -> None:
        """The kernel's parameter arrays for the object-finding part of ``c``."""
        self.config = c
        self._ipar = np.array([
            c.eg_seed_hw, c.tau_seed_hw, c.jet_seed_hw, c.sum_tower_min_hw,
            math.ceil(c.ht_jet_min_gev / PT_LSB - 1e-9), math.floor(c.ht_jet_eta_max / CALO_ETA_LSB + 1e-9),
            EG_IETA_RANGE[0], EG_IETA_RANGE[1], int(c.jet_pus), c.eg_neighbour_hw,
            min(math.ceil(c.eg_id_pt_max_gev / PT_LSB - 1e-9), 1 << 30), TAU_CLUSTERINGS[c.tau_clustering],
        ], dtype=np.int64)
        self._fpar = np.array([
            c.muon_res_barrel, c.muon_res_overlap, c.muon_res_endcap, c.muon_tail_fraction,
            c.muon_tail_start, c.muon_charge_flip, c.eg_hoe_max, c.eg_iso_loose, c.eg_iso_tight,
            0.0, c.tau_iso_loose, c.tau_iso_tight, c.jet_calibration,  # slot 9 unused: τ scales in egtau_luts
            NormalDist().inv_cdf(c.muon_threshold_efficiency), c.muon_station_efficiency,
            float(np.float32(c.muon_efficiency)),  # a source below the prompt efficiency is a decay in flight
            c.b_field_t, *c.muon_ip_edges_cm,
        ], dtype=np.float64)
        self._geo = _geometry(c)
        self._eg_lut, self._tau_cal = egtau_luts(c)
        self._tau_iso = tau_iso_arrays(c.tau_iso)

    def reconfigured(self, config: L1SimConfig) -> CrossingEmulator:
        """The same pools, seed and boost with another object-finding configuration (the per-pool detector
        response must be the one the pools were computed with: equal ``response_key``)."""
        if config.response_key() != self.config.response_key():
            msg = "reconfigured: the detector response differs; recompute the tower pools with compute_towers"
            raise ConfigError(msg)
        new = copy.copy(self)
        new._configure(config)
        return new

    def emulate(
        self, *, draw_counts: np.ndarray, draw_idx: np.ndarray, draw_rot: np.ndarray,
        draw_flip: np.ndarray, hard_idx: np.ndarray | None = None, first_gid: int = 0,
    ) -> dict[str, np.ndarray]:
        """L1 columns for ``len(draw_counts)`` crossings.

        Crossing ``i`` sums pool events ``draw_idx[off[i]:off[i+1]]`` (``off`` = cumsum
        of ``draw_counts``), each rotated by ``draw_rot`` towers in φ and reflected in η
        where ``draw_flip``; plus hard-scatter event ``hard_idx[i]`` unless it is −1.
        ``first_gid`` numbers the crossings for the in-crossing random draws. The result also
        holds :data:`MUON_WEIGHT` (float64 per crossing, 1 without a :class:`MuonBoost`).
        """
        n = len(draw_counts)
        off = np.zeros(n + 1, np.int64)
        np.cumsum(draw_counts, out=off[1:])
        hs = np.full(n, -1, np.int64) if hard_idx is None else np.asarray(hard_idx, np.int64)
        if not self.has_hard and np.any(hs >= 0):
            msg = "hard-scatter indices given but the emulator has no hard-scatter pool"
            raise ValueError(msg)
        cols = {name: np.zeros((n, *BASE_COLUMNS[name].shape), BASE_COLUMNS[name].dtype) for name in L1_COLUMNS}
        sums = np.zeros((n, len(_SUM_ORDER)), np.int64)
        regions = np.zeros((n, N_REGION_PHI, N_REGION_ETA), np.uint16)
        weight = np.ones(n, np.float64)
        groups = {name: tuple(cols[coll.column(f)] for f in coll.fields) for name, coll in COLLECTIONS.items()}
        emulate_kernel(
            self._key, int(first_gid), off, np.asarray(draw_idx, np.int64), np.asarray(draw_rot, np.int64),
            np.asarray(draw_flip, np.bool_), hs, self._pu, self._hs, self._ipar, self._fpar, self._geo,
            self._eg_lut, self._tau_cal, self._tau_iso, groups["egamma"], groups["tau"], groups["jet"], groups["muon"],
            sums, regions, self.muon_boost.array(), weight,
        )
        for k, name in enumerate(_SUM_ORDER):
            cols[name] = sums[:, k].astype(BASE_COLUMNS[name].dtype)
        cols["regions"] = regions
        cols[MUON_WEIGHT] = weight
        return cols
