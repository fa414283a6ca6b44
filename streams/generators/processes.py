"""Physics processes l1emu can generate with Pythia 8, and their settings.

Every process shares :data:`COMMON_SETTINGS` (13.6 TeV pp, particles with
cτ > 10 mm left undecayed as CMS's generator-level "stable" particles, the
comparable definition of REFERENCE §5). Where Pythia has no built-in process for
a benchmark, ``substitution`` says what stands in for it (see docs/physics.md).

>>> get_process("TTbar").name
'ttbar'
>>> len(get_process("qcd").bins) > 3
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from streams.errors import ConfigError

__all__ = ["COMMON_SETTINGS", "PROCESSES", "STITCH_COMPONENTS", "Process", "StitchComponent", "get_process"]

COMMON_SETTINGS: Final = (
    "Print:quiet = on",
    "Next:numberCount = 0",
    "ParticleDecays:limitTau0 = on",
    "ParticleDecays:tau0Max = 10.",
)


@dataclass(frozen=True, slots=True)
class Process:
    """A named Pythia process: its settings, and pT-hat bins when it is stitched."""

    name: str
    description: str
    settings: tuple[str, ...]
    substitution: str = ""
    #: (pTHatMin, pTHatMax) GeV bins generated separately and stitched by σ; −1: open.
    bins: tuple[tuple[float, float], ...] = ()
    #: True for minimum bias: crossings are pileup only, no separate hard scatter.
    pileup_only: bool = False


_BSM: Final = ("Higgs:useBSM = on",)

PROCESSES: Final[dict[str, Process]] = {
    p.name: p
    for p in (
        Process(
            "minbias", "inelastic pp (non-diffractive + diffractive), zero-bias pileup",
            ("SoftQCD:inelastic = on",), pileup_only=True,
        ),
        Process("ttbar", "tt̄ (gg, qq̄ → tt̄), inclusive decays", ("Top:gg2ttbar = on", "Top:qqbar2ttbar = on")),
        Process(
            "zll", "Z/γ* → ee, μμ with m(ℓℓ) > 50 GeV",
            ("WeakSingleBoson:ffbar2gmZ = on", "PhaseSpace:mHatMin = 50.",
             "23:onMode = off", "23:onIfAny = 11 13"),
        ),
        Process(
            "wlnu", "W → eν, μν",
            ("WeakSingleBoson:ffbar2W = on", "24:onMode = off", "24:onIfAny = 11 13"),
        ),
        Process(
            "qcd", "QCD 2 → 2 (HardQCD:all) in p̂T bins, σ-weighted for stitching",
            ("HardQCD:all = on",),
            bins=((15.0, 30.0), (30.0, 50.0), (50.0, 80.0), (80.0, 120.0), (120.0, 170.0),
                  (170.0, 300.0), (300.0, 470.0), (470.0, -1.0)),
        ),
        Process(
            "photon", "prompt photon production (PromptPhoton:all: qg → qγ, qq̄ → gγ, …) in p̂T bins",
            ("PromptPhoton:all = on",),
        ),
        Process(
            "htautau", "gg → H(125) → ττ, inclusive τ decays",
            ("HiggsSM:gg2H = on", "25:onMode = off", "25:onIfMatch = 15 -15"),
        ),
        Process(
            "hh4b", "gg → X(400) → HH → bb̄bb̄ (resonant)",
            (*_BSM, "HiggsBSM:gg2H2 = on", "35:m0 = 400.", "35:mWidth = 1.", "35:onMode = off",
             "35:onIfMatch = 25 25", "25:onMode = off", "25:onIfMatch = 5 -5"),
            substitution="no SM non-resonant gg → HH in Pythia 8: a narrow 400 GeV scalar H2 → HH stands in",
        ),
        Process(
            "a4l", "heavy neutral scalar H2(200) → ZZ → 4ℓ (ℓ = e, μ)",
            (*_BSM, "HiggsBSM:gg2H2 = on", "35:m0 = 200.", "35:onMode = off", "35:onIfMatch = 23 23",
             "23:onMode = off", "23:onIfAny = 11 13"),
            substitution="ADC2021's A(50) → 4ℓ via off-shell Z's: an on-shell 200 GeV H2 → ZZ is used",
        ),
        Process(
            "lq_btau", "scalar leptoquark pairs, m = 200 GeV, LQ → bτ",
            ("LeptoQuark:all = on", "42:m0 = 200.", "42:0:products = 5 -15"),
            substitution="Pythia's LQ (id 42) with its single decay channel rewritten to b τ",
        ),
        Process(
            "h0_tautau", "light neutral scalar, m = 60 GeV (gg → h), h → ττ",
            ("HiggsSM:gg2H = on", "25:m0 = 60.", "25:onMode = off", "25:onIfMatch = 15 -15"),
            substitution="the SM h with its mass set to 60 GeV plays ADC2021's light scalar",
        ),
        Process(
            "hpm_taunu", "charged scalar, m = 60 GeV (ff̄' → H±), H± → τν",
            (*_BSM, "HiggsBSM:ffbar2H+- = on", "37:m0 = 60.", "37:onMode = off", "37:onIfAny = 15"),
        ),
    )
}


def get_process(name: str) -> Process:
    """The process called ``name`` (case-insensitive); ConfigError lists the known ones."""
    try:
        return PROCESSES[name.lower()]
    except KeyError:
        msg = f"unknown process {name!r}; known: {', '.join(PROCESSES)}"
        raise ConfigError(msg) from None


@dataclass(frozen=True, slots=True)
class StitchComponent:
    """A hard pool of a stitched zero-bias sample (see :mod:`streams.generators.stitch`)."""

    process: str
    pthat: tuple[float, float] | None  # p̂T bin (lower edge ≥ p̂T₀); None: the process as a whole
    in_minbias: bool  # True: minimum bias holds this phase space above p̂T₀ (removed from the soft pool)
    #: approximate σ (mb, Pythia 8.3 at 13.6 TeV) — only to size the pool by how often it is drawn;
    #: weights use the σ Pythia reports for the generated pool
    sigma_hint_mb: float = 1e-6

    @property
    def name(self) -> str:
        return self.process if self.pthat is None else f"{self.process}-{self.pthat[0]:g}"


#: Hard components of stitched zero bias above p̂T₀ = 20 GeV: QCD 2 → 2 in p̂T bins (with gg, qq̄ → QQ̄
#: and flavour excitation: the heavy flavour with muons), prompt photons, and W/Z, which minimum bias lacks.
STITCH_COMPONENTS: Final[tuple[StitchComponent, ...]] = (
    *(StitchComponent("qcd", b, True, s) for b, s in (
        ((20.0, 30.0), 0.59), ((30.0, 50.0), 0.147), ((50.0, 80.0), 2.0e-2), ((80.0, 120.0), 2.6e-3),
        ((120.0, 170.0), 4.5e-4), ((170.0, 300.0), 1.3e-4), ((300.0, 470.0), 7e-6), ((470.0, -1.0), 6e-7))),
    StitchComponent("photon", (20.0, -1.0), True, 1.7e-4),
    StitchComponent("wlnu", None, False, 3.2e-5),
    StitchComponent("zll", None, False, 3.1e-6),
)
