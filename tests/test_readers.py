"""Readers: ADC2021 HDF5, Parquet, flat ROOT; conversion to hardware units; bad files."""

from __future__ import annotations

import math
from pathlib import Path

import awkward as ak
import h5py
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import uproot

from streams.errors import SourceError
from streams.event import EventBatch
from streams.hdf5 import HDF5Source, write_batches
from streams.readers import ADC2021Source, ParquetSource, RootSource, open_file
from streams.schema import MU_ETA_LSB


def adc_file(path: Path, n: int = 10) -> np.ndarray:
    rng = np.random.default_rng(1)
    x = np.zeros((n, 19, 4), np.float32)
    x[:, 0] = np.stack([rng.uniform(0, 100, n), np.zeros(n), rng.uniform(-3, 3, n), np.ones(n)], 1)
    x[:, 1:3, 0] = rng.uniform(5, 60, (n, 2))
    x[:, 1:3, 1] = rng.uniform(-2.5, 2.5, (n, 2))
    x[:, 1:3, 3] = 2
    x[:, 5, :] = (25.0, 1.0, -1.0, 3)
    x[:, 9:13, 0] = rng.uniform(20, 300, (n, 4))
    x[:, 9:13, 3] = 4
    with h5py.File(path, "w") as f:
        f.create_dataset("Particles", data=x)
    return x


def test_adc2021_layout_converts_to_hw_units(tmp_path: Path) -> None:
    x = adc_file(tmp_path / "a.h5")
    src = ADC2021Source(tmp_path / "a.h5")
    b = EventBatch.concat(list(src.batches(4)))
    assert len(b) == 10
    assert [bb.meta.first for bb in src.batches(4)] == [0, 4, 8]
    np.testing.assert_array_equal(b["etm"], np.floor(x[:, 0, 0] / 0.5).astype(np.int32))
    lead_eg = np.maximum(x[:, 1, 0], x[:, 2, 0])
    np.testing.assert_array_equal(b["eg_pt"][:, 0], np.floor(lead_eg / 0.5))
    assert (b["eg_pt"][:, 2:] == 0).all()
    assert (b["tau_pt"] == 0).all()
    assert (b["mu_pt"][:, 0] == 50).all()
    assert (b["mu_eta"][:, 0] == round(1.0 / MU_ETA_LSB)).all()
    assert (b["mu_phi"][:, 0] == math.floor((2 * math.pi - 1.0) / (2 * math.pi) * 576)).all()
    assert (b["mu_qual"][:, 0] == 15).all()
    assert (b["mu_qual"][:, 1] == 0).all()
    assert (np.diff(b["jet_pt"].astype(int), axis=1) <= 0).all()
    assert (b["jet_pt"][:, 4:] == 0).all()


def test_adc2021_bad_files_name_file_and_problem(tmp_path: Path) -> None:
    with h5py.File(tmp_path / "shape.h5", "w") as f:
        f.create_dataset("Particles", data=np.zeros((3, 18, 4)))
    with pytest.raises(SourceError, match=r"shape.h5.*\(3, 18, 4\).*expected"):
        ADC2021Source(tmp_path / "shape.h5")
    with pytest.raises(SourceError, match="no dataset 'Other'"):
        ADC2021Source(tmp_path / "shape.h5", dataset="Other")
    (tmp_path / "junk.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(SourceError, match=r"junk\.h5: not a readable HDF5"):
        ADC2021Source(tmp_path / "junk.h5")
    with pytest.raises(SourceError, match="no such file"):
        ADC2021Source(tmp_path / "none.h5")


def test_adc2021_truncated_file(tmp_path: Path) -> None:
    adc_file(tmp_path / "full.h5", n=5000)
    data = (tmp_path / "full.h5").read_bytes()
    (tmp_path / "cut.h5").write_bytes(data[: len(data) // 2])
    def read() -> None:
        list(ADC2021Source(tmp_path / "cut.h5").batches(1000))

    with pytest.raises(SourceError, match=r"cut\.h5"):
        read()


def parquet_file(path: Path) -> None:
    pq.write_table(pa.table({
        "mu_pt": [[10.0, 30.0], [], [5.0]], "mu_eta": [[0.1, -1.0], [], [2.0]],
        "mu_phi": [[0.0, 3.0], [], [-3.0]], "mu_charge": [[1, -1], [], [1]],
        "jet_pt": [[100.0] * 14, [40.0], []], "jet_eta": [[0.0] * 14, [4.5], []],
        "jet_phi": [[1.0] * 14, [2.0], []], "htt": [500.0, 0.0, 0.0], "weight": [2.0, 1.0, 1.0],
    }), path, row_group_size=2)


def test_parquet_lists_are_sorted_truncated_and_converted(tmp_path: Path) -> None:
    parquet_file(tmp_path / "e.parquet")
    src = ParquetSource(tmp_path / "e.parquet")
    b = EventBatch.concat(list(src.batches(2)))
    assert len(src) == 3
    assert len(b) == 3
    assert b["mu_pt"][0, :3].tolist() == [60, 20, 0]
    assert b["mu_charge"][0, :2].tolist() == [-1, 1]
    assert b["mu_eta"][0, 0] == round(-1.0 / MU_ETA_LSB)
    assert b["mu_qual"][0, 0] == 0
    assert (b["jet_pt"][0] == 200).all()
    assert b["jet_eta"][1, 0] == round(4.5 / 0.0435)
    assert b["htt"].tolist() == [1000, 0, 0]
    assert b["weight"].tolist() == [2.0, 1.0, 1.0]


def test_parquet_column_mapping_and_errors(tmp_path: Path) -> None:
    pq.write_table(pa.table({"L1Jet_pt": [[50.0]], "x": [1]}), tmp_path / "m.parquet")
    b = next(ParquetSource(tmp_path / "m.parquet", columns={"jet_pt": "L1Jet_pt"}).batches(5))
    assert b["jet_pt"][0, 0] == 100
    with pytest.raises(SourceError, match="none of the l1emu columns"):
        ParquetSource(tmp_path / "m.parquet")
    with pytest.raises(SourceError, match=r"'nope'.*not in the file"):
        ParquetSource(tmp_path / "m.parquet", columns={"jet_pt": "nope"})
    with pytest.raises(SourceError, match="unknown l1emu column"):
        ParquetSource(tmp_path / "m.parquet", columns={"jets": "L1Jet_pt"})
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 garbage")
    with pytest.raises(SourceError, match=r"bad\.parquet: not a readable Parquet"):
        ParquetSource(tmp_path / "bad.parquet")


def root_file(path: Path) -> None:
    with uproot.recreate(path) as f:
        f.mktree("Events", {"L1EG_pt": "var * float64", "L1EG_eta": "var * float64",
                            "L1EG_phi": "var * float64", "met": "float64", "met_phi": "float64"})
        f["Events"].extend({"L1EG_pt": ak.Array([[30.0, 45.0], []]), "L1EG_eta": ak.Array([[0.5, -0.2], []]),
                            "L1EG_phi": ak.Array([[0.0, 1.0], []]), "met": np.array([50.0, 5.0]),
                            "met_phi": np.array([math.pi, 0.0])})


MAPPING = {"eg_pt": "L1EG_pt", "eg_eta": "L1EG_eta", "eg_phi": "L1EG_phi", "etm": "met", "etm_phi": "met_phi"}


def test_root_tree_with_branch_mapping(tmp_path: Path) -> None:
    root_file(tmp_path / "l1.root")
    src = RootSource(tmp_path / "l1.root", tree="Events", branches=MAPPING)
    b = next(src.batches(10))
    assert len(src) == 2
    assert b["eg_pt"][0, :2].tolist() == [90, 60]
    assert b["eg_eta"][0, 0] == round(-0.2 / 0.0435)
    assert b["eg_phi"][0, 0] == math.floor(1.0 / (2 * math.pi) * 144)
    assert b["etm"].tolist() == [100, 10]
    assert b["etm_phi"][0] == 72


def test_root_bad_files(tmp_path: Path) -> None:
    root_file(tmp_path / "l1.root")
    with pytest.raises(SourceError, match=r"tree 'Nope' not found; trees in the file: \['Events'\]"):
        RootSource(tmp_path / "l1.root", tree="Nope", branches=MAPPING)
    (tmp_path / "junk.root").write_bytes(b"root? no")
    with pytest.raises(SourceError, match=r"junk\.root: not a readable ROOT file"):
        RootSource(tmp_path / "junk.root")


def test_open_file_dispatches_on_content_and_suffix(tmp_path: Path) -> None:
    adc_file(tmp_path / "a.h5")
    write_batches(tmp_path / "l1.h5", [EventBatch.empty(3)])
    parquet_file(tmp_path / "e.parquet")
    root_file(tmp_path / "r.root")
    assert isinstance(open_file(tmp_path / "a.h5"), ADC2021Source)
    assert isinstance(open_file(tmp_path / "l1.h5"), HDF5Source)
    assert isinstance(open_file(tmp_path / "e.parquet"), ParquetSource)
    with pytest.raises(SourceError, match="none of the l1emu columns"):
        open_file(tmp_path / "r.root")  # needs a branch mapping
    (tmp_path / "x.csv").write_text("a,b")
    with pytest.raises(SourceError, match=r"unknown file type '\.csv'"):
        open_file(tmp_path / "x.csv")
