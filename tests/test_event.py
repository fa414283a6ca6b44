from __future__ import annotations

import numpy as np
import pytest

from streams.errors import WireFormatError
from streams.event import BatchMeta, EventBatch
from streams.schema import BASE_COLUMNS, COLLECTIONS
from streams.views import axol1tl_features, physical, sum_physical


def test_empty_batch_has_every_base_column_with_schema_shapes() -> None:
    b = EventBatch.empty(5)
    assert len(b) == 5
    for spec in BASE_COLUMNS.values():
        assert b[spec.name].shape == (5, *spec.shape)
        assert b[spec.name].dtype == spec.dtype
    assert b["eg_pt"].shape == (5, 12)
    assert b["mu_charge"].shape == (5, 8)
    assert b["regions"].shape == (5, 18, 14)


def test_missing_or_mistyped_base_column_is_rejected_by_name() -> None:
    cols = dict(EventBatch.empty(3).columns)
    cols["jet_pt"] = cols["jet_pt"].astype(np.int32)
    with pytest.raises(WireFormatError, match="jet_pt"):
        EventBatch(cols)
    del cols["jet_pt"]
    with pytest.raises(WireFormatError, match="missing base column 'jet_pt'"):
        EventBatch(cols)


def test_with_columns_appends_without_copying_inputs() -> None:
    b = EventBatch.empty(4, meta=BatchMeta(first=100))
    out = b.with_columns(score=np.arange(4, dtype=np.float32))
    assert "score" in out
    assert "score" not in b
    assert out["jet_pt"] is b["jet_pt"]
    assert out.gid.tolist() == [100, 101, 102, 103]


def test_extra_columns_are_checked() -> None:
    b = EventBatch.empty(4)
    with pytest.raises(WireFormatError, match="dtype"):
        b.with_columns(bad=np.zeros(4, dtype=np.complex64))
    with pytest.raises(WireFormatError, match="3 events, expected 4"):
        b.with_columns(short=np.zeros(3, dtype=np.float32))
    with pytest.raises(WireFormatError, match="invalid column name"):
        b.with_columns(**{"no spaces": np.zeros(4, dtype=np.float32)})


def test_concat_and_select() -> None:
    a, b = EventBatch.empty(2), EventBatch.empty(3)
    c = EventBatch.concat([a, b])
    assert len(c) == 5
    assert len(c.select(slice(1, 3))) == 2


def test_physical_view_converts_hardware_units() -> None:
    b = EventBatch.empty(1)
    cols = dict(b.columns)
    cols["jet_pt"] = np.array([[200] + [0] * 11], np.int16)  # 100 GeV
    cols["jet_eta"] = np.array([[-23] + [0] * 11], np.int16)  # -1.0005
    cols["jet_phi"] = np.array([[108] + [0] * 11], np.int16)  # 3/4 turn -> -pi/2
    cols["mu_eta"] = np.array([[92] + [0] * 7], np.int16)  # 1.0005
    b = EventBatch(cols)
    jets = physical(b, "jet")
    assert jets["pt"][0, 0] == pytest.approx(100.0)
    assert jets["eta"][0, 0] == pytest.approx(-23 * 0.0435, rel=1e-6)
    assert jets["phi"][0, 0] == pytest.approx(-np.pi / 2, rel=1e-6)
    assert physical(b, "muon")["eta"][0, 0] == pytest.approx(92 * 0.010875, rel=1e-6)
    et, phi = sum_physical(b, "htt")
    assert phi is None
    assert et[0] == 0


def test_axol1tl_view_layout(zb_batch: EventBatch) -> None:
    x = axol1tl_features(zb_batch)
    assert x.shape == (len(zb_batch), 57)
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x[:, 0], zb_batch["etm"])
    np.testing.assert_array_equal(x[:, 1], 0)
    np.testing.assert_array_equal(x[:, 3:15:3], zb_batch["eg_pt"][:, :4])
    np.testing.assert_array_equal(x[:, 15:27:3], zb_batch["mu_pt"][:, :4])
    np.testing.assert_array_equal(x[:, 27::3], zb_batch["jet_pt"][:, :10])
    np.testing.assert_array_equal(x[:, 28::3], zb_batch["jet_eta"][:, :10])
    phys = axol1tl_features(zb_batch, units="physical")
    np.testing.assert_allclose(phys[:, 27], zb_batch["jet_pt"][:, 0] * 0.5)
    with pytest.raises(ValueError, match="units"):
        axol1tl_features(zb_batch, units="furlongs")


def test_collections_match_issue_multiplicities() -> None:
    assert {k: c.size for k, c in COLLECTIONS.items()} == {"egamma": 12, "tau": 12, "jet": 12, "muon": 8}
