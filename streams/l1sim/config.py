"""Parameters of the simplified L1 detector emulation (documented in docs/physics.md).

Energies in GeV, thresholds of the object finders in hardware units (0.5 GeV).

>>> c = L1SimConfig()
>>> c.jet_seed_hw, c.eg_seed_hw
(8, 4)
>>> L1SimConfig(jet_seed_hw=0)
Traceback (most recent call last):
...
streams.errors.ConfigError: L1SimConfig.jet_seed_hw = 0: seed thresholds must be >= 1
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from streams.errors import ConfigError
from streams.l1sim._luts import (
    EG_CALIBRATION,
    EG_LUT_ET_EDGES,
    EG_LUT_ETA_EDGES,
    EG_SHAPE_OK,
    TAU_CAL_ETA_EDGES,
    TAU_CALIBRATION,
)
from streams.l1sim._tau_iso import TAU_ISO_MODES

__all__ = ["TAU_CLUSTERINGS", "L1SimConfig"]

#: τ clustering modes -> the kernel's code: "cms", CMS layer 2's clusters (≤ 8 towers) merged with a
#: secondary from one of eight sites, no pileup subtraction (streams/l1sim/_tau_cms.py); "box", 2η×5φ boxes
#: merged within ±2η ±4φ, minus ρ·area (the model before 2026-12-07)
TAU_CLUSTERINGS: dict[str, int] = {"box": 0, "cms": 1}


@dataclass(frozen=True, slots=True)
class L1SimConfig:
    """Detector response (applied once per pool event) and L1 object finding (per crossing)."""

    # -- tracker field: charged particles curl up below pT = 0.15·B·r ------------------
    b_field_t: float = 3.8
    # -- calorimeter response: σ/E = a/√E ⊕ c (calibrated towers, response 1) --------------
    em_stochastic: float = 0.08
    em_constant: float = 0.015
    had_stochastic: float = 1.0
    had_constant: float = 0.05
    # HF (quartz fibres in iron), CMS test beam (Eur. Phys. J. C 53 (2008) 139): pions 280 %/√E ⊕ 11 %,
    # electrons 198 %/√E ⊕ 9 %
    hf_stochastic: float = 2.8
    hf_constant: float = 0.11
    hf_em_stochastic: float = 1.98
    hf_em_constant: float = 0.09
    had_em_fraction_max: float = 0.5  # a hadron leaves U(0, this) of its energy in ECAL
    had_low_loss: float = 0.5  # non-linear hadron response 1 − loss·exp(−E / scale): soft hadrons
    had_low_scale_gev: float = 3.0  # are under-measured (e/π > 1), which tower calibration keeps
    # lateral shower size (Gaussian σ, m) at the calorimeter face; a shower is shared among the
    # 3 × 3 towers around its impact point. e/γ: PbWO4 Molière radius 2.2 cm holds 90 % (σ ≈ R_M / 2.1);
    # hadrons: a pion at the centre of a barrel HCAL tower (15.6 cm wide) leaves ~75-80 % in it
    # (the shower's narrow core; the halo to one interaction length is in the neighbours)
    em_lateral_m: float = 0.010
    had_lateral_m: float = 0.050
    muon_mip_em: float = 0.3  # GeV deposited by a muon in ECAL / HCAL
    muon_mip_had: float = 1.8
    # -- muon system -----------------------------------------------------------------------
    muon_eta_max: float = 2.4
    muon_p_min: float = 5.0  # GeV, momentum needed to cross the iron to the muon stations
    muon_pt_min: float = 3.5  # GeV, and transverse momentum (barrel curl-up in the return field)
    muon_efficiency: float = 0.95
    decays_in_flight: bool = True  # π±/K± → μν before the calorimeter
    # track-finder pT assignment (per crossing), σ(1/pT)/(1/pT) of a track with all four stations; a
    # track with n stations has n − 1 independent station-to-station bends, each limited by multiple
    # scattering in the iron between them, so its core is sqrt(3 / (n − 1)) times wider
    muon_res_barrel: float = 0.12  # BMTF, |η| < 0.83
    muon_res_overlap: float = 0.18  # OMTF, 0.83 … 1.24
    muon_res_endcap: float = 0.22  # EMTF, 1.24 … 2.4
    # each of the four stations delivers a trigger segment with this probability (CMS DT and CSC: over
    # 96 %, JINST 8 (2013) P11002); a track needs two; quality follows the stations as the CMSSW track
    # finders assign it (BMTF: 12 + stations − 1; OMTF: 12, 4 for two stations; EMTF: from the mode)
    muon_station_efficiency: float = 0.96
    # the single-scattering tail of multiple scattering: the Highland width describes the central 98 %
    # of the projected angle (PDG, "Passage of particles through matter"); the other 2 % follow the
    # Rutherford tail dN/dθ ∝ θ⁻³ beyond the edge of that central 98 % (2.326 σ of the core)
    muon_tail_fraction: float = 0.02
    muon_tail_start: float = 2.326
    muon_charge_flip: float = 0.01
    # the track finders scale their pT assignment so that a muon of true pT = threshold passes with
    # this efficiency (CMS BMTF/OMTF/EMTF: 90 %); 0.5 is an unbiased assignment; one scale per track
    # finder, from its four-station core
    muon_threshold_efficiency: float = 0.90
    # the track finders' 2-bit impact parameter (Run-3 BMTF/EMTF displaced-muon assignment): classes of
    # |d_xy| at these edges (cm); l1emu computes d_xy for decays in flight (docs/physics.md §4)
    muon_ip_edges_cm: tuple[float, float, float] = (25.0, 50.0, 75.0)
    # -- object finding (hardware units, 0.5 GeV) ----------------------------------------
    # e/γ as CMS Stage-2 layer 2 builds it (CMSSW L1Trigger/L1TCalorimeter Stage2Layer2Cluster- and
    # EGammaAlgorithmFirmwareImp1, caloParams 2018-2024; JINST 15 (2020) P10017): a seed of ECAL ET
    # >= 2 GeV (egSeedThreshold) that is the maximum of 3 η × 9 φ towers; neighbours join the cluster
    # with ECAL ET >= 1 GeV (egNeighbourThreshold), φ ± 2 only next to an included φ ± 1
    eg_seed_hw: int = 4
    eg_neighbour_hw: int = 2
    eg_hoe_max: float = 0.25  # H/E of the 2 × 3 footprint
    # the cluster-shape veto: a LUT of the shapes (which of the 7 neighbours are in the trimmed cluster)
    # kept per (|η|, raw ET) bin, 99 % efficient for genuine electrons per bin, as CMS's
    # shapeIdentification_adapt0.99 LUT; H/E and shape are not required from 128 GeV (egMaxPtHOverE)
    eg_shape_veto: bool = True
    eg_id_pt_max_gev: float = 128.0
    eg_lut_eta_edges: tuple[float, ...] = EG_LUT_ETA_EDGES  # |η| bins of the shape and calibration LUTs
    eg_lut_et_edges_gev: tuple[float, ...] = EG_LUT_ET_EDGES  # raw-ET bins, GeV
    eg_shape_ok: tuple[str, ...] = EG_SHAPE_OK  # per bin (η-major): 128-bit hex mask of allowed shapes
    # e/γ energy scale per bin (η-major), as CMS's calibration LUT in (η, ET, shape): 1 / median(L1 raw /
    # generator electron pT) (docs/physics.md §4, "e/γ LUTs, measured")
    eg_calibration: tuple[float, ...] = EG_CALIBRATION
    # PU-corrected isolation / raw ET: bit 0 (tight, IsoEG), bit 1 (loose, LooseIsoEG); electrons
    # with L1 ET >= 30 GeV, |η| < 2.1 (W → eν at <mu> = 55): tight keeps 96 %, loose 99 %
    eg_iso_loose: float = 0.30
    eg_iso_tight: float = 0.15
    tau_seed_hw: int = 4
    # τ clusters and merging (TAU_CLUSTERINGS): "cms" as CMSSW Stage2Layer2TauAlgorithmFirmwareImp1 (main
    # seed the maximum of 3η×9φ, neighbours >= eg_neighbour_hw, secondary seeds >= eg_seed_hw at eight sites)
    tau_clustering: str = "cms"
    # τ isolation (streams/l1sim/_tau_iso.py): "rho_relative", ρ-corrected isolation / raw ET against the
    # working points below; "cms_2018_option31", CMS's layer-2 isolation with its 2018 LUT in (|ieta|,
    # footprint ET, nTT), unchanged; "pass", every τ isolated
    tau_iso: str = "rho_relative"
    # the rho_relative working points, defined by their efficiency for genuine τ (as CMS defines its iso
    # LUTs): on gg → H → ττ at <mu> = 55, τ ≥ 34 GeV |η| < 2.1, loose keeps 85 %, tight 77 %
    # (python -m emulator.studies.tau_luts against the visible τ_h; the "box" clustering's were 0.10 and 0.05)
    tau_iso_loose: float = 0.081
    tau_iso_tight: float = 0.037
    # τ energy scale per |η| bin (edges tau_calibration_eta_edges), unmerged clusters then merged ones,
    # as CMS's τ calibration LUT in (ET, η, merged, EM): 1 / median(raw L1 / generator τ pT)
    # (docs/physics.md §4, "τ calibration, measured"); the isolation is compared with the raw ET
    tau_calibration_eta_edges: tuple[float, ...] = TAU_CAL_ETA_EDGES
    tau_calibration: tuple[float, ...] = TAU_CALIBRATION
    jet_seed_hw: int = 8
    jet_calibration: float = 1.0
    jet_pus: bool = True  # chunky-donut pileup subtraction
    sum_tower_min_hw: int = 1  # towers below this do not enter ETT (nor ETM/ETMHF without met_pum)
    # ETM/ETMHF pileup mitigation as CMS layer 2 does it in Run 2 (CMSSW L1Trigger/L1TCalorimeter, LUT
    # lut_towEtThresh_2017v7 of the 2018 calo parameters, made by the LUT script of 2017v6 without its nTT4 cap):
    # a tower with |ieta| >= ieta_min enters the sums if its ET (hw) is above
    # round(area(ieta)^a / (d (1 + exp(-b |ieta|))) * compNTT4^c), minus hf_offset in HF, within [0, max_hw];
    # compNTT4 = towers with ET > 0 in |ieta| <= 4, / 5 (floor), at most 31; towers with |ieta| < ieta_min
    # always enter (the firmware reads LUT row 0 for them).
    met_pum: bool = True
    met_pum_a: float = 1.4
    met_pum_b: float = 0.07
    met_pum_c: float = 2.0
    met_pum_d: float = 100.0
    met_pum_max_hw: int = 12
    met_pum_hf_offset_hw: int = 2
    met_pum_ieta_min: int = 13
    ht_jet_min_gev: float = 30.0
    ht_jet_eta_max: float = 2.4

    def __post_init__(self) -> None:
        if self.eg_neighbour_hw < 0:
            msg = f"L1SimConfig.eg_neighbour_hw = {self.eg_neighbour_hw}: must be >= 0"
            raise ConfigError(msg)
        for name in ("eg_seed_hw", "tau_seed_hw", "jet_seed_hw"):
            if getattr(self, name) < 1:
                msg = f"L1SimConfig.{name} = {getattr(self, name)}: seed thresholds must be >= 1"
                raise ConfigError(msg)
        for name, value in asdict(self).items():
            if isinstance(value, float) and not value >= 0:
                msg = f"L1SimConfig.{name} = {value}: must be a non-negative number"
                raise ConfigError(msg)
        for name in ("muon_station_efficiency", "muon_tail_fraction", "muon_charge_flip"):
            if not getattr(self, name) <= 1.0:
                msg = f"L1SimConfig.{name} = {getattr(self, name)}: a probability must be in [0, 1]"
                raise ConfigError(msg)
        edges = self.muon_ip_edges_cm
        if len(edges) != 3 or list(edges) != sorted(edges) or edges[0] <= 0:
            msg = f"L1SimConfig.muon_ip_edges_cm = {edges}: three positive increasing edges (cm)"
            raise ConfigError(msg)
        if not self.muon_tail_start > 0:
            msg = f"L1SimConfig.muon_tail_start = {self.muon_tail_start}: the tail must start above 0 σ"
            raise ConfigError(msg)
        if not 0.0 < self.muon_threshold_efficiency < 1.0:
            msg = f"L1SimConfig.muon_threshold_efficiency = {self.muon_threshold_efficiency}: must be in (0, 1)"
            raise ConfigError(msg)
        for name in ("met_pum_max_hw", "met_pum_hf_offset_hw", "met_pum_ieta_min"):
            if getattr(self, name) < 0:
                msg = f"L1SimConfig.{name} = {getattr(self, name)}: must be >= 0"
                raise ConfigError(msg)
        if self.met_pum and self.met_pum_d <= 0:
            msg = f"L1SimConfig.met_pum_d = {self.met_pum_d}: must be positive"
            raise ConfigError(msg)
        self._check_luts()
        if self.tau_clustering not in TAU_CLUSTERINGS:
            msg = f"L1SimConfig.tau_clustering = {self.tau_clustering!r}: not one of {sorted(TAU_CLUSTERINGS)}"
            raise ConfigError(msg)
        if self.tau_iso not in TAU_ISO_MODES:
            msg = f"L1SimConfig.tau_iso = {self.tau_iso!r}: not one of {sorted(TAU_ISO_MODES)}"
            raise ConfigError(msg)
        if self.b_field_t <= 0:
            msg = f"L1SimConfig.b_field_t = {self.b_field_t}: the field must be positive"
            raise ConfigError(msg)

    def _check_luts(self) -> None:
        """The e/γ and τ LUTs: increasing edges, one entry per bin, positive scales, 128-bit masks."""
        n_eg = (len(self.eg_lut_eta_edges) + 1) * (len(self.eg_lut_et_edges_gev) + 1)
        n_tau = 2 * (len(self.tau_calibration_eta_edges) + 1)
        for name in ("eg_lut_eta_edges", "eg_lut_et_edges_gev", "tau_calibration_eta_edges"):
            edges = getattr(self, name)
            if list(edges) != sorted(edges) or len(set(edges)) != len(edges) or any(e <= 0 for e in edges):
                msg = f"L1SimConfig.{name} = {edges}: edges must be positive and increasing"
                raise ConfigError(msg)
        for name, n in (("eg_calibration", n_eg), ("eg_shape_ok", n_eg), ("tau_calibration", n_tau)):
            if len(getattr(self, name)) != n:
                msg = f"L1SimConfig.{name} has {len(getattr(self, name))} entries, the bins need {n}"
                raise ConfigError(msg)
        for name in ("eg_calibration", "tau_calibration"):
            if not all(0.0 < v < 4.0 for v in getattr(self, name)):
                msg = f"L1SimConfig.{name} = {getattr(self, name)}: scales must be in (0, 4)"
                raise ConfigError(msg)
        for mask in self.eg_shape_ok:
            try:
                ok = 0 <= int(mask, 16) < 1 << 128
            except ValueError:
                ok = False
            if not ok:
                msg = f"L1SimConfig.eg_shape_ok: {mask!r} is not a 128-bit hexadecimal mask"
                raise ConfigError(msg)

    def response_key(self) -> str:
        """Hash of the fields that change the per-pool-event detector response."""
        fields = {k: v for k, v in asdict(self).items()
                  if not k.startswith(("eg_", "tau_", "jet_", "sum_", "ht_", "muon_res", "muon_tail",
                                       "muon_station", "muon_charge", "muon_threshold", "muon_ip", "met_"))}
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]
