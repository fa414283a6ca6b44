"""The ``model`` algorithm: an imported multi-head model on a named view, each head a column, in a chain."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from emulator.algorithm import BuildContext
from emulator.algorithms.imported import ImportedModel
from emulator.chain import load_chain
from emulator.executor import ReplayOptions
from emulator.fixedpoint import FixedPointGraph, FixedType, GraphInput, Node
from emulator.fixedpoint.layers import Activation, Dense
from emulator.pipeline import Pipeline
from emulator.replay import replay
from streams.errors import ConfigError
from streams.event import EventBatch
from streams.sources import open_source
from tests.helpers import ROOT, write_config


def _two_heads(n_in: int, seed: int) -> FixedPointGraph:
    """A dense head of 3 values and a ReLU -> dense head of 1 value, behind one input."""
    rng = np.random.default_rng(seed)
    t_in, t_w, t_acc = FixedType(16, 12), FixedType(8, 2), FixedType(32, 18)
    t_out = FixedType.parse("ap_ufixed<12,8,AP_RND_CONV,AP_SAT>")
    d1 = Dense("d1", t_in, t_acc, (n_in,), (3,), weight=rng.integers(-64, 64, (n_in, 3)),
               bias=rng.integers(-8, 8, 3), weight_type=t_w, bias_type=t_w, accum_type=t_acc)  # fmt: skip
    relu = Activation("relu", t_acc, t_out, (3,), (3,), function="relu")
    d2 = Dense("d2", t_out, t_acc, (3,), (1,), weight=rng.integers(-64, 64, (3, 1)), bias=np.array([3]),
               weight_type=t_w, bias_type=t_w, accum_type=t_acc)  # fmt: skip
    nodes = (Node(d1, ("x",), "d1"), Node(relu, ("d1",), "relu"), Node(d2, ("relu",), "d2"))
    return FixedPointGraph((GraphInput("x", t_in, (n_in,)),), nodes, ("d1", "d2"), name="two_heads")


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("imported")
    return {"columns": _two_heads(24, 1).save(root / "jets"), "tagger": _two_heads(7, 2).save(root / "per_jet")}


def test_heads_become_columns(model_dirs: dict[str, Path], zb_batch: EventBatch) -> None:
    ctx = BuildContext(Path("configs"))
    params = {"model": str(model_dirs["columns"]), "view": "columns", "columns": ["jet_pt", "jet_eta"]}
    algo = ImportedModel.build("ds", params, ctx)
    out = algo.process(zb_batch)
    assert algo.outputs == ("ds_d1", "ds_d2")
    assert out["ds_d1"].shape == (len(zb_batch), 3)
    assert out["ds_d2"].shape == (len(zb_batch),)
    x = np.concatenate([zb_batch["jet_pt"], zb_batch["jet_eta"]], axis=1).astype(np.float64)
    want = FixedPointGraph.load(model_dirs["columns"]).predict(x)
    assert isinstance(want, list)
    assert np.array_equal(out["ds_d2"], want[1][:, 0].astype(np.float32))
    assert algo.latency_cycles(240.0) >= 3
    per_jet = ImportedModel.build("tau", {"model": str(model_dirs["tagger"]), "view": "tagger"}, ctx)
    tagged = per_jet.process(zb_batch)
    assert tagged["tau_d1"].shape == (len(zb_batch), 12, 3)
    assert tagged["tau_d2"].shape == (len(zb_batch), 12)


def test_config_errors_name_the_algorithm(model_dirs: dict[str, Path]) -> None:
    ctx = BuildContext(Path("configs"))
    with pytest.raises(ConfigError, match=r"'bad'.*view 'axol1tl' gives 57"):
        ImportedModel.build("bad", {"model": str(model_dirs["columns"]), "view": "axol1tl"}, ctx)
    with pytest.raises(ConfigError, match=r"needs params\.columns"):
        ImportedModel.build("bad", {"model": str(model_dirs["columns"])}, ctx)
    with pytest.raises(ConfigError, match="view 'jets' is not one of"):
        ImportedModel.build("bad", {"model": str(model_dirs["columns"]), "view": "jets"}, ctx)


def test_runs_as_a_stage_of_the_chain(model_dirs: dict[str, Path], zb_batch: EventBatch, tmp_path: Path) -> None:
    anchor = "      - type: cicada "
    stage = (
        f"      - type: model\n        name: ds\n        params: {{model: {model_dirs['columns']}, "
        "view: columns, columns: [jet_pt, jet_eta]}\n" + anchor
    )
    chain = load_chain(write_config(tmp_path / "chain.yaml", **{anchor: stage}))
    batch = Pipeline.from_chain(chain).run(zb_batch)
    assert batch["ds_d1"].shape == (len(zb_batch), 3)
    assert "ds_d2" in batch
    assert "seeds_raw" in batch


def _head_menu(path: Path, cuts: dict[str, float]) -> Path:
    """A menu whose seeds cut on model head columns (and a zero-bias seed)."""
    seeds = [{"name": f"L1_{column}", "prescale": 1, "conditions": [{"score": column, "min": cut}]}
             for column, cut in cuts.items()]  # fmt: skip
    seeds.append({"name": "L1_ZeroBias", "prescale": 1, "conditions": [{"always": True}]})
    path.write_text(yaml.safe_dump({"name": "heads", "columns": ["only"], "default_column": "only", "seeds": seeds}))
    return path


def _cut_between(values: np.ndarray, quantile: float) -> float:
    """A threshold halfway between two distinct values near ``quantile``: no value sits on it."""
    distinct = np.unique(values.astype(np.float64))
    k = min(max(int(quantile * len(distinct)), 1), len(distinct) - 1)
    return float((distinct[k - 1] + distinct[k]) / 2)


def test_menu_cuts_on_heads_in_a_replay(model_dirs: dict[str, Path], tmp_path: Path) -> None:
    """A two-head model is a stage of a replay; seeds cut on its one-value head and on one value of its
    three-value head (``split``), and fire exactly on the events whose head passes the cut.

    In process (the executors' reference; the streamed replay, 24 s more, runs the same pipeline)."""
    anchor = "      - type: cicada "
    stage = (
        f"      - type: model\n        name: ds\n        params: {{model: {model_dirs['columns']}, "
        "view: columns, columns: [jet_pt, jet_eta], split: true}\n" + anchor
    )
    events = 8192
    source = open_source(None, events=events, mu=60.0, seed=1)
    probe = load_chain(write_config(tmp_path / "probe.yaml", **{anchor: stage}))
    batches = [Pipeline.from_chain(probe).run(b) for b in source.batches(probe.stream.batch_size)]
    heads = {c: np.concatenate([b[c] for b in batches]) for c in ("ds_d2", "ds_d1_2")}
    assert all(b["ds_d1"].shape == (len(b), 3) for b in batches)
    cuts = {c: _cut_between(v, 0.6) for c, v in heads.items()}
    menu = _head_menu(tmp_path / "heads.yaml", cuts)
    config = write_config(tmp_path / "chain.yaml", **{anchor: stage, f"menu: {ROOT}/configs/menus/cms2024.yaml":
                                                      f"menu: {menu}"})  # fmt: skip
    report = replay(ReplayOptions(config=config, events=events, in_process=True))
    assert report["accounting_ok"]
    counts = {name: seed["count"] for name, seed in report["seeds"].items()}
    want = {f"L1_{c}": int((v >= cuts[c]).sum()) for c, v in heads.items()}
    assert counts == {**want, "L1_ZeroBias": events}
    assert all(0 < n < events for n in want.values())
