"""The report page's tables, built from the studies' plain data (cells already formatted)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from emulator.plots.html import Table
from emulator.studies.latency import QUANTITIES

__all__ = [
    "anomaly_table", "columns_table", "latency_table", "pileup_table", "rates_table", "scan_table",
    "summary_table", "turnon_table",
]  # fmt: skip


def _f(x: float | None, fmt: str = ".3g") -> str:
    return "—" if x is None else format(x, fmt)


def _pm(x: float | None, e: float | None) -> str:
    return "—" if x is None else f"{x:.3g} ± {_f(e, '.2g')}"


def summary_table(report: Mapping[str, Any]) -> Table:
    ev = report["events"]
    rows = [(k, str(v)) for k, v in ev.items()]
    rows += [("accounting", "OK" if report.get("accounting_ok") else "MISMATCH"),
             ("total rate [kHz]", _pm(report["total_rate_khz"], report["total_rate_err_khz"])),
             ("throughput [events/s]", f"{report.get('throughput_eps', 0):,.0f}")]  # fmt: skip
    return Table("Rates", "Events", ("quantity", "value"), rows)


def rates_table(report: Mapping[str, Any]) -> Table:
    rows = [(n, str(s["prescale"]), str(s["count"]), _pm(s["rate_khz"], s["rate_err_khz"]), _f(s["pure_rate_khz"]))
            for n, s in report["seeds"].items()]  # fmt: skip
    rows.append(("total", "", str(report["events"]["accepted"]),
                 _pm(report["total_rate_khz"], report["total_rate_err_khz"]), ""))  # fmt: skip
    title = f"Seed rates (menu {report['menu']}, column {report['prescale_column']})"
    return Table("Rates", title, ("seed", "prescale", "count", "rate [kHz]", "pure [kHz]"), rows)


def scan_table(scans: Sequence[Mapping[str, Any]]) -> Table:
    rows = []
    for s in scans:
        m, t = s["menu"], s.get("target") or {}
        menu = _pm(m["rate_khz"], m["rate_err_khz"])
        rows.append((s["seed"], s["cut"], str(s["prescale"]), f"{m['threshold']:g}", menu,
                     _f(t.get("target_khz")), _f(t.get("threshold"), "g"), _f(t.get("rate_khz"))))  # fmt: skip
    head = ("seed", "scanned cut", "prescale", "menu threshold", "rate at menu [kHz]", "target [kHz]",
            "threshold for target", "rate there [kHz]")  # fmt: skip
    return Table("Rate vs threshold", "Scans (post-prescale rates)", head, rows)


def pileup_table(study: Mapping[str, Any]) -> Table:
    def row(name: str, s: Mapping[str, Any]) -> tuple[str, ...]:
        fit = s["fit"]
        chi = "—" if fit is None else f"{fit['chi2']:.1f}/{fit['ndf']}"
        ext = {e["mu"]: e for e in s["extrapolation"]}
        def cell(e: Mapping[str, Any]) -> str:
            return _pm(e["rate_khz"], e["rate_err_khz"]) + (" (extrapolated)" if e.get("extrapolated") else "")

        cells = [cell(ext[t]) if t in ext else "—" for t in study["target_mu"]]
        return (name, chi, *cells)

    rows = [row("total", study["total"]), *(row(n, s) for n, s in study["seeds"].items())]
    head = ("seed", "χ²/ndf", *(f"rate at μ={t:g} [kHz]" for t in study["target_mu"]))
    return Table("Rate vs pileup", f"Extrapolation ({study['model']} fit)", head, rows)


def columns_table(cols: Mapping[str, Any]) -> Table:
    head = ("", *cols["columns"])
    rows = [("total [kHz]", *(_pm(r, e) for r, e in zip(cols["total_rate_khz"], cols["total_rate_err_khz"],
                                                        strict=True)))]  # fmt: skip
    rows += [(n, *(f"{r:.3g} (×{p})" for r, p in zip(v, cols["prescales"][n], strict=True)))
             for n, v in cols["seeds"].items()]  # fmt: skip
    return Table("Prescale columns", "Rate per prescale column [kHz] (prescale)", head, rows)


def turnon_table(entries: Sequence[Mapping[str, Any]]) -> Table:
    rows = []
    for e in entries:
        fit, pts = e["fit"], e["points"]
        f, interp = pts["fit"] or {}, pts["interpolated"]
        rows.append((e["seed"], e["sample"], e["quantity"], _f(f.get("x50")), _f(f.get("x95")),
                     _f(fit and fit["plateau"]), _f(interp["x50"]), _f(interp["x95"])))  # fmt: skip
    head = ("seed", "sample", "quantity", "x50 (fit)", "x95 (fit)", "plateau", "x50 (interp.)", "x95 (interp.)")
    return Table("Turn-ons", "Turn-on points [GeV]", head, rows)


def anomaly_table(study: Mapping[str, Any]) -> Table:
    signals = sorted({s for col in study.values() for s in col["efficiency"]})
    rows = []
    for col, s in study.items():
        for op in s["operating_points"]:
            rows.append((col, f"{op['target_khz']:g}", _f(op["threshold"], ".4g"), _f(op["rate_khz"]),
                         *(_f(op["efficiency"].get(n)) for n in signals)))  # fmt: skip
    head = ("score", "target [kHz]", "threshold", "rate [kHz]", *(f"eff. {n}" for n in signals))
    return Table("Anomaly detection", "Operating points", head, rows)


def latency_table(study: Mapping[str, Any]) -> Table:
    rows = [(r["name"], r["kind"], *(f"{r[q]:.3g}" for q in QUANTITIES), str(r["samples"])) for r in study["rows"]]
    return Table("Latency", "Latency [µs]", ("where", "per", *QUANTITIES, "samples"), rows)
