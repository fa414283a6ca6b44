"""Per-event results of a chain run kept for studies: seed decisions, weights, gen-level and score columns.

One pass over a source fills a :class:`Sample` (for turn-ons and anomaly studies) and
the total rate of every prescale column (:class:`ColumnRates`) at once.

>>> from emulator.chain import load_chain
>>> from streams.sources import open_source
>>> sample, columns = collect(load_chain("configs/default.yaml"), open_source(None, events=1000), name="zb")
>>> sample.seeds_raw.shape[0], columns["columns"] == ["2p0E34", "1p8E34", "1p6E34", "Emergency"]
(1000, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emulator.chain import ChainConfig
from emulator.errors import ConfigError, StageError
from emulator.menu import Menu, load_menu
from emulator.rates import apply_prescales
from emulator.studies._chain import processed_batches
from streams.event import EventBatch
from streams.sources.base import Source

__all__ = ["STUDY_PREFIXES", "ColumnRates", "Sample", "SampleCollector", "collect"]

#: Per-event columns a sample keeps besides seeds, weight and pileup.
STUDY_PREFIXES: tuple[str, ...] = ("gen_", "score_")


@dataclass(frozen=True, slots=True)
class Sample:
    """Per-event arrays of one sample (N events); ``columns`` holds ``gen_*`` and ``score_*``."""

    name: str
    seed_names: tuple[str, ...]
    seeds_raw: np.ndarray
    weight: np.ndarray
    pileup: np.ndarray
    columns: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.weight.shape[0])

    def passed(self, seed: str) -> np.ndarray:
        """Pre-prescale decisions of ``seed`` (bool, N)."""
        if seed not in self.seed_names:
            msg = f"sample {self.name!r}: no seed {seed!r}"
            raise ConfigError(msg)
        return np.asarray(self.seeds_raw[:, self.seed_names.index(seed)])


class SampleCollector:
    """Gathers a :class:`Sample` from processed batches."""

    def __init__(self, name: str, seed_names: Sequence[str], prefixes: Sequence[str] = STUDY_PREFIXES) -> None:
        self.name = name
        self.seed_names = tuple(seed_names)
        self.prefixes = tuple(prefixes)
        self._parts: dict[str, list[np.ndarray]] = {}

    def update(self, batch: EventBatch) -> None:
        if "seeds_raw" not in batch:
            msg = f"sample {self.name!r}, events {batch.meta.first}..: no 'seeds_raw' (does the chain end in a menu?)"
            raise StageError(msg)
        keep = ["seeds_raw", "weight", "pileup"]
        keep += [c for c in batch if c.startswith(self.prefixes) and batch[c].ndim == 1]
        for c in keep:
            self._parts.setdefault(c, []).append(batch[c])

    def result(self) -> Sample:
        cols = {c: np.concatenate(v) for c, v in self._parts.items()}
        n_seeds = len(self.seed_names)
        return Sample(
            self.name, self.seed_names, cols.pop("seeds_raw", np.zeros((0, n_seeds), bool)),
            cols.pop("weight", np.zeros(0, np.float32)).astype(np.float64),
            cols.pop("pileup", np.zeros(0, np.float32)).astype(np.float64), cols,
        )


class ColumnRates:
    """Total and per-seed rates of every prescale column, counters in event order.

    >>> from emulator.menu import load_menu
    >>> cols = ColumnRates(load_menu("configs/menus/cms2024.yaml"), crossing_rate_khz=28608.8)
    >>> raw = np.ones((4, len(cols.menu.seed_names)), bool)
    >>> cols.update(EventBatch.empty(4).with_columns(seeds_raw=raw, weight=np.ones(4, np.float32)))
    >>> cols.result()["total_rate_khz"][0]
    28608.8
    """

    def __init__(self, menu: Menu, *, crossing_rate_khz: float) -> None:
        self.menu = menu
        self.k = crossing_rate_khz
        self.table = np.stack([menu.prescale_values(c) for c in menu.columns])  # (C, S), fractions included
        self.counters = np.zeros_like(self.table)
        self.seed_w = np.zeros(self.table.shape)
        self.union = np.zeros((len(menu.columns), 2))  # Σw, Σw² of the L1 accept
        self.total_w = 0.0

    def update(self, batch: EventBatch) -> None:
        raw = batch["seeds_raw"]
        w = np.asarray(batch["weight"], np.float64)
        self.total_w += float(w.sum())
        for i in range(len(self.table)):
            fired, self.counters[i] = apply_prescales(raw, self.table[i], self.counters[i])
            l1a = fired.any(axis=1)
            self.seed_w[i] += w @ fired
            self.union[i] += (w[l1a].sum(), (w[l1a] ** 2).sum())

    def result(self) -> dict[str, Any]:
        scale = self.k / self.total_w if self.total_w > 0 else 0.0
        return {
            "columns": list(self.menu.columns), "default_column": self.menu.default_column,
            "total_rate_khz": (self.union[:, 0] * scale).tolist(),
            "total_rate_err_khz": (np.sqrt(self.union[:, 1]) * scale).tolist(),
            "prescales": {n: self.table[:, s].tolist() for s, n in enumerate(self.menu.seed_names)},
            "seeds": {n: (self.seed_w[:, s] * scale).tolist() for s, n in enumerate(self.menu.seed_names)},
        }  # fmt: skip


def collect(chain: ChainConfig, source: Source, *, name: str) -> tuple[Sample, dict[str, Any]]:
    """Run ``chain`` over ``source`` once: the per-event sample and the prescale-column rates."""
    if chain.menu_path is None:
        msg = f"{chain.path}: studies need the chain's 'menu'"
        raise ConfigError(msg)
    menu = load_menu(chain.menu_path)
    sample = SampleCollector(name, menu.seed_names)
    columns = ColumnRates(menu, crossing_rate_khz=chain.lhc.crossing_rate_hz / 1000.0)
    for batch in processed_batches(chain, source):
        sample.update(batch)
        columns.update(batch)
    return sample.result(), columns.result()
