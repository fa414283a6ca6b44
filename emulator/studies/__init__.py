"""Menu studies as plain data: threshold scans, rate vs pileup, turn-ons, overlaps, anomaly, latency.

Every function returns JSON-ready dicts and lists; :mod:`emulator.plots` draws them.

>>> from emulator.studies import parse_range
>>> parse_range("20:40:10").tolist()
[20.0, 30.0, 40.0]
"""

from __future__ import annotations

from emulator.studies.anomaly import anomaly_study, operating_points, score_columns
from emulator.studies.latency import latency_study
from emulator.studies.overlap import overlap_study
from emulator.studies.pileup import pileup_study, profile_from_bins, profile_from_reports
from emulator.studies.sample import ColumnRates, Sample, SampleCollector, collect
from emulator.studies.scan import ThresholdScan, parse_range, scan_thresholds, threshold_for_rate
from emulator.studies.turnon import GEN_QUANTITIES, clopper_pearson, gen_column_for, turnon

__all__ = [
    "GEN_QUANTITIES",
    "ColumnRates",
    "Sample",
    "SampleCollector",
    "ThresholdScan",
    "anomaly_study",
    "clopper_pearson",
    "collect",
    "gen_column_for",
    "latency_study",
    "operating_points",
    "overlap_study",
    "parse_range",
    "pileup_study",
    "profile_from_bins",
    "profile_from_reports",
    "scan_thresholds",
    "score_columns",
    "threshold_for_rate",
    "turnon",
]
