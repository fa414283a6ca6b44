"""Measured look-up tables of the e/γ and τ layer-2 model (defaults of :class:`L1SimConfig`).

How each table was measured (sample, command, seed) is in docs/physics.md §4; the tables are fitted
to distributions of genuine electrons and τ, never to a rate.
"""

from __future__ import annotations

from typing import Final

__all__ = ["EG_CALIBRATION", "EG_LUT_ETA_EDGES", "EG_LUT_ET_EDGES", "EG_SHAPE_OK", "TAU_CALIBRATION",
           "TAU_CAL_ETA_EDGES"]

ALL_SHAPES: Final = "f" * 32  # 128-bit mask: every shape allowed

#: |η| edges of the e/γ shape and calibration LUT bins (barrel | endcap).
EG_LUT_ETA_EDGES: Final[tuple[float, ...]] = (1.479,)
#: raw-ET edges (GeV) of the e/γ LUT bins.
EG_LUT_ET_EDGES: Final[tuple[float, ...]] = (15.0, 25.0, 40.0)
#: allowed shapes per (|η|, ET) bin, η-major: bit s of the mask allows shape s (eg_cluster's code).
#: Per bin, the most frequent shapes of genuine electrons up to 99 % of them (CMS's "adapt0.99" shape
#: LUT), bins with fewer than 400 electrons widened to the neighbouring ET bins; from
#: ``l1emu generate --process wlnu --pileup 55 --events 20000 --seed 11`` (5 985 electrons with
#: generator pT > 10 GeV and 0.6 < L1/generator < 1.4). Held out (derived on one half of the events,
#: measured on the other): 98.0 % efficient.
EG_SHAPE_OK: Final[tuple[str, ...]] = (
    "000000000004000400000022217737ff", "000000000000000400000022217737ff",
    "00000000000000040000000200577fff", "00000000004400040000000204f7f7ff",
    "000000000000000400002022507ff7ff", "000000000000000400002022c07f77ff",
    "000000000044804c0000202262f7ffff", "00000000004000040080202262ffffff",
)
#: e/γ energy scale per (|η|, ET) bin, η-major: 1 / median(raw L1 / generator electron pT) on the
#: same sample (responses 0.99-1.01: the towers are calibrated and the dynamic cluster holds the
#: shower; CMS's LUT corrects the ECAL losses and brems that l1emu does not model).
EG_CALIBRATION: Final[tuple[float, ...]] = (1.011, 0.999, 0.998, 0.992, 1.010, 0.992, 0.991, 0.988)
#: |η| edges of the τ calibration bins.
TAU_CAL_ETA_EDGES: Final[tuple[float, ...]] = (1.479,)
#: τ energy scale per |η| bin for unmerged clusters, then per |η| bin for merged ones: 1 / median(raw
#: L1 τ / ``gen_tau_pt``) for the leading L1 τ on ``l1emu generate --process htautau --pileup 55
#: --events 20000 --seed 11`` (visible τ_h > 20 GeV, 0.4 < L1 / generator < 1.6), measured by
#: ``python -m emulator.studies.tau_luts`` on CMS's τ clusters (tau_clustering "cms", no pileup
#: subtraction: the scale absorbs the average pileup, as CMS's LUT does): responses 0.983, 0.988
#: (unmerged, 6 031 and 3 046 τ), 1.028, 1.036 (merged, 958 and 343), as CMS's τ LUT in (ET, η,
#: merged, EM). Against the old proxy of gen_tau_pt (the leading central jet) they were 1.097, 1.100,
#: 1.182, 1.222; the 2×5 box model had 1.116, 1.117, 1.160, 1.153.
TAU_CALIBRATION: Final[tuple[float, ...]] = (1.017, 1.013, 0.973, 0.965)
