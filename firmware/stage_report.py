"""The per-stage ``report.json`` and the printed summary table.

>>> rows = {"global_trigger": {"stage": "global_trigger", "clock_mhz": 480.0, "budget_cycles": 48,
...     "models": [], "menu": {"events": 100, "mismatches": 0, "latency_cycles": 9}}}
>>> print(format_summary(rows))  # doctest: +NORMALIZE_WHITESPACE
stage           model        latency/budget  DSP     LUT      FF  BRAM  C-sim mismatches  status
global_trigger  menu                   9/48    -       -       -     -  0/100             ok
>>> rows["global_trigger"]["models"] = [{"name": "axol1tl", "rtl": {"latency_cycles": 28, "budget_cycles": 48,
...     "within_budget": True, "mismatches": 0, "events": 10000, "latency_cutoff": 1,
...     "resources": {"lut": 27000, "ff": 36000, "dsp": 0},
...     "depth": {"lut_levels": 3.4, "levels_per_cycle": 2.98, "fits": False},
...     "estimate": {"latency_cycles": 26, "lut": 169947, "ff": 9000, "dsp": 0}}}]
>>> print(format_rtl_summary(rows).splitlines()[2:])  # doctest: +NORMALIZE_WHITESPACE
['stage           model      cut cycles/budget  est  LUT yosys/est  FF yosys/est   DSP     depth  mismatches   status',
 'global_trigger  axol1tl      1         28/48   26   27000/169947    36000/9000   0/0  3.4/3.0!  0/10000      ok']
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from firmware.errors import FirmwareError

__all__ = ["format_rtl_summary", "format_summary", "read_stage_reports", "write_stage_report"]

_HEADER = (
    f"{'stage':<15} {'model':<12} {'latency/budget':>14} {'DSP':>4} {'LUT':>7} {'FF':>7} {'BRAM':>5}  "
    f"{'C-sim mismatches':<17} status"
)


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


def _model_row(stage: str, m: dict[str, Any]) -> str:
    r, be = m["resources"], m["bit_exact"]
    lat = f"{m['latency_cycles']}/{m['budget_cycles'] if m['budget_cycles'] is not None else '-'}"
    ok = be["mismatches"] == 0 and m["within_budget"] is not False
    return (
        f"{stage:<15} {m['name']:<12} {lat:>14} {r.get('DSP', 0):>4} {r.get('LUT', 0):>7} {r.get('FF', 0):>7} "
        f"{r.get('BRAM_18K', 0):>5}  {be['mismatches']}/{be['events']:<15} {_status(ok)}"
    )


def format_summary(reports: dict[str, dict[str, Any]]) -> str:
    """One line per model and per menu: latency against budget, resources, C-sim mismatches."""
    lines = [_HEADER]
    for stage, rep in reports.items():
        lines += [_model_row(stage, m) for m in rep["models"]]
        menu = rep.get("menu")
        if menu:
            lat = f"{menu.get('latency_cycles', '-')}/{rep['budget_cycles']}"
            mism = f"{menu['mismatches']}/{menu['events']}"
            lines.append(
                f"{stage:<15} {'menu':<12} {lat:>14} {'-':>4} {'-':>7} {'-':>7} {'-':>5}  {mism:<17} "
                f"{_status(menu['mismatches'] == 0)}"
            )
    return "\n".join(lines)


_RTL_HEADER = (
    f"{'stage':<15} {'model':<10} {'cut':>3} {'cycles/budget':>13} {'est':>4} {'LUT yosys/est':>14} "
    f"{'FF yosys/est':>13} {'DSP':>5} {'depth':>9}  {'mismatches':<12} status"
)
_RTL_TITLE = (
    "RTL (da4ml, Verilator, Yosys): cycles from simulation; resources from synthesis / the estimate;\n"
    "depth: LUT levels on Yosys' longest path / levels per clock cycle ('!': does not fit; a logic-depth check, "
    "not timing closure)"
)


def _depth(rtl: dict[str, Any]) -> str:
    d = rtl.get("depth")
    if not d:
        return "-"
    return f"{d['lut_levels']:.1f}/{d['levels_per_cycle']:.1f}{'' if d['fits'] else '!'}"


def _rtl_row(stage: str, name: str, rtl: dict[str, Any]) -> str:
    r, est = rtl.get("resources") or {}, rtl["estimate"]
    budget = rtl["budget_cycles"] if rtl["budget_cycles"] is not None else "-"

    def pair(key: str) -> str:
        return f"{r.get(key, '-')}/{est[key]}"

    ok = rtl["mismatches"] == 0 and rtl["within_budget"] is not False
    mism = f"{rtl['mismatches']}/{rtl['events']}"
    return (
        f"{stage:<15} {name:<10} {rtl['latency_cutoff']:>3} {str(rtl['latency_cycles']) + '/' + str(budget):>13} "
        f"{est['latency_cycles']:>4} {pair('lut'):>14} {pair('ff'):>13} {pair('dsp'):>5} {_depth(rtl):>9}  {mism:<12} "
        f"{_status(ok)}"
    )


def format_rtl_summary(reports: dict[str, dict[str, Any]]) -> str:
    """One line per model with an ``rtl`` object: measured cycles, Yosys vs estimated resources, mismatches."""
    rows = [_rtl_row(stage, m["name"], m["rtl"]) for stage, rep in reports.items() for m in rep["models"]
            if m.get("rtl")]  # fmt: skip
    for stage, rep in reports.items():
        menu = rep.get("menu") or {}
        rtl = menu.get("rtl")
        if rtl and rtl.get("generated"):
            est = {"latency_cycles": menu.get("latency_cycles", "-"), "lut": "-", "ff": "-", "dsp": "-"}
            rows.append(_rtl_row(stage, "menu", {**rtl, "latency_cutoff": "-", "estimate": est}))
    return "\n".join([_RTL_TITLE, _RTL_HEADER, *rows]) if rows else ""
