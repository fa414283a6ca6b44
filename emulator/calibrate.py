"""Operating points of score seeds: thresholds for target rates on zero bias, with errors.

For a target rate R (kHz) the allowed pass fraction is ``f = R / (n_bunches · f_rev)``. With
the zero-bias scores sorted high to low, the threshold lies between the scores of rank
``k`` (the last allowed, ``k = ⌊f·N⌋`` in weight) and ``k + 1`` (midway, so the seed's
``score ≥ min`` passes exactly k events here). The statistical uncertainty of the
threshold comes from the binomial error on the count, ``σ_k = √(k(1 − f))``, mapped
through the score distribution: the scores at ranks ``k ∓ σ_k`` bound it.

>>> import numpy as np
>>> s = np.arange(1000, dtype=np.float64)
>>> op = operating_point(s, np.ones(1000), "AXO_T", 10.0, crossing_rate_khz=1000.0)
>>> op.threshold, op.n_pass, round(op.rate_khz, 3)
(989.5, 10, 10.0)
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from emulator.chain import ChainConfig
from emulator.distributed.tasks import ColumnsExtract
from emulator.errors import StageError
from emulator.executor import BatchPasses
from emulator.pipeline import Pipeline
from streams.errors import ConfigError
from streams.event import EventBatch

__all__ = [
    "BLOCK_BEGIN",
    "BLOCK_END",
    "DEFAULT_SCORE_SEEDS",
    "DEFAULT_TARGETS_KHZ",
    "OperatingPoint",
    "calibrate",
    "chain_scores",
    "efficiency",
    "menu_block",
    "operating_point",
    "parse_targets",
    "signal_figures",
    "write_menu_block",
]

#: Seed-name prefix → score column.
DEFAULT_SCORE_SEEDS: dict[str, str] = {"L1_AXO": "score_axol1tl", "L1_CICADA": "score_cicada"}
DEFAULT_TARGETS_KHZ: dict[str, float] = {"VLoose": 20.0, "Loose": 10.0, "Medium": 5.0, "Tight": 2.0, "VTight": 1.0}


@dataclass(frozen=True, slots=True)
class OperatingPoint:
    """A calibrated threshold and what it does on the calibration sample."""

    seed: str
    column: str
    target_khz: float
    threshold: float
    threshold_err: float  # half-width of the ±1σ (binomial) band
    threshold_lo: float
    threshold_hi: float
    n_pass: int
    rate_khz: float
    rate_err_khz: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_targets(text: str) -> dict[str, float]:
    """``"VLoose=20,Loose=10"`` → ``{"VLoose": 20.0, "Loose": 10.0}`` (kHz).

    >>> parse_targets("VLoose=20, Tight=2.5")
    {'VLoose': 20.0, 'Tight': 2.5}
    """
    out: dict[str, float] = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        name, sep, value = item.partition("=")
        try:
            rate = float(value)
        except ValueError:
            rate = -1.0
        if not sep or not name.strip() or not rate > 0:
            msg = f"--targets: {item!r} is not NAME=RATE_KHZ with a positive rate"
            raise ConfigError(msg)
        out[name.strip()] = rate
    if not out:
        msg = f"--targets: no operating points in {text!r}"
        raise ConfigError(msg)
    return out


def _sorted_desc(scores: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, np.float64)
    w = np.asarray(weights, np.float64)
    if s.shape != w.shape or s.ndim != 1:
        msg = f"scores {s.shape} and weights {w.shape} must be equal 1-d shapes"
        raise StageError(msg)
    s = np.where(np.isnan(s), -np.inf, s)
    order = np.argsort(-s, kind="stable")
    return s[order], np.cumsum(w[order])


def _cut_between(s: np.ndarray, k: int) -> float:
    """A threshold passing exactly the ``k`` highest scores (midway to the next lower distinct one)."""
    n = len(s)
    if k <= 0:
        return float(np.nextafter(s[0], np.inf)) if n else math.inf
    if k >= n:
        return float(s[-1])
    hi, lo = s[k - 1], s[k]
    if lo == -np.inf:  # only NaN scores (sorted as −inf) below: they never pass
        return float(hi)
    if hi == lo:  # a tie straddles the cut: pass nothing of it
        above = s[:k][s[:k] > hi]
        return float(np.nextafter(hi, np.inf)) if above.size == 0 else float(0.5 * (above[-1] + hi))
    return float(0.5 * (hi + lo))


def operating_point(scores: np.ndarray, weights: np.ndarray, seed: str, target_khz: float, *,
                    crossing_rate_khz: float, column: str = "") -> OperatingPoint:
    """The lowest threshold whose zero-bias rate is at most ``target_khz``, with its error."""
    s, cum = _sorted_desc(scores, weights)
    total = float(cum[-1]) if len(cum) else 0.0
    if total <= 0:
        msg = f"{seed}: no zero-bias events to calibrate on"
        raise StageError(msg)
    frac = target_khz / crossing_rate_khz
    allowed = frac * total
    k = int(np.searchsorted(cum, allowed * (1 + 1e-12), side="right"))
    sigma = math.sqrt(max(k, 1) * max(1.0 - frac, 0.0))
    t = _cut_between(s, k)
    t_hi = _cut_between(s, max(0, math.floor(k - sigma)))
    t_lo = _cut_between(s, min(len(s), math.ceil(k + sigma)))
    passed = s >= t
    w_pass = float(cum[int(passed.sum()) - 1]) if passed.any() else 0.0
    w_all = np.diff(np.concatenate([[0.0], cum]))
    err = math.sqrt(float(np.sum(w_all[passed] ** 2)))
    return OperatingPoint(
        seed=seed, column=column, target_khz=target_khz, threshold=t,
        threshold_err=0.5 * (t_hi - t_lo) if math.isfinite(t_hi - t_lo) else math.inf,
        threshold_lo=t_lo, threshold_hi=t_hi, n_pass=int(passed.sum()),
        rate_khz=w_pass / total * crossing_rate_khz, rate_err_khz=err / total * crossing_rate_khz,
    )  # fmt: skip


def efficiency(scores: np.ndarray, weights: np.ndarray, threshold: float) -> tuple[float, float]:
    """Weighted fraction of events with ``score ≥ threshold`` and its binomial error."""
    s = np.nan_to_num(np.asarray(scores, np.float64), nan=-np.inf)
    w = np.asarray(weights, np.float64)
    total = float(w.sum())
    if total <= 0:
        return math.nan, math.nan
    eff = float(w[s >= threshold].sum()) / total
    n_eff = total**2 / float((w**2).sum())
    return eff, math.sqrt(max(eff * (1 - eff), 0.0) / n_eff)


def chain_scores(chain: ChainConfig, batches: Iterator[EventBatch] | None, columns: Sequence[str], *,
                 passes: BatchPasses | None = None) -> dict[str, np.ndarray]:
    """Run the chain (without the menu) and collect ``columns`` and the event weights.

    With ``passes`` (e.g. :class:`emulator.distributed.DaskPasses`) the chain runs where they
    say, over their source (``batches`` is then not read); the columns come back in event order.
    """
    extract = ColumnsExtract((*columns, "weight"), where=str(chain.path))
    if passes is not None:
        outs: Iterator[dict[str, np.ndarray]] = passes.map(chain, extract, skip_types={"menu"})
    elif batches is not None:
        outs = (extract(out) for out in Pipeline.from_chain(chain, skip_types={"menu"}).run_batches(batches))
    else:
        msg = "chain_scores needs batches or passes"
        raise ConfigError(msg)
    parts: dict[str, list[np.ndarray]] = {c: [] for c in extract.columns}
    for cols in outs:
        for c in parts:
            parts[c].append(cols[c])
    if not parts["weight"]:
        msg = "the calibration source has no events"
        raise ConfigError(msg)
    return {c: np.concatenate(v) for c, v in parts.items()}


def calibrate(scores: Mapping[str, np.ndarray], weights: np.ndarray, targets_khz: Mapping[str, float], *,
              crossing_rate_khz: float, seeds: Mapping[str, str] | None = None) -> list[OperatingPoint]:
    """Operating points ``<PREFIX>_<name>`` for every seed prefix and target."""
    ops = []
    for prefix, column in (seeds or DEFAULT_SCORE_SEEDS).items():
        for name, rate in targets_khz.items():
            ops.append(operating_point(scores[column], weights, f"{prefix}_{name}", rate,
                                       crossing_rate_khz=crossing_rate_khz, column=column))  # fmt: skip
    return ops


BLOCK_BEGIN = "  # >>> l1emu calibrate: anomaly seeds (generated; `l1emu calibrate` rewrites this block) >>>"
BLOCK_END = "  # <<< l1emu calibrate <<<"


def menu_block(ops: Sequence[OperatingPoint], provenance: str) -> str:
    """The generated YAML seeds (an indented list fragment, between the block markers)."""
    lines = [BLOCK_BEGIN, f"  # {provenance}",
             "  # min = threshold; ± its statistical error (binomial error on the zero-bias count)"]  # fmt: skip
    for op in ops:
        lines += [
            f"  - name: {op.seed}",
            "    conditions:",
            (f"      - {{score: {op.column}, min: {op.threshold:.6g}}}"
            f"  # ± {op.threshold_err:.3g}; target {op.target_khz:g} kHz, calibrated "
            f"{op.rate_khz:.2f} ± {op.rate_err_khz:.2f} kHz"),
        ]
    lines.append(BLOCK_END)
    return "\n".join(lines) + "\n"


def write_menu_block(text: str, block: str) -> str:
    """Menu YAML ``text`` with the generated block replaced, or inserted at the end of ``seeds``.

    Everything outside the block (comments included) is kept. The block goes before a
    ``# -- zero bias`` section comment when there is one, else at the end of the file
    (``seeds`` must then be the last top-level key).
    """
    lines = text.splitlines(keepends=True)
    begin = next((i for i, ln in enumerate(lines) if ln.rstrip("\n") == BLOCK_BEGIN), None)
    if begin is not None:
        end = next((i for i in range(begin, len(lines)) if lines[i].rstrip("\n") == BLOCK_END), None)
        if end is None:
            msg = f"menu: generated block opened at line {begin + 1} is never closed ({BLOCK_END.strip()!r})"
            raise ConfigError(msg)
        return "".join([*lines[:begin], block, *lines[end + 1 :]])
    anchor = next((i for i, ln in enumerate(lines) if ln.strip().lower().startswith("# -- zero bias")), None)
    if anchor is not None:
        return "".join([*lines[:anchor], block, "\n", *lines[anchor:]])
    last_top = max((i for i, ln in enumerate(lines) if ln[:1].isalpha()), default=-1)
    if last_top < 0 or not lines[last_top].startswith("seeds:"):
        msg = "menu: cannot place the generated seeds (no '# -- zero bias' comment and 'seeds' is not last)"
        raise ConfigError(msg)
    tail = "" if text.endswith("\n") else "\n"
    return text + tail + "\n" + block


def signal_figures(ops: Sequence[OperatingPoint], zb: Mapping[str, np.ndarray],
                   signals: Mapping[str, Mapping[str, np.ndarray]], *, crossing_rate_khz: float,
                   fpr: float = 1e-5) -> dict[str, Any]:
    """Per signal and score: efficiency at each operating point and at a zero-bias FPR of ``fpr``."""
    columns = sorted({op.column for op in ops})
    at_fpr = {c: operating_point(zb[c], zb["weight"], f"FPR_{fpr:g}", fpr * crossing_rate_khz,
                                 crossing_rate_khz=crossing_rate_khz, column=c) for c in columns}  # fmt: skip
    out: dict[str, Any] = {}
    for name, cols in signals.items():
        entry: dict[str, Any] = {"events": len(cols["weight"]), "operating_points": {}, "at_fpr": {}}
        for op in ops:
            eff, err = efficiency(cols[op.column], cols["weight"], op.threshold)
            entry["operating_points"][op.seed] = {"efficiency": eff, "efficiency_err": err}
        for c, op in at_fpr.items():
            eff, err = efficiency(cols[c], cols["weight"], op.threshold)
            entry["at_fpr"][c] = {"fpr": fpr, "threshold": op.threshold, "threshold_err": op.threshold_err,
                                  "zb_pass": op.n_pass, "efficiency": eff, "efficiency_err": err}  # fmt: skip
        out[name] = entry
    return out
