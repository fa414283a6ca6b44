"""Render every applicable study of a replay report (and optional scans and samples) into a directory.

Writes one PNG + JSON per plot, ``studies.json`` with every computed number and
``index.html``. What is drawn depends on what is given: a report alone gives rates,
overlaps, pure rates, rate vs pileup (from its pileup bins) and latency; more reports
at other ⟨μ⟩ give rate vs ⟨μ⟩; scans give rate vs threshold; a zero-bias sample gives the
prescale-column comparison; signal samples with ``gen_*`` columns give turn-ons;
``score_*`` columns give the anomaly plots.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emulator.menu import Menu, ObjectCondition, SumCondition
from emulator.plots import _tables as tables
from emulator.plots._style import PlotFile, write_json
from emulator.plots.anomaly import plot_anomaly
from emulator.plots.html import Table, write_html
from emulator.plots.latency import plot_latency
from emulator.plots.overlap import plot_overlap, plot_prescale_columns, plot_pure_rates
from emulator.plots.pileup import plot_pileup
from emulator.plots.scan import plot_scan
from emulator.plots.turnon import plot_turnon
from emulator.studies import (
    Sample,
    anomaly_study,
    gen_column_for,
    latency_study,
    overlap_study,
    pileup_study,
    profile_from_bins,
    profile_from_reports,
    turnon,
)
from emulator.studies.pileup import FitModel

__all__ = ["ReportInputs", "render_report"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportInputs:
    """What the report is made from; only ``report`` is required."""

    report: Mapping[str, Any]
    more_reports: Sequence[Mapping[str, Any]] = ()  # same menu at other ⟨μ⟩
    scans: Sequence[Mapping[str, Any]] = ()  # results of emulator.studies.scan_thresholds
    menu: Menu | None = None  # needed for turn-ons
    zero_bias: Sample | None = None
    column_rates: Mapping[str, Any] | None = None
    signals: Sequence[Sample] = ()
    target_mu: Sequence[float] = (140.0, 200.0)
    fit_model: FitModel = "poisson"
    anomaly_targets_khz: Sequence[float] = (1.0, 2.0, 5.0, 10.0)
    turnon_seeds: Sequence[str] = ()  # default: every seed whose gen column the signal has
    turnon_quantities: Mapping[str, str] = field(default_factory=dict)  # seed -> gen column
    # (title, header, rows) of ``l1emu firmware``'s tables (firmware.stage_report), shown as given
    firmware_tables: Sequence[tuple[str, tuple[str, ...], Sequence[tuple[str, ...]]]] = ()


@dataclass
class _Out:
    plots: list[PlotFile] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    studies: dict[str, Any] = field(default_factory=dict)


def _context(report: Mapping[str, Any]) -> str:
    return f"{report['run'].get('source', '')}, menu {report['menu']}"


def _rates(inp: ReportInputs, out: _Out, d: Path) -> None:
    rep = inp.report
    out.tables += [tables.summary_table(rep), tables.rates_table(rep)]
    ov = overlap_study(rep)
    out.studies["overlap"] = ov
    out.plots += [plot_pure_rates(ov, d, right=_context(rep)), plot_overlap(ov, d, right=_context(rep))]


def _pileup(inp: ReportInputs, out: _Out, d: Path) -> None:
    reports = [inp.report, *inp.more_reports]
    profile = profile_from_reports(reports) if len(reports) > 1 else profile_from_bins(inp.report)
    if len(profile["mu"]) < 2:
        log.info("rate vs pileup: fewer than two points, skipped")
        return
    study = pileup_study(profile, target_mu=inp.target_mu, model=inp.fit_model)
    out.studies["pileup"] = study
    top = sorted(study["seeds"], key=lambda s: -float(inp.report["seeds"][s]["rate_khz"]))[:8]
    out.plots += [plot_pileup(study, d, right=_context(inp.report)),
                  plot_pileup(study, d, seeds=top, right=_context(inp.report))]  # fmt: skip
    out.tables.append(tables.pileup_table(study))


def _scans(inp: ReportInputs, out: _Out, d: Path) -> None:
    entries = [s for scan in inp.scans for s in scan["scans"]]
    if entries:
        out.studies["scans"] = list(inp.scans)
        out.plots += [plot_scan(s, d, right=str(scan.get("source", ""))) for scan in inp.scans for s in scan["scans"]]
        out.tables.append(tables.scan_table(entries))


def _edges(menu: Menu, seed: str, x: np.ndarray) -> np.ndarray:
    """40 bins up to 2.5× the seed's leading threshold (or the sample's 99th percentile)."""
    conds = menu.config.seeds[menu.seed_names.index(seed)].conditions
    legs = [leg.pt_min for c in conds if isinstance(c, ObjectCondition) for leg in c.legs]
    sums = [c.min for c in conds if isinstance(c, SumCondition)]
    thr = max(legs) if legs else max(sums, default=0.0)
    hi = 2.5 * thr if thr > 0 else float(np.nanquantile(x, 0.99)) if x.size else 1.0
    return np.linspace(0.0, max(hi, 1.0), 41)


def _turnons(inp: ReportInputs, out: _Out, d: Path) -> None:
    if inp.menu is None:
        return
    entries = []
    for sample in inp.signals:
        for seed in inp.turnon_seeds or inp.menu.seed_names:
            col = inp.turnon_quantities.get(seed) or gen_column_for(inp.menu, seed)
            if col is None or col not in sample.columns:
                continue
            x = sample.columns[col].astype(np.float64)
            t = turnon(x, sample.passed(seed), _edges(inp.menu, seed, x), weight=sample.weight)
            entries.append({"seed": seed, "sample": sample.name, "quantity": col, **t})
            out.plots.append(plot_turnon(seed, sample.name, col, t, d))
    if entries:
        out.studies["turnons"] = entries
        out.tables.append(tables.turnon_table(entries))


def _anomaly(inp: ReportInputs, out: _Out, d: Path) -> None:
    if inp.zero_bias is None:
        return
    k = float(inp.report["lhc"]["n_bunches"]) * float(inp.report["lhc"]["f_rev_hz"]) / 1000.0
    study = anomaly_study(inp.zero_bias, inp.signals, crossing_rate_khz=k, targets_khz=inp.anomaly_targets_khz)
    if study:
        out.studies["anomaly"] = study
        for col, s in study.items():
            out.plots += plot_anomaly(col, s, d)
        out.tables.append(tables.anomaly_table(study))


def _columns(inp: ReportInputs, out: _Out, d: Path) -> None:
    if inp.column_rates is not None:
        out.studies["prescale_columns"] = dict(inp.column_rates)
        out.plots.append(plot_prescale_columns(inp.column_rates, d, right=_context(inp.report)))
        out.tables.append(tables.columns_table(inp.column_rates))


def _latency(inp: ReportInputs, out: _Out, d: Path) -> None:
    study = latency_study(inp.report)
    out.studies["latency"] = study
    out.plots += plot_latency(study, d, right=_context(inp.report))
    out.tables.append(tables.latency_table(study))


def _firmware(inp: ReportInputs, out: _Out, d: Path) -> None:
    out.tables += [Table("Firmware", title, header, rows) for title, header, rows in inp.firmware_tables if rows]


def render_report(inp: ReportInputs, out_dir: Path, *, embed: bool = True) -> dict[str, Any]:
    """Write every applicable plot, ``studies.json`` and ``index.html`` into ``out_dir``.

    Returns ``{"html": path, "plots": [names], "studies": {...}}``.

    >>> import tempfile
    >>> from emulator.replay import ReplayOptions, replay
    >>> rep = replay(ReplayOptions(config="configs/default.yaml", events=2000, in_process=True))
    >>> out = render_report(ReportInputs(report=rep), Path(tempfile.mkdtemp()))
    >>> "overlap" in out["plots"], out["html"].endswith("index.html")
    (True, True)
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    out = _Out()
    for step in (_rates, _scans, _pileup, _columns, _turnons, _anomaly, _latency, _firmware):
        step(inp, out, out_dir)
    write_json(out_dir / "studies.json", out.studies)
    rep = inp.report
    sub = f"chain {rep.get('chain', '')}, {_context(rep)}, prescale column {rep['prescale_column']}"
    page = write_html(out_dir / "index.html", title=f"l1emu report: menu {rep['menu']}", subtitle=sub,
                      plots=out.plots, tables=out.tables, embed=embed)  # fmt: skip
    return {"html": str(page), "plots": [p.name for p in out.plots], "studies": out.studies}
