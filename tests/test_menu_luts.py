"""Correlation look-up tables: values, scale conversion, integer vs float arithmetic."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.menu.luts import (
    COSH_BITS,
    DR2_BITS,
    LUTS,
    SCALES,
    delta_bins,
    dr2,
    mass2,
    muon_to_calo_eta,
    muon_to_calo_phi,
)
from streams.schema import CALO_ETA_LSB, MU_ETA_LSB


@pytest.mark.parametrize("scale", ["calo", "muon"])
def test_tables_are_rounded_scaled_functions(scale: str) -> None:
    t = LUTS[scale]
    i = np.arange(len(t.deta2))
    assert np.array_equal(t.deta2, np.round((i * t.eta_lsb) ** 2 * 2**DR2_BITS))
    assert np.array_equal(t.cosh_deta, np.round(np.cosh(i * t.eta_lsb) * 2**COSH_BITS))
    k = np.arange(t.phi_bins // 2 + 1)
    assert len(t.dphi2) == len(t.cos_dphi) == t.phi_bins // 2 + 1
    assert np.array_equal(t.cos_dphi, np.round(np.cos(k * t.phi_lsb) * 2**COSH_BITS))
    assert t.cos_dphi[-1] == -(2**COSH_BITS)  # Δφ = π
    assert t.deta2.dtype == np.int64
    assert not t.deta2.flags.writeable


def test_as_dict_is_plain_python() -> None:
    d = LUTS["muon"].as_dict()
    assert d["phi_bins"] == 576
    assert d["dr2_bits"] == DR2_BITS
    assert isinstance(d["cosh_deta"], list)
    assert all(isinstance(v, int) for v in d["cosh_deta"])


def test_scale_lsbs_differ_by_four() -> None:
    assert abs(CALO_ETA_LSB / MU_ETA_LSB - 4.0) < 1e-12
    assert SCALES["muon"][1] == 4 * SCALES["calo"][1]


@given(st.integers(-300, 300))
def test_muon_eta_conversion_is_nearest_calo_bin(mu_eta: int) -> None:
    calo = int(muon_to_calo_eta(np.array([mu_eta]))[0])
    assert abs(mu_eta * MU_ETA_LSB - calo * CALO_ETA_LSB) <= 2 * MU_ETA_LSB + 1e-12


@given(st.integers(-1000, 2000))
def test_muon_phi_conversion_floors_into_calo_bin(mu_phi: int) -> None:
    calo = int(muon_to_calo_phi(np.array([mu_phi]))[0])
    assert 0 <= calo < 144
    assert calo == (mu_phi % 576) // 4


def test_delta_phi_wraps_and_folds() -> None:
    _deta, dphi = delta_bins(np.array([0, 0, 0]), np.array([0, 143, 72]), np.array([0, 0, 0]),
                            np.array([143, 0, 0]), "calo")  # fmt: skip
    assert dphi.tolist() == [1, 1, 72]
    _, dphi_mu = delta_bins(np.array([0]), np.array([5]), np.array([0]), np.array([570]), "muon")
    assert dphi_mu.tolist() == [11]


def test_delta_eta_saturates_at_table_end() -> None:
    deta, _ = delta_bins(np.array([400]), np.array([0]), np.array([-400]), np.array([0]), "calo")
    assert deta.tolist() == [len(LUTS["calo"].deta2) - 1]


@given(
    scale=st.sampled_from(["calo", "muon"]),
    deta=st.integers(0, 150),
    dphi=st.integers(0, 72),
)
def test_integer_dr2_within_one_lsb_of_float(scale: str, deta: int, dphi: int) -> None:
    t = LUTS[scale]
    dphi = dphi * (t.phi_bins // 144)
    exact = (deta * t.eta_lsb) ** 2 + (dphi * t.phi_lsb) ** 2
    got = int(dr2(np.array([deta]), np.array([dphi]), scale)[0]) / 2**DR2_BITS  # type: ignore[arg-type]
    assert abs(got - exact) <= 1 / 2**DR2_BITS


@given(
    scale=st.sampled_from(["calo", "muon"]),
    pt1=st.integers(1, 2047),
    pt2=st.integers(1, 2047),
    deta=st.integers(0, 115),
    dphi=st.integers(0, 72),
)
def test_integer_mass2_within_one_lsb_of_float(scale: str, pt1: int, pt2: int, deta: int, dphi: int) -> None:
    t = LUTS[scale]
    exact = 0.5 * pt1 * pt2 * (math.cosh(deta * t.eta_lsb) - math.cos(dphi * t.phi_lsb))  # GeV²
    m2 = mass2(np.array([pt1]), np.array([pt2]), np.array([deta]), np.array([dphi]), scale)  # type: ignore[arg-type]
    got = int(m2[0]) / 2 ** (COSH_BITS + 1)
    # each table entry is off by at most half an LSB: |Δ(cosh − cos)| ≤ 2^-COSH_BITS
    assert abs(got - exact) <= 0.5 * pt1 * pt2 / 2**COSH_BITS + 1e-9 * exact
