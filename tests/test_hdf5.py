from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from streams.errors import SourceError
from streams.event import EventBatch
from streams.hdf5 import HDF5Source, write_batches
from streams.schema import BASE_COLUMNS, SCHEMA_V1_ADDED
from streams.sources import open_source
from streams.sources.parametric import ParametricConfig, ParametricSource


def test_round_trip_with_provenance_shards_and_limit(tmp_path: Path) -> None:
    src = ParametricSource(ParametricConfig(events=1000, seed=4))
    path = tmp_path / "zb.h5"
    n = write_batches(path, src.batches(256), provenance={"generator": "parametric", "seed": 4})
    assert n == 1000
    back = HDF5Source(path)
    assert len(back) == 1000
    assert back.provenance == {"generator": "parametric", "seed": 4}
    ref = EventBatch.concat(list(src.batches(1000)))
    got = EventBatch.concat(list(back.batches(300)))
    for k in ref.columns:
        np.testing.assert_array_equal(got[k], ref[k])
    assert [b.meta.first for b in back.batches(300, shard=(1, 2))] == [300, 900]
    assert len(open_source(path, events=250)) == 250
    assert sum(len(b) for b in open_source(path, events=250).batches(100)) == 250


def test_bad_files_name_the_file_and_problem(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        HDF5Source(tmp_path / "missing.h5")
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5 at all")
    with pytest.raises(SourceError, match=r"junk\.h5: not a readable l1emu HDF5 file"):
        HDF5Source(junk)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(SourceError, match="no /events group"):
        HDF5Source(other)
    good = tmp_path / "good.h5"
    write_batches(good, [EventBatch.empty(10)])
    with h5py.File(good, "a") as f:
        del f["events/jet_pt"]
    with pytest.raises(SourceError, match=r"missing columns \['jet_pt'\]"):
        HDF5Source(good)
    csv = tmp_path / "events.csv"
    csv.write_text("pt,eta\n")
    with pytest.raises(SourceError, match="unknown file type"):
        open_source(csv)


def test_truncated_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "big.h5"
    write_batches(path, ParametricSource(ParametricConfig(events=3000)).batches(1000))
    data = path.read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError, match=r"cut\.h5"):
        list(HDF5Source(cut).batches(1000))


def test_columns_are_blosc_lz4_and_files_of_other_filters_still_read(tmp_path: Path) -> None:
    src = ParametricSource(ParametricConfig(events=600, seed=9))
    path = tmp_path / "zb.h5"
    write_batches(path, src.batches(200))
    blosc = 32001  # the registered HDF5 filter id of Blosc
    with h5py.File(path, "r") as f:
        filters = {name: ds.id.get_create_plist().get_filter(0)[0] for name, ds in f["events"].items()}
        assert set(filters.values()) == {blosc}, filters
        lzf = tmp_path / "lzf.h5"
        with h5py.File(lzf, "w") as g:  # a file of an older l1emu: the same layout with h5py's LZF
            f.copy(f["events"], g, "events", without_attrs=False)
            for name in list(g["events"]):
                data = g["events"][name][...]
                del g["events"][name]
                g["events"].create_dataset(name, data=data, chunks=True, compression="lzf")
    ref = EventBatch.concat(list(HDF5Source(path).batches(600)))
    old = EventBatch.concat(list(HDF5Source(lzf).batches(600)))
    for k in ref.columns:
        np.testing.assert_array_equal(old[k], ref[k])
    np.testing.assert_array_equal(ref["regions"], EventBatch.concat(list(src.batches(600)))["regions"])


def test_schema_version_1_files_read_with_the_new_columns_zero(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "v1.h5"
    batch = EventBatch.empty(3)
    batch.columns["mu_pt"][:, 0] = [10, 20, 30]
    write_batches(path, [batch])
    with h5py.File(path, "a") as f:  # what an l1emu of schema 1 wrote: no uPT, IP, index, DISP, showers
        f["events"].attrs["schema_version"] = 1
        for name in SCHEMA_V1_ADDED:
            del f["events"][name]
    back = next(HDF5Source(path).batches(10))
    assert "schema version 1, read with mu_upt, mu_ip, mu_tfindex, jet_disp, mu_shower zero" in caplog.text
    assert back["mu_pt"][:, 0].tolist() == [10, 20, 30]
    for name in SCHEMA_V1_ADDED:
        assert back[name].dtype == BASE_COLUMNS[name].dtype
        assert back[name].shape == (3, *BASE_COLUMNS[name].shape)
        assert not back[name].any()
    with h5py.File(path, "a") as f:
        f["events"].attrs["schema_version"] = 7
    with pytest.raises(SourceError, match=r"v1.h5: schema version 7, this l1emu reads 2 \(and 1\)"):
        HDF5Source(path)
