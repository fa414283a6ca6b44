"""Read a Vivado/Vitis HLS synthesis report (``<top>_csynth.xml``) when a user has run one.

Vivado HLS calls DSPs ``DSP48E``, Vitis HLS ``DSP``; both become ``DSP`` here.

>>> import tempfile
>>> from pathlib import Path
>>> xml = Path(tempfile.mkdtemp()) / "m_csynth.xml"
>>> _ = xml.write_text("<profile><UserAssignments><Part>xcvu9p</Part><TopModelName>m</TopModelName>"
...     "<TargetClockPeriod>4.17</TargetClockPeriod></UserAssignments><PerformanceEstimates>"
...     "<SummaryOfTimingAnalysis><EstimatedClockPeriod>3.9</EstimatedClockPeriod></SummaryOfTimingAnalysis>"
...     "<SummaryOfOverallLatency><Best-caseLatency>7</Best-caseLatency><Worst-caseLatency>8</Worst-caseLatency>"
...     "<Interval-min>1</Interval-min><Interval-max>1</Interval-max></SummaryOfOverallLatency>"
...     "</PerformanceEstimates><AreaEstimates><Resources><BRAM_18K>0</BRAM_18K><DSP48E>4</DSP48E>"
...     "<FF>900</FF><LUT>3000</LUT></Resources></AreaEstimates></profile>")
>>> r = parse_csynth(xml)
>>> r.latency_cycles, r.resources["DSP"], r.part
(8, 4, 'xcvu9p')
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from firmware.errors import FirmwareError

__all__ = ["SynthReport", "find_csynth", "parse_csynth"]

_RESOURCES = ("BRAM_18K", "DSP", "FF", "LUT", "URAM")


@dataclass(frozen=True, slots=True)
class SynthReport:
    """The numbers of one csynth report (latency in cycles of ``clock_period_ns``)."""

    path: str
    top: str
    part: str
    clock_period_ns: float
    estimated_clock_ns: float
    best_latency: int
    worst_latency: int
    interval: tuple[int, int]
    resources: dict[str, int]
    available: dict[str, int] = field(default_factory=dict)

    @property
    def latency_cycles(self) -> int:
        return self.worst_latency

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "top": self.top, "part": self.part, "clock_period_ns": self.clock_period_ns,
            "estimated_clock_ns": self.estimated_clock_ns, "best_latency": self.best_latency,
            "worst_latency": self.worst_latency, "interval": list(self.interval), "resources": self.resources,
            "available": self.available,
        }  # fmt: skip


def _text(root: ET.Element, path: str, where: Path) -> str:
    node = root.find(path)
    if node is None or node.text is None:
        msg = f"{where}: csynth report has no {path}"
        raise FirmwareError(msg)
    return node.text.strip()


def _number(text: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        msg = f"{where}: {text!r} is not a number"
        raise FirmwareError(msg) from None


def _resources(node: ET.Element | None, where: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    for child in node if node is not None else ():
        tag = "DSP" if child.tag.startswith("DSP") else child.tag
        if tag in _RESOURCES and child.text is not None:
            out[tag] = int(_number(child.text, f"{where}: {child.tag}"))
    return out


def parse_csynth(path: str | Path) -> SynthReport:
    """Parse a ``*_csynth.xml``; a malformed report raises :class:`FirmwareError` naming the field."""
    p = Path(path)
    try:
        root = ET.parse(p).getroot()
    except (OSError, ET.ParseError) as exc:
        msg = f"{p}: cannot read the csynth report ({exc})"
        raise FirmwareError(msg) from exc
    lat = "./PerformanceEstimates/SummaryOfOverallLatency/"
    interval = tuple(int(_number(_text(root, lat + k, p), f"{p}: {k}")) for k in ("Interval-min", "Interval-max"))
    est_clock = root.find("./PerformanceEstimates/SummaryOfTimingAnalysis/EstimatedClockPeriod")
    period = _number(_text(root, "./UserAssignments/TargetClockPeriod", p), f"{p}: TargetClockPeriod")
    return SynthReport(
        path=str(p),
        top=_text(root, "./UserAssignments/TopModelName", p),
        part=_text(root, "./UserAssignments/Part", p),
        clock_period_ns=period,
        estimated_clock_ns=_number(est_clock.text or "", f"{p}: EstimatedClockPeriod")
        if est_clock is not None else period,
        best_latency=int(_number(_text(root, lat + "Best-caseLatency", p), f"{p}: Best-caseLatency")),
        worst_latency=int(_number(_text(root, lat + "Worst-caseLatency", p), f"{p}: Worst-caseLatency")),
        interval=(interval[0], interval[1]),
        resources=_resources(root.find("./AreaEstimates/Resources"), p),
        available=_resources(root.find("./AreaEstimates/AvailableResources"), p),
    )  # fmt: skip


def find_csynth(project_dir: str | Path, top: str) -> Path | None:
    """The ``<top>_csynth.xml`` of the first solution under ``project_dir``, if synthesis ran."""
    hits = sorted(Path(project_dir).glob(f"*_prj/*/syn/report/{top}_csynth.xml"))
    return hits[0] if hits else None
