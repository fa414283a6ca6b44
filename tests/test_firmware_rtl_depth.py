"""The logic-depth check on hand-written Yosys netlists: path weights, registers, loops, the clock rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from firmware.errors import FirmwareError
from firmware.rtl.depth import CARRY_NS, LUT_NS, depth_check, levels_per_cycle, netlist_path_ns

Bits = dict[str, list[int | str]]


def _cell(kind: str, ins: Bits, outs: Bits, **params: str) -> dict[str, Any]:
    dirs = {**dict.fromkeys(ins, "input"), **dict.fromkeys(outs, "output")}
    return {"type": kind, "parameters": params, "port_directions": dirs, "connections": {**ins, **outs}}


def _netlist(tmp_path: Path, cells: dict[str, dict[str, Any]]) -> Path:
    path = tmp_path / "netlist.json"
    path.write_text(json.dumps({"modules": {"top": {"cells": cells}, "LUT6": {"cells": {}}}}))
    return path


def test_the_longest_path_runs_from_register_to_register(tmp_path: Path) -> None:
    cells = {
        "ff0": _cell("FDRE", {"D": [1], "C": [2]}, {"Q": [3]}),
        "lut0": _cell("LUT6", {"I0": [3], "I1": ["0"]}, {"O": [4]}),
        "car0": _cell("CARRY8", {"S": [4]}, {"CO": [5]}),
        "car1": _cell("CARRY8", {"CI": [5]}, {"CO": [6]}),
        "mux": _cell("MUXF7", {"I0": [6]}, {"O": [7]}),
        "lut1": _cell("LUT2", {"I0": [7], "I1": [3]}, {"O": [8]}),
        "ff1": _cell("FDRE", {"D": [8], "C": [2]}, {"Q": [9]}),
        "lut2": _cell("LUT1", {"I0": [9]}, {"O": [1]}),  # a short path back to ff0: not the longest
    }
    ns, kinds = netlist_path_ns(_netlist(tmp_path, cells), "top")
    assert ns == pytest.approx(2 * LUT_NS + 2 * 8 * CARRY_NS)
    assert kinds == {"LUT6": 1, "CARRY8": 2, "MUXF7": 1, "LUT2": 1}


def test_a_dsp_with_its_output_register_ends_the_path(tmp_path: Path) -> None:
    chain = {
        "lut0": _cell("LUT6", {"I0": [1]}, {"O": [2]}),
        "dsp": _cell("DSP48E2", {"A": [2]}, {"P": [3]}, PREG="1"),
        "lut1": _cell("LUT6", {"I0": [3]}, {"O": [4]}),
    }
    assert netlist_path_ns(_netlist(tmp_path, chain), "top")[0] == pytest.approx(LUT_NS)
    chain["dsp"]["parameters"]["PREG"] = "0"
    assert netlist_path_ns(_netlist(tmp_path, chain), "top")[0] == pytest.approx(6 * LUT_NS)


def test_a_combinational_loop_and_a_missing_module_are_errors(tmp_path: Path) -> None:
    loop = {"a": _cell("LUT1", {"I0": [2]}, {"O": [1]}), "b": _cell("LUT1", {"I0": [1]}, {"O": [2]})}
    with pytest.raises(FirmwareError, match="combinational loop"):
        netlist_path_ns(_netlist(tmp_path, loop), "top")
    with pytest.raises(FirmwareError, match="no module 'other'"):
        netlist_path_ns(_netlist(tmp_path, loop), "other")


def test_the_clock_rule() -> None:
    assert (levels_per_cycle(480.0), levels_per_cycle(240.0), levels_per_cycle(1000.0 / 4.2)) == (2.98, 5.95, 6.0)
    ok = depth_check(2.0, {"LUT6": 2}, 480.0)
    assert (ok.fits, ok.lut_levels, ok.levels_per_cycle) == (True, 2.86, 2.98)
    slow = depth_check(2.2, {"LUT6": 3}, 480.0)
    assert not slow.fits
    assert depth_check(2.2, {}, 240.0).fits
    assert "not timing closure" in slow.as_dict()["rule"]
    with pytest.raises(FirmwareError, match="must be positive"):
        levels_per_cycle(0.0)
