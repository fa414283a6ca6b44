"""The HLS menu writer refuses what it has no C++ for, naming the seed, instead of dropping it."""

from __future__ import annotations

import pytest

from emulator.menu.hardware import HwLeg, HwObjects, HwSeed, HwSum
from firmware.errors import UnsupportedError
from firmware.menu_writer import _check_hls_form

LEG = HwLeg("jet", 100, 0, 58, 0xFFFF, 0xFFFF)


@pytest.mark.parametrize(("seed", "what"), [
    (HwSeed("A", (HwObjects((LEG,)),), logic=(0, 1)), "OR/NOT"),
    (HwSeed("B", (HwObjects((HwLeg("jet", 100, 0, 58, 0xFFFF, 0xFFFF, eta_windows=((-10, 10),)),)),)), "η windows"),
    (HwSeed("C", (HwObjects((HwLeg("mu", 10, 0, 58, 0xFFFF, 0xFFFF, charge=1),)),)), "charge"),
    (HwSeed("D", (HwSum("etm", 100, 1 << 40, phi_windows=((0, 10),)),)), "φ windows"),
    (HwSeed("E", (), unsupported="needs column mu_upt"), "mu_upt"),
])  # fmt: skip
def test_uncovered_features_raise(seed: HwSeed, what: str) -> None:
    with pytest.raises(UnsupportedError, match=what):
        _check_hls_form(seed)


def test_plain_and_seeds_pass() -> None:
    _check_hls_form(HwSeed("ok", (HwObjects((LEG, LEG)), HwSum("htt", 400, 1 << 40))))
