"""Rate against threshold for menu seeds, in one pass over the events.

For every event and scanned seed the *critical value* — the largest hardware
threshold at which the seed still passes — is computed once
(:mod:`emulator.studies._critical`); the rate at every threshold is then a cumulative
sum over events sorted by critical value. Post-prescale rates replay the menu's
prescale counters in event order at every threshold at once, so at the menu's own
threshold the scan reproduces the replay's ``count`` and ``count_raw`` exactly.

>>> from emulator.chain import load_chain
>>> from streams.sources import open_source
>>> chain = load_chain("configs/default.yaml")
>>> res = scan_thresholds(chain, open_source(None, events=2000, mu=60), [("L1_SingleJet180", "pt")],
...                       parse_range("100:200:50"))
>>> s = res["scans"][0]
>>> s["thresholds"], s["rate_khz"][0] >= s["rate_khz"][-1], s["check"]["mismatches"]
([100.0, 150.0, 200.0], True, 0)
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from emulator.chain import ChainConfig
from emulator.errors import ConfigError, StageError
from emulator.executor import BatchPasses
from emulator.menu import BatchEvaluator, Menu, load_menu
from emulator.menu.hardware import HwObjects, HwScore, HwSum
from emulator.rates import apply_prescales
from emulator.studies._chain import processed_batches
from emulator.studies._critical import critical_objects, critical_score, critical_sum
from emulator.studies._targets import ScanTarget, hw_thresholds, resolve_target
from streams.event import EventBatch
from streams.sources.base import Source

__all__ = [
    "ScanExtract",
    "ScanTarget",
    "ThresholdScan",
    "critical_values",
    "curve_inputs",
    "parse_range",
    "resolve_target",
    "scan_thresholds",
    "threshold_for_rate",
]

log = logging.getLogger(__name__)


def parse_range(text: str) -> np.ndarray:
    """``"LO:HI:STEP"`` -> thresholds LO, LO+STEP, …, up to HI inclusive.

    >>> parse_range("10:30:5").tolist()
    [10.0, 15.0, 20.0, 25.0, 30.0]
    """
    parts = text.split(":")
    try:
        lo, hi, step = (float(p) for p in parts)
    except ValueError:
        msg = f"--range {text!r}: expected LO:HI:STEP, three numbers"
        raise ConfigError(msg) from None
    if not (math.isfinite(lo) and math.isfinite(hi) and step > 0 and hi >= lo >= 0):
        msg = f"--range {text!r}: need 0 <= LO <= HI and STEP > 0"
        raise ConfigError(msg)
    n = math.floor((hi - lo) / step + 1e-9) + 1
    if n > 10_000:
        msg = f"--range {text!r}: {n} thresholds, at most 10000"
        raise ConfigError(msg)
    return np.round(lo + step * np.arange(n), 9)


def critical_values(menu: Menu, target: ScanTarget, batch: EventBatch) -> np.ndarray:
    """Per event: the largest hardware threshold at which ``target``'s seed passes (float64; -inf: never)."""
    seed = menu.hw_seeds[target.index]
    scanned = dict(target.scanned)
    ev = BatchEvaluator(batch)
    c = np.full(len(batch), np.inf)
    for j, cond in enumerate(seed.conditions):
        try:
            if j not in scanned:
                c = np.where(ev.condition(cond), c, -np.inf)
            elif isinstance(cond, HwObjects):
                c = np.minimum(c, critical_objects(batch, cond, scanned[j]))
            elif isinstance(cond, HwSum):
                c = np.minimum(c, critical_sum(batch, cond))
            else:
                assert isinstance(cond, HwScore)
                c = np.minimum(c, critical_score(batch, cond))
        except StageError as exc:
            msg = f"scan of seed {target.seed!r} condition {j}: {exc}"
            raise StageError(msg) from exc
    return c


def curve_inputs(menu: Menu, t: ScanTarget, batch: EventBatch) -> tuple[np.ndarray, np.ndarray | None,
                                                                         np.ndarray | None]:
    """What a curve needs of one batch: critical values, the score dtype (an empty array), the menu's decision."""
    column = _score_column(menu, t)
    check = np.asarray(batch["seeds_raw"][:, t.index]) if "seeds_raw" in batch else None
    return critical_values(menu, t, batch), batch[column][:0] if column else None, check


@dataclass(frozen=True, slots=True)
class ScanExtract:
    """What a distributed scan keeps of each processed batch: per target, ``curve_inputs``."""

    menu: Menu
    targets: tuple[ScanTarget, ...]

    def __call__(self, batch: EventBatch) -> dict[str, np.ndarray]:
        out = {"weight": np.asarray(batch["weight"], np.float64)}
        for k, t in enumerate(self.targets):
            c, score, check = curve_inputs(self.menu, t, batch)
            out[f"c{k}"] = c
            if score is not None:
                out[f"score{k}"] = score
            if check is not None:
                out[f"check{k}"] = check
        return out


class _SeedCurve:
    """Weighted sums of one target at K thresholds plus the menu's own (last column)."""

    def __init__(self, menu: Menu, target: ScanTarget, thresholds: np.ndarray) -> None:
        self.menu = menu
        self.target = target
        self.values = np.append(np.asarray(thresholds, np.float64), target.menu_threshold)
        self.hw: np.ndarray | None = None
        k = len(self.values)
        self.raw = np.zeros((3, k))  # Σw, Σw², N before prescales
        self.post = np.zeros((3, k))
        self.counters = np.zeros(k, np.int64)
        self.checked = 0
        self.mismatches = 0

    def update(self, menu: Menu, batch: EventBatch, w: np.ndarray) -> None:
        self.add(*curve_inputs(menu, self.target, batch), w)

    def add(self, c: np.ndarray, score: np.ndarray | None, check: np.ndarray | None, w: np.ndarray) -> None:
        """One batch's critical values ``c``, an (empty) array of the score column's dtype, the
        menu's own decision (``seeds_raw`` of this seed) when the batch had it, the weights."""
        t = self.target
        if self.hw is None:
            self.hw = hw_thresholds(self.menu, t, self.values, score_dtype=score.dtype if score is not None else None)
        # before prescales: events sorted by critical value, cumulative sums read at every threshold
        order = np.argsort(-c, kind="stable")
        ws = w[order]
        cum = np.vstack([np.cumsum(ws), np.cumsum(ws * ws), np.arange(1, len(ws) + 1)])
        n_pass = np.searchsorted(-c[order], -self.hw, side="right")  # events with c >= h
        self.raw += np.where(n_pass > 0, cum[:, np.maximum(n_pass - 1, 0)], 0.0)
        if t.prescale != 1:  # after prescales: the counters of every threshold, in event order
            passed = c[:, None] >= self.hw[None, :]
            fired, self.counters = apply_prescales(passed, np.full(len(self.hw), t.prescale), self.counters)
            self.post += np.vstack([w @ fired, (w * w) @ fired, fired.sum(axis=0)])
        if check is not None:
            self.checked += len(check)
            self.mismatches += int(((c >= self.hw[-1]) != check).sum())

    def result(self, total_w: float, k_khz: float) -> dict[str, Any]:
        t = self.target
        scale = k_khz / total_w if total_w > 0 else 0.0
        hw = self.hw if self.hw is not None else np.full(len(self.values), np.nan)

        def curve(sums: np.ndarray, sl: slice | int) -> dict[str, Any]:
            return {"rate_khz": (sums[0, sl] * scale).tolist(), "rate_err_khz": (np.sqrt(sums[1, sl]) * scale).tolist(),
                    "count": np.asarray(sums[2, sl]).astype(np.int64).tolist()}  # fmt: skip

        post = self.raw if t.prescale == 1 else self.post
        body, raw = curve(post, slice(0, -1)), curve(self.raw, slice(0, -1))
        menu_post, menu_raw = curve(post, -1), curve(self.raw, -1)
        return {
            "seed": t.seed, "param": t.param, "kind": t.kind, "unit": t.unit, "cut": t.describe(),
            "prescale": t.prescale, "thresholds": self.values[:-1].tolist(), "hw_thresholds": hw[:-1].tolist(),
            **body, "rate_raw_khz": raw["rate_khz"], "rate_raw_err_khz": raw["rate_err_khz"], "count_raw": raw["count"],
            "menu": {"threshold": t.menu_threshold, "hw_threshold": float(hw[-1]), **menu_post,
                     "rate_raw_khz": menu_raw["rate_khz"], "count_raw": menu_raw["count"]},
            "check": {"events": self.checked, "mismatches": self.mismatches},
        }  # fmt: skip


def _score_column(menu: Menu, t: ScanTarget) -> str | None:
    if t.kind != "score":
        return None
    cond = menu.hw_seeds[t.index].conditions[t.scanned[0][0]]
    assert isinstance(cond, HwScore)
    return cond.column


class ThresholdScan:
    """Accumulates rate-vs-threshold curves of several seeds over batches in event order.

    Post-prescale counts use each seed's prescale of ``column`` with counters carried
    across batches, as the collector does; ``rate_raw_khz`` is before prescales.
    """

    def __init__(
        self, menu: Menu, targets: Sequence[ScanTarget], thresholds: np.ndarray, *, crossing_rate_khz: float,
        column: str | None = None,
    ) -> None:  # fmt: skip
        self.menu = menu
        self.column = column or menu.default_column
        self.targets = tuple(targets)
        self.curves = [_SeedCurve(menu, t, thresholds) for t in targets]
        self.crossing_rate_khz = crossing_rate_khz
        self.events = 0
        self.total_w = 0.0

    def update(self, batch: EventBatch) -> None:
        w = np.asarray(batch["weight"], np.float64)
        self.events += len(batch)
        self.total_w += float(w.sum())
        for curve in self.curves:
            curve.update(self.menu, batch, w)

    def update_extract(self, cols: dict[str, np.ndarray]) -> None:
        """One batch as :class:`ScanExtract` kept it (batches in event order, as :meth:`update`)."""
        w = cols["weight"]
        self.events += len(w)
        self.total_w += float(w.sum())
        for k, curve in enumerate(self.curves):
            curve.add(cols[f"c{k}"], cols.get(f"score{k}"), cols.get(f"check{k}"), w)

    def result(self) -> dict[str, Any]:
        """JSON-ready curves (see ``docs/studies.md``)."""
        scans = [c.result(self.total_w, self.crossing_rate_khz) for c in self.curves]
        for s in scans:
            if s["check"]["mismatches"]:
                log.warning("scan of %s: %d events disagree with the menu at its own threshold",
                            s["seed"], s["check"]["mismatches"])  # fmt: skip
        return {"menu": self.menu.name, "prescale_column": self.column, "events": self.events,
                "events_weighted": self.total_w, "crossing_rate_khz": self.crossing_rate_khz,
                "scans": scans}  # fmt: skip


def threshold_for_rate(scan: Mapping[str, Any], target_khz: float, *, raw: bool = False) -> dict[str, Any]:
    """The lowest scanned threshold whose rate is at most ``target_khz`` (None if none is).

    >>> threshold_for_rate({"thresholds": [10, 20, 30], "rate_khz": [9.0, 4.0, 1.0],
    ...                     "rate_err_khz": [1, 1, 1]}, 5.0)["threshold"]
    20
    """
    rates = scan["rate_raw_khz" if raw else "rate_khz"]
    errs = scan["rate_raw_err_khz" if raw else "rate_err_khz"]
    for k, r in enumerate(rates):
        if r <= target_khz:
            return {"target_khz": target_khz, "threshold": scan["thresholds"][k], "rate_khz": r,
                    "rate_err_khz": errs[k], "prescaled": not raw}  # fmt: skip
    return {"target_khz": target_khz, "threshold": None, "rate_khz": None, "rate_err_khz": None, "prescaled": not raw}


def scan_thresholds(
    chain: ChainConfig, source: Source, requests: Sequence[tuple[str, str]], thresholds: np.ndarray, *,
    column: str | None = None, target_khz: float | None = None, passes: BatchPasses | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Run the chain over ``source`` once and scan every ``(seed, param)`` in ``requests``.

    With ``passes`` (e.g. :class:`emulator.distributed.DaskPasses`) the chain and the critical values
    run where they say; the curves are accumulated here in event order, so the result is the same.
    """
    if chain.menu_path is None:
        msg = f"{chain.path}: a scan needs the chain's 'menu'"
        raise ConfigError(msg)
    menu = load_menu(chain.menu_path)
    targets = [resolve_target(menu, seed, param, column=column) for seed, param in requests]
    scan = ThresholdScan(menu, targets, thresholds, crossing_rate_khz=chain.lhc.crossing_rate_hz / 1000.0,
                         column=column)  # fmt: skip
    if passes is not None:
        for cols in passes.map(chain, ScanExtract(menu, scan.targets)):
            scan.update_extract(cols)
    else:
        for batch in processed_batches(chain, source):
            scan.update(batch)
    out = scan.result()
    out["source"] = source.name
    out["config"] = chain.path
    if target_khz is not None:
        for s in out["scans"]:
            s["target"] = threshold_for_rate(s, target_khz)
    return out
