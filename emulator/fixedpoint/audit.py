"""The overflow audit: per layer and cast site, how many values wrapped or saturated.

>>> t = Tally()
>>> t.add("dense_1", "result", "SAT", values=64, overflowed=3)
>>> t.add("dense_1", "result", "SAT", values=64, overflowed=1)
>>> rep = t.report(n_events=128)
>>> rep.sites[0].overflowed, rep.by_layer()
(4, {'dense_1': 4})
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = ["OverflowReport", "SiteCount", "Tally"]

_VERB = {"WRAP": "wrapped", "SAT": "saturated", "SAT_SYM": "saturated", "SAT_ZERO": "zeroed"}


@dataclass(frozen=True, slots=True)
class SiteCount:
    """One cast site of one layer: values cast, and how many overflowed (``mode`` says how)."""

    layer: str
    site: str  # input | product | accumulate | result | ...
    mode: str  # overflow mode of the destination type
    values: int
    overflowed: int
    nonfinite: int = 0

    @property
    def verb(self) -> str:
        return _VERB.get(self.mode, "overflowed")

    @property
    def fraction(self) -> float:
        return self.overflowed / self.values if self.values else 0.0


@dataclass(frozen=True, slots=True)
class OverflowReport:
    """Overflow counts of one batch; ``sites`` in layer order."""

    n_events: int
    sites: tuple[SiteCount, ...]
    output: np.ndarray | None = field(default=None, repr=False, compare=False)  # what predict returns

    def by_layer(self) -> dict[str, int]:
        """Overflowed values per layer (all sites)."""
        out: dict[str, int] = {}
        for s in self.sites:
            out[s.layer] = out.get(s.layer, 0) + s.overflowed
        return out

    @property
    def total(self) -> int:
        return sum(s.overflowed for s in self.sites)

    def to_dict(self) -> dict[str, Any]:
        return {"n_events": self.n_events, "sites": [asdict(s) for s in self.sites]}

    def __str__(self) -> str:
        lines = [f"overflow audit on {self.n_events} events"]
        for s in self.sites:
            extra = f", {s.nonfinite} NaN/inf" if s.nonfinite else ""
            lines.append(
                f"  {s.layer:<20} {s.site:<11} {s.overflowed:>10} of {s.values:<10} {s.verb} ({s.mode}){extra}"
            )
        return "\n".join(lines)


@dataclass
class Tally:
    """Accumulates counts over the blocks of one batch (insertion order = layer order)."""

    _counts: dict[tuple[str, str], list[Any]] = field(default_factory=dict)

    def add(self, layer: str, site: str, mode: str, *, values: int, overflowed: int, nonfinite: int = 0) -> None:
        c = self._counts.setdefault((layer, site), [mode, 0, 0, 0])
        c[1] += values
        c[2] += overflowed
        c[3] += nonfinite

    def report(self, n_events: int, output: np.ndarray | None = None) -> OverflowReport:
        sites = tuple(
            SiteCount(layer, site, mode, values, ovf, bad)
            for (layer, site), (mode, values, ovf, bad) in self._counts.items()
        )
        return OverflowReport(n_events, sites, output)
