"""The per-stage report files and tables of ``l1emu firmware`` (the RTL table included)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from emulator.plots.html import write_html
from emulator.plots.page import ReportInputs, _firmware, _Out
from firmware.errors import FirmwareError
from firmware.stage_report import format_rtl_summary, format_summary, read_stage_reports, write_stage_report
from l1emu.commands.report import _firmware_tables


def _rtl(**over: Any) -> dict[str, Any]:
    rtl = {"latency_cycles": 11, "budget_cycles": 120, "within_budget": True, "mismatches": 0, "events": 10000,
           "latency_cutoff": 3, "resources": {"lut": 4518, "ff": 1736, "dsp": 0},
           "estimate": {"latency_cycles": 16, "lut": 15841, "ff": 2230, "dsp": 0}}  # fmt: skip
    return {**rtl, **over}


def _stage(name: str, rtl: dict[str, Any] | None) -> dict[str, Any]:
    model: dict[str, Any] = {"name": "tagger", "latency_cycles": 16, "budget_cycles": 120, "within_budget": True,
                             "resources": {"LUT": 15841}, "bit_exact": {"mismatches": 0, "events": 10000}}
    if rtl is not None:
        model["rtl"] = rtl
    return {"stage": name, "clock_mhz": 240.0, "budget_cycles": 120, "models": [model]}


def test_reports_round_trip_and_the_rtl_table_shows_yosys_beside_the_estimate(tmp_path: Path) -> None:
    write_stage_report(tmp_path, _stage("objects", _rtl()))
    write_stage_report(tmp_path, _stage("calo", None))
    reports = read_stage_reports(tmp_path)
    assert list(reports) == ["calo", "objects"]
    assert "tagger" in format_summary(reports)
    table = format_rtl_summary(reports).splitlines()
    assert len(table) == 4  # two title lines, header, one model with an rtl object
    assert table[2].split()[-3:] == ["depth", "mismatches", "status"]
    assert table[3].split() == ["objects", "tagger", "3", "11/120", "16", "4518/15841", "1736/2230", "0/0", "-",
                                "0/10000", "ok"]  # fmt: skip
    timed = format_rtl_summary({"s": _stage("s", _rtl(latency_cutoff=4.167, cutoff_unit="ns"))}).splitlines()[-1]
    assert timed.split()[2] == "4.17ns"  # one period of the clock, every operation timed


@pytest.mark.parametrize(("fits", "shown"), [(True, "3.2/6.0"), (False, "7.7/3.0!")])
def test_the_depth_column_flags_a_path_that_does_not_fit_a_cycle(fits: bool, shown: str) -> None:
    depth = {"lut_levels": 3.2, "levels_per_cycle": 6.0} if fits else {"lut_levels": 7.7, "levels_per_cycle": 3.0}
    row = format_rtl_summary({"s": _stage("s", _rtl(depth={**depth, "fits": fits}))}).splitlines()[-1]
    assert row.split()[-3] == shown


@pytest.mark.parametrize(
    ("rtl", "status"),
    [(_rtl(mismatches=3), "FAIL"), (_rtl(within_budget=False, latency_cycles=130), "FAIL"), (_rtl(), "ok")],
    ids=["mismatch", "over-budget", "ok"],
)
def test_a_failing_rtl_check_is_marked(rtl: dict[str, Any], status: str) -> None:
    assert format_rtl_summary({"s": _stage("s", rtl)}).splitlines()[-1].split()[-1] == status


def test_no_rtl_no_table_and_a_missing_directory_is_named(tmp_path: Path) -> None:
    assert format_rtl_summary({"s": _stage("s", None)}) == ""
    with pytest.raises(FirmwareError, match=str(tmp_path)):
        read_stage_reports(tmp_path)
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "report.json").write_text("[1]")
    with pytest.raises(FirmwareError, match="not an l1emu firmware stage report"):
        read_stage_reports(tmp_path)


def test_l1emu_report_shows_the_firmware_tables_on_the_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fw, out = tmp_path / "fw", tmp_path / "report"
    write_stage_report(fw, _stage("objects", _rtl()))
    tables = _firmware_tables(fw, out)
    assert "4518/15841" in (out / "firmware.txt").read_text()
    assert "4518/15841" in capsys.readouterr().out
    page_parts = _Out()
    _firmware(ReportInputs(report={}, firmware_tables=tables), page_parts, out)
    page = write_html(out / "index.html", title="t", plots=[], tables=page_parts.tables).read_text()
    assert '<h2 id="s0">Firmware</h2>' in page
    assert "<td>4518/15841</td>" in page
    assert "<td>0/10000</td>" in page
