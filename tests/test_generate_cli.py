"""``l1emu generate``: writes EventBatch HDF5 files that HDF5Source (and replay) read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import streams.generators.pool as pool_mod
from l1emu.cli import main
from streams.hdf5 import HDF5Source
from tests.test_generators import fake_generated


def _generate(tmp_path: Path, *extra: str) -> HDF5Source:
    out = tmp_path / "sample.h5"
    rc = main(["generate", "--out", str(out), "--cache-dir", str(tmp_path / "cache"), "--no-progress", *extra])
    assert rc == 0
    return HDF5Source(out)


def test_generate_minbias_with_fake_generator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(pool_mod, "run_pythia", lambda lines, n, **_: fake_generated(n, lines=lines))
    monkeypatch.setenv("L1EMU_POOL_JOBS", "1")  # the fake lives in this process
    src = _generate(tmp_path, "--process", "minbias", "--pileup", "30", "--events", "300",
                    "--pool-events", "200", "--seed", "4", "--batch-size", "128", "--plain")
    assert len(src) == 300
    assert "wrote 300 crossings" in capsys.readouterr().out
    assert src.provenance["spec"]["mu"] == 30
    assert src.provenance["spec"]["seed"] == 4
    batches = list(src.batches(1000))
    pileup = batches[0]["pileup"]
    assert pileup.mean() == pytest.approx(30, abs=1.5)
    assert (batches[0]["weight"] == 1).all()
    assert src.provenance["stitching"] is None


def test_generate_stitched_zero_bias_with_fake_generator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool_mod, "run_pythia", lambda lines, n, **_: fake_generated(n, lines=lines))
    monkeypatch.setenv("L1EMU_POOL_JOBS", "1")  # the fake lives in this process
    src = _generate(tmp_path, "--process", "minbias", "--pileup", "40,80", "--events", "4096",
                    "--pool-events", "300", "--hard-events", "400")
    b = next(src.batches(4096))
    stitching = src.provenance["stitching"]
    assert [c["name"] for c in stitching["components"]][:2] == ["qcd-20", "qcd-30"]
    assert sum(c["events"] for c in stitching["components"]) >= 400
    assert (b["weight"] > 0).all()
    assert abs(float(b["weight"].mean()) - 1.0) < 0.05
    assert (b["hard_event"] >= -1).all()
    assert (b["hard_event"] >= 0).any()
    assert src.provenance["spec"]["mu_profile"] == [40.0, 80.0]
    assert b["pileup"][:1024].mean() == pytest.approx(40, abs=2)
    assert b["pileup"][1024:2048].mean() == pytest.approx(80, abs=2)


def test_generate_rejects_unknown_process(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["generate", "--process", "nope", "--out", str(tmp_path / "x.h5")])


@pytest.mark.pythia
def test_generate_signal_with_pythia(tmp_path: Path) -> None:
    src = _generate(tmp_path, "--process", "wlnu", "--pileup", "5", "--events", "40", "--pool-events", "100")
    b = next(src.batches(40))
    assert len(src) == 40
    assert b["pileup"].mean() < 10
    has_lepton = (b["mu_pt"][:, 0] >= 20) | (b["eg_pt"][:, 0] >= 40)
    assert has_lepton.mean() > 0.3  # W -> e nu / mu nu with pT ~ 40 GeV
    assert src.provenance["hard_pools"][0]["sigma_mb"] > 0
    assert np.all(b["etmhf"] >= 0)
