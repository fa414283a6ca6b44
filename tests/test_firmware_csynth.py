"""csynth.xml parsing (Vivado HLS and Vitis HLS flavours) and preference over the estimate."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware.csynth import find_csynth, parse_csynth
from firmware.errors import FirmwareError

VIVADO = """<?xml version="1.0" encoding="UTF-8"?>
<profile>
  <ReportVersion><Version>2020.1</Version></ReportVersion>
  <UserAssignments>
    <unit>ns</unit>
    <ProductFamily>virtexuplus</ProductFamily>
    <Part>xcvu9p-flga2104-2L-e</Part>
    <TopModelName>axol1tl</TopModelName>
    <TargetClockPeriod>4.167</TargetClockPeriod>
    <ClockUncertainty>0.52</ClockUncertainty>
    <FlowTarget>vivado</FlowTarget>
  </UserAssignments>
  <PerformanceEstimates>
    <PipelineType>none</PipelineType>
    <SummaryOfTimingAnalysis><unit>ns</unit><EstimatedClockPeriod>3.612</EstimatedClockPeriod></SummaryOfTimingAnalysis>
    <SummaryOfOverallLatency>
      <unit>clock cycles</unit>
      <Best-caseLatency>11</Best-caseLatency>
      <Average-caseLatency>11</Average-caseLatency>
      <Worst-caseLatency>12</Worst-caseLatency>
      <Best-caseRealTimeLatency>45.837 ns</Best-caseRealTimeLatency>
      <Interval-min>1</Interval-min>
      <Interval-max>1</Interval-max>
    </SummaryOfOverallLatency>
  </PerformanceEstimates>
  <AreaEstimates>
    <Resources><BRAM_18K>2</BRAM_18K><DSP48E>37</DSP48E><FF>10542</FF><LUT>48211</LUT><URAM>0</URAM></Resources>
    <AvailableResources>
      <BRAM_18K>4320</BRAM_18K><DSP48E>6840</DSP48E><FF>2364480</FF><LUT>1182240</LUT><URAM>960</URAM>
    </AvailableResources>
  </AreaEstimates>
</profile>
"""


def _write(root: Path, text: str, top: str = "axol1tl") -> Path:
    path = root / f"{top}_prj" / "solution1" / "syn" / "report" / f"{top}_csynth.xml"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return path


def test_vivado_report(tmp_path: Path) -> None:
    path = _write(tmp_path, VIVADO)
    assert find_csynth(tmp_path, "axol1tl") == path
    r = parse_csynth(path)
    assert (r.top, r.part, r.clock_period_ns, r.estimated_clock_ns) == ("axol1tl", "xcvu9p-flga2104-2L-e", 4.167, 3.612)
    assert (r.best_latency, r.worst_latency, r.latency_cycles, r.interval) == (11, 12, 12, (1, 1))
    assert r.resources == {"BRAM_18K": 2, "DSP": 37, "FF": 10542, "LUT": 48211, "URAM": 0}
    assert r.available["DSP"] == 6840


def test_vitis_names_dsps_dsp(tmp_path: Path) -> None:
    r = parse_csynth(_write(tmp_path, VIVADO.replace("DSP48E", "DSP")))
    assert r.resources["DSP"] == 37


def test_missing_report_and_bad_fields(tmp_path: Path) -> None:
    assert find_csynth(tmp_path, "axol1tl") is None
    with pytest.raises(FirmwareError, match="Worst-caseLatency"):
        parse_csynth(_write(tmp_path, VIVADO.replace("<Worst-caseLatency>12</Worst-caseLatency>", "")))
    bad = tmp_path / "bad.xml"
    bad.write_text("<profile>")
    with pytest.raises(FirmwareError, match="cannot read the csynth report"):
        parse_csynth(bad)


def test_flow_prefers_the_synthesis_report(tmp_path: Path) -> None:
    from emulator.fixedpoint import FixedPointModel, FixedType
    from emulator.fixedpoint.layers import Activation
    from firmware.flow import _latency_and_resources
    from firmware.hls_project import BitExact, HlsProject

    t = FixedType(8, 3)
    model = FixedPointModel(t, (4,), (Activation("r", t, t, (4,), (4,), function="relu"),))
    prj = HlsProject("axol1tl", tmp_path / "axol1tl", "Vitis", "Latency", model, BitExact(1, 0))
    assert _latency_and_resources(prj, 240.0)["latency_source"] == "estimate"
    _write(prj.directory, VIVADO)
    cost = _latency_and_resources(prj, 240.0)
    assert (cost["latency_source"], cost["latency_cycles"], cost["resources"]["DSP"]) == ("csynth", 12, 37)
    assert cost["estimate"]["latency_cycles"] == 2  # relu + io
