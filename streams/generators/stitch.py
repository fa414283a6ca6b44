"""Stitched zero-bias crossings: soft minimum bias plus importance-sampled hard interactions.

A crossing at ⟨μ⟩ holds Poisson(μ) inelastic interactions. Split the inelastic cross-section
at p̂T₀ (``pthat_min``, the p̂T of an event's hardest interaction): the minimum-bias events
with p̂T < p̂T₀ form the *soft* pool; the phase space above is covered by *hard components* —
QCD 2 → 2 and prompt-photon production in p̂T bins starting at p̂T₀ — each with its own pool
and Pythia cross-section σ_c. Processes minimum bias does not generate (W, Z) are added as
further components. With f_c = σ_c / σ_inel and F = Σ f_c:

* soft interactions  s ~ Poisson(μ · (1 − Σ_{c in minimum bias} f_c)),
* hard interactions  h ~ Poisson(μ · F), each from component c with probability f_c / F,

independent, which is exactly Poisson(μ) minimum bias (+ the additive processes) whenever
the hard components describe minimum bias above p̂T₀ (the standard "minimum bias + p̂T-hat
bins" assumption; the overlap removal is the cut p̂T < p̂T₀ on the soft pool).

Crossings are drawn from a *proposal* that over-samples what is rare, and each carries the
exact likelihood ratio as its weight, so every weighted rate is unbiased:

* h = 0 with probability q₀ = min(P₀, ``max_soft``) (P₀ = e^{−μF}, the natural value),
  else h ≥ 1 from the zero-truncated Poisson(μF);
* each hard interaction from component c with q_c = (1 − d) · f_c / F + d / K (a defensive
  mixture of the natural mix and a uniform one over the K components, d = ``defensive``);

  w = P₀ / q₀  (h = 0)   or   w = (1 − P₀) / (1 − q₀) · Π_j (f_{c_j} / F) / q_{c_j}  (h ≥ 1),

so E_q[w] = 1 and E_q[w · x] = E_natural[x] for any per-crossing quantity x. The defensive
mixture bounds every per-interaction factor by 1 / (1 − d). ``hard_event`` is the pool index
of the crossing's rarest hard interaction (−1: none); rates group crossings by it to measure
how much pool reuse correlates them (:mod:`emulator.rates`).

>>> plan = StitchPlan(sigma_inel_mb=80.0, pthat_min=20.0,
...                   components=(HardComponent("qcd-20", 0.8, 100, 0), HardComponent("wlnu", 8e-5, 50, 100, False)))
>>> d = plan.draw(np.random.default_rng(1), np.full(20000, 60.0))
>>> round(float(d.weight.mean()), 2), int(d.hard_event.max()) < 150
(1.0, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from streams.errors import ConfigError

__all__ = ["DEFENSIVE", "HardComponent", "HardDraws", "StitchPlan", "defensive_mixture"]

DEFENSIVE = 0.5  # share of the uniform mix in the proposal over components
_MAX_HARD = 64  # hard interactions per crossing considered by the truncated-Poisson inversion


@dataclass(frozen=True, slots=True)
class HardComponent:
    """One hard pool: its σ, size, offset among the hard events, and whether minimum bias holds it."""

    name: str
    sigma_mb: float
    events: int
    first: int  # index of its first event among all hard events
    in_minbias: bool = True  # True: part of σ_inel above p̂T₀ (QCD, γ); False: additive (W, Z)

    def __post_init__(self) -> None:
        if not self.sigma_mb > 0 or self.events < 1 or self.first < 0:
            msg = f"hard component {self.name!r}: need sigma > 0, events >= 1, first >= 0"
            raise ConfigError(msg)


@dataclass(frozen=True, slots=True)
class HardDraws:
    """Hard interactions of a range of crossings, and the crossings' weights."""

    counts: np.ndarray  # int64 (n,) hard interactions per crossing
    event: np.ndarray  # int64 (Σ counts,) index among all hard events, crossing by crossing
    weight: np.ndarray  # float64 (n,)
    hard_event: np.ndarray  # int64 (n,) the rarest hard interaction's event, −1 if none


@dataclass(frozen=True, slots=True)
class StitchPlan:
    """The soft/hard split of σ_inel and the proposal the crossings are drawn from."""

    sigma_inel_mb: float
    pthat_min: float
    components: tuple[HardComponent, ...]
    defensive: float = DEFENSIVE
    max_soft: float = 0.5

    def __post_init__(self) -> None:
        if not self.components:
            msg = "a stitched sample needs at least one hard component"
            raise ConfigError(msg)
        if not 0.0 < self.defensive <= 1.0 or not 0.0 < self.max_soft < 1.0:
            msg = f"defensive {self.defensive} must be in (0, 1], max_soft {self.max_soft} in (0, 1)"
            raise ConfigError(msg)
        if self.fraction_in_minbias >= 1.0:
            msg = f"hard components hold {self.fraction_in_minbias:.3g} of sigma_inel = {self.sigma_inel_mb} mb"
            raise ConfigError(msg)

    @property
    def fractions(self) -> np.ndarray:
        """f_c = σ_c / σ_inel per component."""
        return np.array([c.sigma_mb for c in self.components]) / self.sigma_inel_mb

    @property
    def fraction_in_minbias(self) -> float:
        """Σ f_c of the components minimum bias contains (removed from the soft pool)."""
        return float(sum(c.sigma_mb for c in self.components if c.in_minbias) / self.sigma_inel_mb)

    @property
    def proposal(self) -> np.ndarray:
        """q_c: the defensive mixture of f_c / F and the uniform mix."""
        return defensive_mixture(self.fractions, self.defensive)

    @property
    def n_hard_events(self) -> int:
        return max(c.first + c.events for c in self.components)

    def soft_mu(self, mu: np.ndarray) -> np.ndarray:
        """Mean soft interactions per crossing."""
        return np.asarray(mu, np.float64) * (1.0 - self.fraction_in_minbias)

    def draw(self, rng: np.random.Generator, mu: np.ndarray) -> HardDraws:
        """Hard interactions and weights for crossings of pileup ``mu`` (one value per crossing)."""
        lam = np.asarray(mu, np.float64) * float(self.fractions.sum())
        p0 = np.exp(-lam)
        q0 = np.where(p0 < 1.0, np.minimum(p0, self.max_soft), 1.0)
        hard = rng.random(len(lam)) >= q0
        counts = np.zeros(len(lam), np.int64)
        counts[hard] = _truncated_poisson(rng, lam[hard])
        with np.errstate(divide="ignore", invalid="ignore"):
            weight = np.where(hard, (1.0 - p0) / (1.0 - q0), p0 / q0)
        q = self.proposal
        ratio = (self.fractions / self.fractions.sum()) / q
        total = int(counts.sum())
        comp = rng.choice(len(q), size=total, p=q)
        sizes = np.array([c.events for c in self.components], np.int64)
        firsts = np.array([c.first for c in self.components], np.int64)
        event = firsts[comp] + (rng.random(total) * sizes[comp]).astype(np.int64)
        crossing = np.repeat(np.arange(len(lam)), counts)
        weight *= np.exp(np.bincount(crossing, weights=np.log(ratio[comp]), minlength=len(lam)))
        return HardDraws(counts, event, weight, _rarest(crossing, comp, event, self.fractions, len(lam)))

    def describe(self) -> dict[str, Any]:
        """JSON provenance: σ's, fractions, the proposal and the weight formula."""
        return {
            "scheme": "soft minimum bias (pthat < pthat_min) + importance-sampled hard components",
            "weight": "P0/q0 (no hard interaction) or (1-P0)/(1-q0) * prod_j (f_cj/F)/q_cj; P0 = exp(-mu F)",
            "sigma_inel_mb": self.sigma_inel_mb, "pthat_min": self.pthat_min,
            "defensive": self.defensive, "max_soft": self.max_soft,
            "components": [{"name": c.name, "sigma_mb": c.sigma_mb, "events": c.events, "in_minbias": c.in_minbias,
                            "f": float(f), "q": float(q)}
                           for c, f, q in zip(self.components, self.fractions, self.proposal, strict=True)],
        }  # fmt: skip


def defensive_mixture(fractions: np.ndarray, defensive: float) -> np.ndarray:
    """(1 − d) · f_c / F + d / K: how often each of K components is drawn.

    >>> defensive_mixture(np.array([3.0, 1.0]), 0.5).tolist()
    [0.625, 0.375]
    """
    f = np.asarray(fractions, np.float64)
    return np.asarray((1.0 - defensive) * f / f.sum() + defensive / len(f))


def _truncated_poisson(rng: np.random.Generator, lam: np.ndarray) -> np.ndarray:
    """Poisson(λ) conditioned on ≥ 1, by inverting the CDF (exact up to ``_MAX_HARD``)."""
    if len(lam) == 0:
        return np.zeros(0, np.int64)
    p0 = np.exp(-lam)
    u = p0 + rng.random(len(lam)) * (1.0 - p0)  # uniform over the CDF above P(0)
    k = np.ones(len(lam), np.int64)
    pk = lam * p0  # P(1)
    cdf = p0 + pk
    for j in range(2, _MAX_HARD + 1):
        more = u > cdf
        if not more.any():
            break
        k += more
        pk = pk * lam / j
        cdf = cdf + pk
    return k


def _rarest(crossing: np.ndarray, comp: np.ndarray, event: np.ndarray, f: np.ndarray, n: int) -> np.ndarray:
    """Per crossing, the event of its hard interaction with the smallest f_c (−1 if none)."""
    out = np.full(n, -1, np.int64)
    if len(crossing) == 0:
        return out
    order = np.lexsort((-f[comp], crossing))  # by crossing, rarest last
    last = np.flatnonzero(np.diff(crossing[order], append=n)) if len(order) else order
    out[crossing[order][last]] = event[order][last]
    return out
