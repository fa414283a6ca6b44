"""FixedPointModel: hls4ml's predict conventions, blocks, threads, audit, save/load, errors."""

from __future__ import annotations

import dataclasses
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from emulator.fixedpoint import FixedPointError, FixedPointModel, FixedType, Overflow, Rounding
from emulator.fixedpoint.layers import Activation, Dense
from tests.test_fixedpoint_reference import ref_cast_value


@pytest.fixture(scope="module")
def model() -> FixedPointModel:
    """57 -> 8 (narrow wrapping accumulator) -> ReLU (ufixed RND_CONV SAT) -> 3."""
    rng = np.random.default_rng(3)
    t_in, t_w = FixedType(12, 4), FixedType(6, 2)
    acc1 = FixedType(10, 4)
    t_relu = FixedType(8, 3, signed=False, rounding=Rounding.RND_CONV, overflow=Overflow.SAT)
    acc2 = FixedType(20, 8)
    d1 = Dense("d1", t_in, acc1, (57,), (8,), weight=rng.integers(-32, 32, (57, 8)), bias=rng.integers(-32, 32, 8),
               weight_type=t_w, bias_type=t_w, accum_type=acc1)  # fmt: skip
    r1 = Activation("r1", acc1, t_relu, (8,), (8,), function="relu")
    d2 = Dense("d2", t_relu, acc2, (8,), (3,), weight=rng.integers(-32, 32, (8, 3)), bias=rng.integers(-32, 32, 3),
               weight_type=t_w, bias_type=t_w, accum_type=acc2)  # fmt: skip
    return FixedPointModel(t_in, (57,), (d1, r1, d2), name="toy")


def events(n: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(0, 3, (n, 57))
    x[0, :4] = [np.nan, np.inf, -np.inf, 1e30]
    return x


def test_dtypes_and_shapes_follow_hls4ml(model: FixedPointModel) -> None:
    x = events(10)
    y32 = model.predict(x.astype(np.float32))
    y64 = model.predict(x)
    assert (y32.dtype, y32.shape, y64.dtype, y64.shape) == (np.float32, (10, 3), np.float64, (10, 3))
    assert np.array_equal(y32, y64.astype(np.float32))  # outputs are few-bit: exact in both
    single = model.predict(x[3])
    assert single.shape == (3,)
    assert np.array_equal(single, y64[3])
    assert model.predict(x[3:4]).shape == (3,)  # hls4ml squeezes a single event too
    assert model.predict(x.reshape(10, 3, 19)).shape == (10, 3)
    assert model.predict(np.zeros((0, 57))).shape == (0, 3)
    ints = model.predict(np.ones((2, 57), np.int16))
    assert ints.dtype == np.float64
    assert np.array_equal(ints, model.predict(np.ones((2, 57))))


def test_mantissas_are_the_output_type(model: FixedPointModel) -> None:
    x = events(20)
    m = model.predict_mantissas(x)
    assert m.dtype == np.int64
    assert np.array_equal(m * model.output_type.lsb, model.predict(x))


def test_blocks_and_threads_do_not_change_results(model: FixedPointModel) -> None:
    x = events(5000, seed=1)
    whole = model.predict(x)
    tiny = dataclasses.replace(model, block_size=7)
    assert np.array_equal(tiny.predict(x), whole)
    with ThreadPoolExecutor(4) as pool:
        parts = list(pool.map(model.predict, np.array_split(x, 8)))
    assert np.array_equal(np.concatenate(parts), whole)


def test_input_cast_is_ap_fixed_of_the_double(model: FixedPointModel) -> None:
    x = np.array([[0.1, -0.1, 40.0, -1e-300, np.nan] + [0.0] * 52])
    free = FixedPointModel(model.input_type, (57,), ())
    assert free.predict_mantissas(x)[0, :5].tolist() == [ref_cast_value(float(v), model.input_type) for v in x[0, :5]]


def test_audit_counts_overflows_per_layer_and_site(model: FixedPointModel) -> None:
    x = events(2000)
    rep = model.audit(x)
    assert np.array_equal(rep.output, model.predict(x))
    sites = {(s.layer, s.site): s for s in rep.sites}
    assert sites[("input", "input")].nonfinite == 3  # nan, inf, -inf
    assert sites[("input", "input")].values == 2000 * 57
    assert sites[("d1", "accumulate")].overflowed > 0  # ap_fixed<10,4> wraps on these inputs
    assert sites[("d1", "accumulate")].mode == "WRAP"
    assert sites[("r1", "result")].verb == "saturated"
    assert rep.by_layer()["d2"] == 0
    assert "d1" in str(rep)
    assert rep.to_dict()["n_events"] == 2000


def test_save_load_round_trip_without_pickle(model: FixedPointModel, tmp_path: Path) -> None:
    root = model.save(tmp_path / "toy")
    assert sorted(p.name for p in root.iterdir()) == ["arrays.npz", "model.json"]
    with np.load(root / "arrays.npz", allow_pickle=False) as npz:
        assert all(npz[k].dtype == np.int64 for k in npz.files)
    doc = json.loads((root / "model.json").read_text())
    assert doc["layers"][0]["accum_type"] == "ap_fixed<10,4>"
    back = FixedPointModel.load(root)
    x = events(300)
    assert np.array_equal(back.predict(x), model.predict(x))
    assert back.summary() == model.summary()


def test_load_errors_name_the_file(model: FixedPointModel, tmp_path: Path) -> None:
    with pytest.raises(FixedPointError, match="cannot read"):
        FixedPointModel.load(tmp_path / "missing")
    root = model.save(tmp_path / "toy")
    doc = json.loads((root / "model.json").read_text())
    doc["layers"][1]["kind"] = "lstm"
    (root / "model.json").write_text(json.dumps(doc))
    with pytest.raises(FixedPointError, match=r"model.json: layers\[1\]: unknown layer kind 'lstm'"):
        FixedPointModel.load(root)
    doc["format"] = "other"
    (root / "model.json").write_text(json.dumps(doc))
    with pytest.raises(FixedPointError, match="not a l1emu-fixedpoint"):
        FixedPointModel.load(root)


def test_chain_types_must_connect(model: FixedPointModel) -> None:
    with pytest.raises(FixedPointError, match="layer 'd2' expects"):
        FixedPointModel(model.input_type, (57,), (model.layers[0], model.layers[2]))


def test_bad_input_shapes(model: FixedPointModel) -> None:
    with pytest.raises(FixedPointError, match=r"shape \(4, 56\)"):
        model.predict(np.zeros((4, 56)))
    with pytest.raises(FixedPointError, match="must be numbers"):
        model.predict(np.array([["a"] * 57]))


def test_costs_and_summary(model: FixedPointModel) -> None:
    costs = model.costs()
    assert [c.name for c in costs] == ["d1", "r1", "d2"]
    assert costs[0].multiplications == int(np.count_nonzero(model.layers[0].weight))  # type: ignore[attr-defined]
    assert costs[1].multiplications == 0
    assert costs[0].reuse_factor == 1
    assert (model.input_shape, model.output_shape, model.n_outputs) == ((57,), (3,), 3)
    assert "d1" in model.summary()
    assert "[wrap]" in model.summary()
