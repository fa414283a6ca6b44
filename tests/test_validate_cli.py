"""``l1emu validate --quick`` end to end: the CMS comparison, rate curves and figures are written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator.studies.cms_rates import CMS_RATES_KHZ, CURVES
from tests.helpers import run_cli

pytestmark = pytest.mark.pythia


def test_validate_quick_writes_the_cms_comparison(tmp_path: Path) -> None:
    out = tmp_path / "val"
    proc = run_cli("validate", "--quick", "--out-dir", str(out), timeout=900)
    summary = json.loads((out / "summary.json").read_text())
    cms = summary["cms"]
    assert set(cms["comparison"]) == set(CMS_RATES_KHZ)
    for name, row in cms["comparison"].items():
        assert row["cms_khz"] == CMS_RATES_KHZ[name][0]
        assert row["ratio"] == pytest.approx(row["l1emu_khz"] / row["cms_khz"], rel=1e-5)
        assert name in proc.stdout
    assert set(cms["curves"]) == set(CURVES)
    assert all(len(c["rate_khz"]) == len(c["thresholds"]) for c in cms["curves"].values())
    assert cms["total_rate_khz"] > 0
    for fig in ("rate_vs_threshold", "cms_ratios", "dndeta", "turn_ons", "rates_vs_mu"):
        assert (out / f"{fig}.png").stat().st_size > 0
    assert "CMS comparison" in proc.stdout
