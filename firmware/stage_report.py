"""The per-stage ``report.json`` and the printed summary table.

>>> rows = {"global_trigger": {"stage": "global_trigger", "clock_mhz": 480.0, "budget_cycles": 48,
...     "models": [], "menu": {"events": 100, "mismatches": 0, "latency_cycles": 9}}}
>>> print(format_summary(rows))  # doctest: +NORMALIZE_WHITESPACE
stage           model        latency/budget  DSP     LUT      FF  BRAM  C-sim mismatches  status
global_trigger  menu                   9/48    -       -       -     -  0/100             ok
>>> rows["global_trigger"]["models"] = [{"name": "axol1tl", "rtl": {"latency_cycles": 28, "budget_cycles": 48,
...     "within_budget": True, "mismatches": 0, "events": 10000, "latency_cutoff": 2.083, "cutoff_unit": "ns",
...     "resources": {"lut": 27000, "ff": 36000, "dsp": 0},
...     "depth": {"lut_levels": 3.4, "levels_per_cycle": 2.98, "fits": False},
...     "estimate": {"latency_cycles": 26, "lut": 169947, "ff": 9000, "dsp": 0}}}]
>>> print(format_rtl_summary(rows).splitlines()[2:])  # doctest: +NORMALIZE_WHITESPACE
['stage model cut cycles/budget est LUT yosys/est FF yosys/est DSP depth mismatches status',
 'global_trigger  axol1tl  2.08ns         28/48   26   27000/169947    36000/9000   0/0  3.4/3.0!  0/10000      ok']
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from firmware.errors import FirmwareError

__all__ = ["RTL_COLUMNS", "RTL_TITLE", "SUMMARY_COLUMNS", "format_rtl_summary", "format_summary", "read_stage_reports",
           "rtl_table", "summary_table", "write_stage_report"]

def write_stage_report(out_dir: Path, report: dict[str, Any]) -> Path:
    """Write ``out_dir/<stage>/report.json``."""
    path = out_dir / str(report["stage"]) / "report.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")
    return path


def read_stage_reports(out_dir: Path) -> dict[str, dict[str, Any]]:
    """Every ``out_dir/<stage>/report.json`` written by ``l1emu firmware``, by stage name (sorted)."""
    reports: dict[str, dict[str, Any]] = {}
    for path in sorted(Path(out_dir).glob("*/report.json")):
        try:
            rep = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            msg = f"{path}: cannot read a firmware stage report ({exc})"
            raise FirmwareError(msg) from exc
        if not isinstance(rep, dict) or "models" not in rep or "stage" not in rep:
            msg = f"{path}: not an l1emu firmware stage report (no 'stage'/'models')"
            raise FirmwareError(msg)
        reports[str(rep["stage"])] = rep
    if not reports:
        msg = f"{out_dir}: no <stage>/report.json of l1emu firmware"
        raise FirmwareError(msg)
    return reports


def _status(ok: bool) -> str:
    return "ok" if ok else "FAIL"


#: columns of the summary table (``summary_table``) and their text widths (negative: left-aligned)
SUMMARY_COLUMNS: tuple[str, ...] = (
    "stage", "model", "latency/budget", "DSP", "LUT", "FF", "BRAM", "C-sim mismatches", "status")
_SUMMARY_WIDTHS = (-15, -12, 14, 4, 7, 7, 5, -17, 0)


def _line(cells: tuple[str, ...], widths: tuple[int, ...], gap_before: int) -> str:
    """Cells padded to ``widths``, single spaces between them, two before column ``gap_before``."""
    out = ""
    for k, (c, w) in enumerate(zip(cells, widths, strict=True)):
        sep = "" if k == 0 else ("  " if k == gap_before else " ")
        out += sep + (c.ljust(-w) if w < 0 else c.rjust(w))
    return out


def _model_cells(stage: str, m: dict[str, Any]) -> tuple[str, ...]:
    r, be = m["resources"], m["bit_exact"]
    lat = f"{m['latency_cycles']}/{m['budget_cycles'] if m['budget_cycles'] is not None else '-'}"
    ok = be["mismatches"] == 0 and m["within_budget"] is not False
    return (stage, m["name"], lat, str(r.get("DSP", 0)), str(r.get("LUT", 0)), str(r.get("FF", 0)),
            str(r.get("BRAM_18K", 0)), f"{be['mismatches']}/{be['events']}", _status(ok))  # fmt: skip


def summary_table(reports: dict[str, dict[str, Any]]) -> list[tuple[str, ...]]:
    """The rows of :data:`SUMMARY_COLUMNS`: one per model and per menu."""
    rows = []
    for stage, rep in reports.items():
        rows += [_model_cells(stage, m) for m in rep["models"]]
        menu = rep.get("menu")
        if menu:
            lat = f"{menu.get('latency_cycles', '-')}/{rep['budget_cycles']}"
            rows.append((stage, "menu", lat, "-", "-", "-", "-", f"{menu['mismatches']}/{menu['events']}",
                         _status(menu["mismatches"] == 0)))  # fmt: skip
    return rows


def format_summary(reports: dict[str, dict[str, Any]]) -> str:
    """One line per model and per menu: latency against budget, resources, C-sim mismatches."""
    return "\n".join(_line(r, _SUMMARY_WIDTHS, 7) for r in [SUMMARY_COLUMNS, *summary_table(reports)])


#: columns of the RTL table (``rtl_table``) and their text widths
RTL_COLUMNS: tuple[str, ...] = ("stage", "model", "cut", "cycles/budget", "est", "LUT yosys/est", "FF yosys/est",
                                "DSP", "depth", "mismatches", "status")  # fmt: skip
_RTL_WIDTHS = (-15, -10, 6, 13, 4, 14, 13, 5, 9, -12, 0)
RTL_TITLE = (
    "RTL (da4ml, Verilator, Yosys): cycles from simulation; resources from synthesis / the estimate;\n"
    "depth: LUT levels on Yosys' longest path / levels per clock cycle ('!': does not fit; a logic-depth check, "
    "not timing closure)"
)


def _depth(rtl: dict[str, Any]) -> str:
    d = rtl.get("depth")
    if not d:
        return "-"
    return f"{d['lut_levels']:.1f}/{d['levels_per_cycle']:.1f}{'' if d['fits'] else '!'}"


def _cutoff(rtl: dict[str, Any]) -> str:
    """The latency cutoff: ns per stage (timed) or da4ml's adder levels (given, or a report from before)."""
    cut = rtl["latency_cutoff"]
    return f"{cut:.2f}ns" if rtl.get("cutoff_unit") == "ns" else str(cut)


def _rtl_cells(stage: str, name: str, rtl: dict[str, Any]) -> tuple[str, ...]:
    r, est = rtl.get("resources") or {}, rtl["estimate"]
    budget = rtl["budget_cycles"] if rtl["budget_cycles"] is not None else "-"

    def pair(key: str) -> str:
        return f"{r.get(key, '-')}/{est[key]}"

    ok = rtl["mismatches"] == 0 and rtl["within_budget"] is not False
    return (stage, name, _cutoff(rtl), f"{rtl['latency_cycles']}/{budget}", str(est["latency_cycles"]),
            pair("lut"), pair("ff"), pair("dsp"), _depth(rtl), f"{rtl['mismatches']}/{rtl['events']}",
            _status(ok))  # fmt: skip


def rtl_table(reports: dict[str, dict[str, Any]]) -> list[tuple[str, ...]]:
    """The rows of :data:`RTL_COLUMNS`: one per model with an ``rtl`` object, and the menu's."""
    rows = [_rtl_cells(stage, m["name"], m["rtl"]) for stage, rep in reports.items() for m in rep["models"]
            if m.get("rtl")]  # fmt: skip
    for stage, rep in reports.items():
        menu = rep.get("menu") or {}
        rtl = menu.get("rtl")
        if rtl and rtl.get("generated"):
            est = {"latency_cycles": menu.get("latency_cycles", "-"), "lut": "-", "ff": "-", "dsp": "-"}
            rows.append(_rtl_cells(stage, "menu", {**rtl, "latency_cutoff": "-", "estimate": est}))
    return rows


def format_rtl_summary(reports: dict[str, dict[str, Any]]) -> str:
    """One line per model with an ``rtl`` object: measured cycles, Yosys vs estimated resources, mismatches."""
    rows = rtl_table(reports)
    lines = [_line(r, _RTL_WIDTHS, 9) for r in [RTL_COLUMNS, *rows]]
    return "\n".join([RTL_TITLE, *lines]) if rows else ""
