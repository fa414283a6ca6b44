"""``l1emu generate --dask``: shards plus a manifest, the same content for 1 and 2 workers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

import streams.generators.pool as pool_mod
from l1emu.cli import main
from streams.hdf5 import HDF5Source
from streams.shards import check_manifest, read_manifest
from tests.test_generators import fake_generated

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.integration

SAMPLE = ["--process", "minbias", "--plain", "--pileup", "30", "--events", "2600", "--pool-events", "200",
          "--seed", "4", "--batch-size", "500", "--no-progress"]


@pytest.fixture(scope="module")
def address() -> Iterator[str]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster:
        yield cluster.scheduler_address


def _contents(path: Path) -> dict[str, Any]:
    """Every dataset (as bytes, with dtype and shape) and attribute of an HDF5 file's /events.

    Not the file's bytes: HDF5 may place the same metadata at other offsets from one write to the next.
    """
    with h5py.File(path, "r") as f:
        g = f["events"]
        out: dict[str, Any] = {k: (g[k].dtype.str, g[k].shape, g[k][()].tobytes()) for k in g}
        out |= {f"@{k}": v for k, v in g.attrs.items()}
    return out


def _arrays(path: Path) -> dict[str, np.ndarray]:
    batches = list(HDF5Source(path).batches(10_000))
    return {c: np.concatenate([b[c] for b in batches]) for c in batches[0]}


def test_sharded_generation_is_deterministic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, address: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    cache = ["--cache-dir", str(tmp_path / "cache")]
    # the serial run makes the pools (a fake generator here) into the cache the workers read
    monkeypatch.setattr(pool_mod, "run_pythia", lambda lines, n, **_: fake_generated(n))
    monkeypatch.setenv("L1EMU_POOL_JOBS", "1")  # the fake lives in this process
    assert main(["generate", *SAMPLE, *cache, "--out", str(tmp_path / "serial.h5")]) == 0
    runs: dict[str, Any] = {}
    for name, where in (("two", address), ("one", "local:1")):
        out = tmp_path / name / "zb.h5"
        assert main(["generate", *SAMPLE, *cache, "--out", str(out), "--dask", where, "--shard-events", "1000"]) == 0
        runs[name] = out
    assert "as 3 shards" in capsys.readouterr().out
    one, two = (read_manifest(runs[k]) for k in ("one", "two"))
    assert one is not None
    assert two is not None
    check_manifest(one)
    assert [(s.path, s.first, s.events) for s in two.shards] == [
        ("zb.shards/shard-00000.h5", 0, 1000), ("zb.shards/shard-00001.h5", 1000, 1000),
        ("zb.shards/shard-00002.h5", 2000, 600)]
    for a, b in zip(one.shards, two.shards, strict=True):  # whichever worker wrote it
        assert _contents(one.shard_path(a)) == _contents(two.shard_path(b)), a.path
    serial, sharded = _arrays(tmp_path / "serial.h5"), _arrays(runs["two"])
    assert sorted(serial) == sorted(sharded)
    for c in serial:
        np.testing.assert_array_equal(serial[c], sharded[c], err_msg=c)
    assert HDF5Source(runs["two"]).provenance["sharded"] == {"shard_events": 1000, "shards": 3}


@pytest.mark.pythia
def test_stitched_pythia_zero_bias_on_dask_equals_the_serial_sample(tmp_path: Path, address: str) -> None:
    """Real Pythia pools (the suite's shared cache), the stitched soft + p̂T-binned hard sample with its
    weights and muon boost: the same crossings from 2 workers as from one process."""
    stitched = ["--process", "minbias", "--pileup", "55", "--events", "20000", "--seed", "9", "--no-progress"]
    assert main(["generate", *stitched, "--out", str(tmp_path / "serial.h5")]) == 0
    out = tmp_path / "dask" / "zb.h5"
    assert main(["generate", *stitched, "--out", str(out), "--dask", address, "--shard-events", "8192"]) == 0
    manifest = read_manifest(out)
    assert manifest is not None
    assert [s.events for s in manifest.shards] == [8192, 8192, 3616]
    serial, sharded = _arrays(tmp_path / "serial.h5"), _arrays(out)
    assert sorted(serial) == sorted(sharded)
    assert "weight" in serial
    assert not np.all(serial["weight"] == 1.0)  # stitched: weighted crossings
    for c in serial:
        np.testing.assert_array_equal(serial[c], sharded[c], err_msg=c)
