"""The built-in cut-based algorithms against hand-computed values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emulator.algorithm import BuildContext
from emulator.algorithms.jet_calibration import JetCalibration
from emulator.algorithms.jet_sums import JetSums
from emulator.algorithms.region_calibration import RegionCalibration
from emulator.algorithms.region_sums import RegionSums
from streams.errors import ConfigError
from streams.event import EventBatch

CTX = BuildContext(config_dir=Path())


def _jets(pt: list[int], eta: list[int], phi: list[int]) -> EventBatch:
    b = EventBatch.empty(1)
    pad = 12 - len(pt)
    return b.with_columns(
        jet_pt=np.array([pt + [0] * pad], np.int16),
        jet_eta=np.array([eta + [0] * pad], np.int16),
        jet_phi=np.array([phi + [0] * pad], np.int16),
    )


def test_region_calibration_scales_offsets_and_saturates() -> None:
    scale = [256] * 14
    scale[3] = 512
    offset = [0] * 14
    offset[4] = 5
    algo = RegionCalibration.build("rc", {"scale": scale, "offset": offset, "saturation": 100}, CTX)
    regions = np.zeros((1, 18, 14), np.uint16)
    regions[0, 0, 3] = 30  # x2 -> 60
    regions[0, 0, 4] = 3  # -5 -> clipped at 0
    regions[0, 1, 3] = 80  # x2 = 160 -> saturates at 100
    regions[0, 2, 0] = 7
    out = algo.process(EventBatch.empty(1).with_columns(regions=regions))["regions_cal"]
    assert out[0, 0, 3] == 60
    assert out[0, 0, 4] == 0
    assert out[0, 1, 3] == 100
    assert out[0, 2, 0] == 7
    with pytest.raises(ConfigError, match="14 entries"):
        RegionCalibration.build("rc", {"scale": [256]}, CTX)


def test_region_sums() -> None:
    algo = RegionSums.build("rs", {"input": "regions", "hot_threshold": 10}, CTX)
    regions = np.zeros((2, 18, 14), np.uint16)
    regions[0, 0, 0] = 10
    regions[0, 5, 5] = 9
    out = algo.process(EventBatch.empty(2).with_columns(regions=regions))
    assert out["region_ett"].tolist() == [19, 0]
    assert out["region_nhot"].tolist() == [1, 0]


def test_jet_calibration_scales_by_eta_bin_and_reorders() -> None:
    algo = JetCalibration.build("jc", {"eta_edges": [10], "scale": [256, 1024]}, CTX)
    out = algo.process(_jets([100, 60], [0, -20], [1, 2]))
    assert out["jet_pt"][0, :3].tolist() == [240, 100, 0]  # forward jet x4 becomes leading
    assert out["jet_eta"][0, :2].tolist() == [-20, 0]
    assert out["jet_phi"][0, :2].tolist() == [2, 1]


def test_jet_sums_htt_and_htm() -> None:
    algo = JetSums.build("js", {"pt_min": 30.0, "eta_max": 2.4}, CTX)
    # two central jets back to back (phi 0 and 72 = pi): HTM cancels; a 25 GeV jet is below threshold;
    # a forward jet (|eta| > 2.4) is excluded
    out = algo.process(_jets([200, 200, 100, 50], [0, 10, 60, 0], [0, 72, 36, 36]))
    assert out["htt"][0] == 400
    assert out["htm"][0] == 0
    out = algo.process(_jets([200], [0], [36]))  # one jet at phi = pi/2: HTM points to -pi/2 (bin 108)
    assert out["htt"][0] == 200
    assert out["htm"][0] == 200
    assert out["htm_phi"][0] == 108
