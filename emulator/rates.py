"""Prescales and trigger rates, accumulated in global-sequence order.

The collector sees every event and feeds :class:`RateAccumulator` in gid order, so
prescale counters — and therefore every count — are the same for any number of
workers and any arrival order. Prescales are 0 (never fires) or ≥ 1 with at most two
decimals, counted as the uGT's fractional prescaler counts them: with ``F = 100 · p``, a
counter advances by 100 per pass and the pass fires when it reaches ``F``, which it then
subtracts. l1emu starts each counter at ``F − 100``, one pass before it fires, so the first
pass fires and an integer ``p`` fires on 0-based passes ``i`` with ``i % p == 0``
(:func:`emulator.menu.prescales.ugt_prescale` is the same counter from the firmware's reset
state 0). The counters are kept as pass counts: after ``k`` passes ``⌊(F − 100 + 100k) / F⌋``
have fired.

Rate of a seed = Σw(fired) / Σw(all) × n_bunches × f_rev; ``rate_raw_khz`` is the same before
prescales (a prescaled seed's expected rate is that / prescale, with the raw rate's relative
error). A rate's error is the cluster-robust √V of :mod:`emulator.rate_reuse` (√Σw² when no
pool event is reused; ``rate_err_iid_khz`` is the naive √Σw² one); each seed also gets the
Kish n_eff, the independent events n_indep, the reuse factor, and ``low_statistics`` lists
seeds resting on < 10 independent events.

>>> import numpy as np
>>> acc = RateAccumulator(["A", "B"], np.array([1, 2]), n_bunches=1, f_rev_hz=1000.0)
>>> raw = np.array([[1, 1], [0, 1], [1, 1], [0, 0]], bool)
>>> fired, l1a = acc.update(raw, np.ones(4), np.full(4, 30.0))
>>> fired[:, 1].tolist(), l1a.tolist()
([True, False, True, False], [True, False, True, False])
>>> acc.result()["seeds"]["A"]["rate_khz"]
0.5
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from emulator._rates_kernel import accumulate
from emulator.errors import StageError
from emulator.rate_reuse import ReuseStats

__all__ = ["DEFAULT_PILEUP_EDGES", "LOW_STATISTICS", "RateAccumulator", "apply_prescales", "format_rate_table",
           "prescale_hundredths", "ugt_counter"]

#: A fired seed whose rate rests on fewer independent events than this is flagged.
LOW_STATISTICS = 10.0

DEFAULT_PILEUP_EDGES: tuple[float, ...] = (0, 20, 40, 50, 60, 70, 80, 100, 140, 200, 1000)


def prescale_hundredths(prescales: np.ndarray, names: Sequence[str] | None = None) -> np.ndarray:
    """``F = 100 · p`` (int64) of prescales that are 0 or ≥ 1 with at most two decimals; others
    raise :class:`StageError` naming the seeds.

    >>> prescale_hundredths(np.array([0, 1, 2.5, 100.01])).tolist()
    [0, 100, 250, 10001]
    """
    p = np.asarray(prescales, np.float64)
    f = np.rint(p * 100.0)
    bad = ~np.isfinite(p) | (p < 0) | ((p > 0) & (p < 1)) | (np.abs(p * 100.0 - f) > 1e-6)
    if bad.any():
        labels = names if names is not None and len(names) == p.size else [f"#{i}" for i in range(p.size)]
        listed = ", ".join(f"{labels[i]}: {p[i]:g}" for i in np.flatnonzero(bad)[:5])
        msg = f"prescales must be 0 or >= 1 with at most two decimals (the uGT's), got {listed}"
        raise StageError(msg)
    return f.astype(np.int64)


def apply_prescales(
    raw: np.ndarray, prescales: np.ndarray, counters: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Prescaled decisions of ``raw`` (bool N×S) and the updated pass counters (int64 S).

    ``counters`` counts each seed's raw passes before this batch (start at 0); here one
    pass came before, so the passes are numbers 1…4 and number 3 fires; with prescale
    2.5 the first pass fires, then every 2.5th on average.

    >>> raw = np.array([[1], [1], [1], [1]], bool)
    >>> fired, c = apply_prescales(raw, np.array([3]), np.array([1]))
    >>> fired[:, 0].tolist(), c.tolist()
    ([False, False, True, False], [5])
    >>> apply_prescales(np.ones((6, 1), bool), np.array([2.5]), np.array([0]))[0][:, 0].tolist()
    [True, False, False, True, False, True]
    """
    raw = np.asarray(raw, bool)
    f = prescale_hundredths(prescales)
    c = np.asarray(counters, np.int64)
    if raw.ndim != 2 or f.shape != (raw.shape[1],) or c.shape != f.shape:
        msg = f"shapes do not match: raw {raw.shape}, prescales {f.shape}, counters {c.shape}"
        raise StageError(msg)
    safe = np.maximum(f, 1)
    fired, _ = ugt_counter(raw, f, (safe - 100 + 100 * c) % safe)  # the uGT counter after c passes
    return fired, c + raw.sum(axis=0, dtype=np.int64)


def ugt_counter(raw: np.ndarray, f: np.ndarray, c0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The uGT's fractional prescaler over decisions ``raw`` (N, S): per seed the counter (hundredths,
    from ``c0``) advances by 100 on each pass, and the pass fires when it reaches ``f`` (hundredths,
    0: never), which it then subtracts. Returns the fired decisions and the counters after the batch."""
    k = np.cumsum(raw, axis=0, dtype=np.int64)  # passes so far, per seed
    safe = np.maximum(f, 1)
    wraps = (c0 + 100 * k) // safe
    before = np.vstack([c0[None, :] // safe, wraps[:-1]]) if len(raw) else wraps
    fired = raw & (wraps > before) & (f > 0)
    total = k[-1] if len(raw) else np.zeros(raw.shape[1], np.int64)
    return fired, np.where(f > 0, (c0 + 100 * total) % safe, c0)


def _plain(p: float) -> int | float:
    """A prescale as the table writes it: 2, 2.5."""
    return int(p) if float(p).is_integer() else float(p)


class RateAccumulator:
    """Per-seed counts, weighted sums, overlaps and pileup profiles of a run."""

    def __init__(
        self,
        seed_names: Sequence[str],
        prescales: np.ndarray,
        *,
        n_bunches: int,
        f_rev_hz: float,
        pileup_edges: Sequence[float] = DEFAULT_PILEUP_EDGES,
    ) -> None:
        self.seed_names = tuple(seed_names)
        self.prescales = np.asarray(prescales, np.float64).copy()
        s = len(self.seed_names)
        if self.prescales.shape != (s,):
            msg = f"need {s} prescales, got {self.prescales.tolist()}"
            raise StageError(msg)
        self._hundredths = prescale_hundredths(self.prescales, self.seed_names)
        self.crossing_rate_khz = n_bunches * f_rev_hz / 1000.0
        self.edges = np.asarray(pileup_edges, np.float64)
        if self.edges.ndim != 1 or len(self.edges) < 2 or (np.diff(self.edges) <= 0).any():
            msg = f"pileup_edges must increase, got {list(pileup_edges)}"
            raise StageError(msg)
        nb = len(self.edges) - 1
        self.counters = np.zeros(s, np.int64)
        self.events = 0
        self.w = np.zeros(3)  # Σw, Σw², and Σw of accepted events
        self.w2_accepted = 0.0
        self.accepted = 0
        self._counts = np.zeros((3, s), np.int64)  # fired, raw, pure (views below)
        self.count, self.count_raw, self.pure = self._counts
        self.seed_w = np.zeros((4, s))  # Σw, Σw² fired; Σw, Σw² pure
        self.overlap = np.zeros((s, s), np.int64)
        self.pu_events = np.zeros(nb, np.int64)
        self._pu_f = np.zeros((2, nb))  # Σw, Σw(accepted) per bin (views below)
        self.pu_w, self.pu_accepted_w = self._pu_f
        self.pu_sum_w = 0.0  # Σ w·pileup over every event, for the sample's mean pileup
        self.pu_total_w = 0.0
        self.pu_seed_w = np.zeros((nb, s))
        self.pu_seed_w2 = np.zeros((nb, s + 1))  # Σw² per bin: seeds, then the total
        self.reuse = ReuseStats(s + 1)  # seeds, then the total (any seed fired)
        self.raw_w = np.zeros((2, s))  # Σw, Σw² before prescales
        self.reuse_raw = ReuseStats(s)

    def update(
        self, raw: np.ndarray, weight: np.ndarray, pileup: np.ndarray, cluster: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Account one batch (events in gid order); returns (fired N×S, l1a N).

        ``cluster`` (the ``hard_event`` column, −1: none) groups crossings sharing a reused pool event.
        One numba pass over the events (:func:`emulator._rates_kernel.accumulate`).
        """
        n, s = raw.shape[0], len(self.seed_names)
        w = np.ascontiguousarray(weight, np.float64)
        if w.shape != (n,) or np.shape(pileup) != (n,):
            msg = f"batch of {n} events: weight {w.shape} and pileup {np.shape(pileup)} must be ({n},)"
            raise StageError(msg)
        if raw.shape != (n, s):
            msg = f"shapes do not match: raw {raw.shape}, prescales {self.prescales.shape}"
            raise StageError(msg)
        if cluster is not None and np.shape(cluster) != (n,):
            msg = f"batch of {n} events: hard_event {np.shape(cluster)} must be ({n},)"
            raise StageError(msg)
        pu = np.asarray(pileup, np.float64)
        b = np.searchsorted(self.edges, pu, side="right") - 1
        b[b >= len(self.pu_events)] = -1
        out = np.empty((n, s + 1), np.bool_)  # fired seeds, then the L1A (any seed)
        accumulate(np.ascontiguousarray(raw), w, b, self._hundredths, self.counters, out[:, :s], out[:, s],
                   self._counts, self.seed_w, self.overlap, self.raw_w, self.pu_events, self._pu_f,
                   self.pu_seed_w, self.pu_seed_w2)  # fmt: skip
        fired, l1a = out[:, :s], out[:, s]
        self.events += n
        self.w += (w.sum(), (w * w).sum(), w[l1a].sum())
        self.w2_accepted += float((w[l1a] ** 2).sum())
        self.accepted += int(l1a.sum())
        self.pu_sum_w += float((w * pu).sum())
        self.pu_total_w += float(w.sum())
        self.reuse.update(out, w, cluster)
        self.reuse_raw.update(raw, w, cluster)
        return fired, l1a

    def _rate(self, sum_w: np.ndarray | float, total: float) -> np.ndarray:
        if total <= 0:
            return np.zeros(np.shape(sum_w))
        return np.asarray(sum_w, np.float64) / total * self.crossing_rate_khz

    def result(self) -> dict[str, Any]:
        """JSON-ready summary (plain Python types), seeds in menu order; rates in kHz."""
        total = float(self.w[0])
        rate = self._rate(self.seed_w[0], total)
        pure_rate = self._rate(self.seed_w[2], total)
        stats = self._statistics(np.append(self.seed_w[0], self.w[2]), np.append(self.seed_w[1], self.w2_accepted),
                                 self.reuse)
        raw_var = np.maximum(self.reuse_raw.variance()[0], self.raw_w[1])
        raw_rate, raw_err = self._rate(self.raw_w[0], total), self._rate(np.sqrt(raw_var), total)
        seeds = {
            name: {
                "count": int(self.count[i]),
                "count_raw": int(self.count_raw[i]),
                "prescale": _plain(self.prescales[i]),
                "rate_khz": float(rate[i]),
                **{k: v[i] for k, v in stats.items()},
                "rate_raw_khz": float(raw_rate[i]),
                "rate_raw_err_khz": float(raw_err[i]),
                "pure_count": int(self.pure[i]),
                "pure_rate_khz": float(pure_rate[i]),
            }
            for i, name in enumerate(self.seed_names)
        }
        low = [n for n, s in seeds.items() if s["count"] > 0 and s["n_indep"] < LOW_STATISTICS]
        return {
            "events": self.events,
            "events_weighted": total,
            "accepted": self.accepted,
            "rejected": self.events - self.accepted,
            "crossing_rate_khz": self.crossing_rate_khz,
            "total_rate_khz": float(self._rate(self.w[2], total)),
            "total_rate_err_khz": stats["rate_err_khz"][-1],
            "total_statistics": {k: v[-1] for k, v in stats.items()},
            "seeds": seeds,
            "low_statistics": low,
            "overlap": {"seeds": list(self.seed_names), "counts": self.overlap.tolist()},
            "pileup": self._pileup_result(),
        }

    def _statistics(self, sum_w: np.ndarray, sum_w2: np.ndarray, clusters: ReuseStats) -> dict[str, list[float]]:
        """Errors and effective event numbers per seed (and the total, last)."""
        total = float(self.w[0])
        var, distinct = clusters.variance()
        var = np.maximum(var, sum_w2)  # equal up to rounding without reuse
        with np.errstate(invalid="ignore", divide="ignore"):
            n_eff = np.where(sum_w2 > 0, sum_w**2 / sum_w2, 0.0)
            n_indep = np.where(var > 0, sum_w**2 / var, 0.0)
            reuse = np.where(sum_w2 > 0, var / sum_w2, 1.0)
        return {
            "rate_err_khz": self._rate(np.sqrt(var), total).tolist(),
            "rate_err_iid_khz": self._rate(np.sqrt(sum_w2), total).tolist(),
            "n_eff": n_eff.tolist(), "n_indep": n_indep.tolist(), "reuse": reuse.tolist(),
            "hard_events": distinct.astype(float).tolist(),
        }  # fmt: skip

    def _pileup_result(self) -> dict[str, Any]:
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(self.pu_w[:, None] > 0, self.pu_seed_w / self.pu_w[:, None], 0.0)
            tot = np.where(self.pu_w > 0, self.pu_accepted_w / self.pu_w, 0.0)
        return {
            "mean": self.pu_sum_w / self.pu_total_w if self.pu_total_w > 0 else 0.0,
            "edges": self.edges.tolist(),
            "events": self.pu_events.tolist(),
            "total_rate_khz": (tot * self.crossing_rate_khz).tolist(),
            "seeds": {
                n: (frac[:, i] * self.crossing_rate_khz).tolist() for i, n in enumerate(self.seed_names)
            },
            "total_rate_err_khz": self._bin_err(self.pu_seed_w2[:, -1]),
            "seeds_err": {n: self._bin_err(self.pu_seed_w2[:, i]) for i, n in enumerate(self.seed_names)},
        }

    def _bin_err(self, w2: np.ndarray) -> list[float]:
        """√Σw² / Σw per pileup bin, in kHz (0 for empty bins)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            e = np.where(self.pu_w > 0, np.sqrt(w2) / self.pu_w, 0.0)
        return list((e * self.crossing_rate_khz).tolist())


def format_rate_table(result: dict[str, Any]) -> str:
    """The rate table of :meth:`RateAccumulator.result` as fixed-width text.

    ``n_indep`` is the number of independent events a rate rests on, ``reuse`` how much pool
    reuse inflates its variance; ``!`` marks seeds with fewer than 10 independent events.

    >>> acc = RateAccumulator(["SingleMu22"], np.array([1]), n_bunches=2544, f_rev_hz=11245.613)
    >>> _ = acc.update(np.array([[True], [False]]), np.ones(2), np.zeros(2))
    >>> print(format_rate_table(acc.result()).splitlines()[2])
    SingleMu22                                           1         1   14304.42 ±  14304.42         1      1.0    1.00 !
    """
    head = (f"{'seed':<45} {'prescale':>8} {'count':>9} {'rate [kHz]':>21} {'pure':>9} {'n_indep':>8} "
            f"{'reuse':>7}")
    lines = [head, "-" * len(head)]
    low = set(result.get("low_statistics", ()))
    for name, s in result["seeds"].items():
        rate = f"{s['rate_khz']:10.2f} ± {s['rate_err_khz']:9.2f}"
        stats = f"{s.get('n_indep', 0.0):8.1f} {s.get('reuse', 1.0):7.2f}{' !' if name in low else ''}"
        lines.append(f"{name:<45} {s['prescale']:>8} {s['count']:>9} {rate:>21} {s['pure_count']:>9} {stats}")
    lines.append("-" * len(head))
    total = f"{result['total_rate_khz']:10.2f} ± {result['total_rate_err_khz']:9.2f}"
    label = f"total ({result['events']} events)"
    lines.append(f"{label:<45} {'':>8} {result['accepted']:>9} {total:>21}")
    if low:
        lines.append(f"! {len(low)} seed(s) rest on fewer than {LOW_STATISTICS:g} independent events: "
                     "their rates are not measured (more crossings or larger hard pools)")
    return "\n".join(lines)
