"""The one in-process stage loop: selection, hooks, timings, warm-up."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emulator.chain import load_chain
from emulator.pipeline import Pipeline
from streams.errors import ConfigError
from streams.event import EventBatch
from streams.sources.parametric import ParametricConfig, ParametricSource

ROOT = Path(__file__).resolve().parents[1]
CHAIN = load_chain(ROOT / "configs" / "default.yaml")


def _types(p: Pipeline) -> list[str]:
    return [spec.type for _, spec, _ in p.algorithms()]


def test_selections_build_the_named_part_of_the_chain() -> None:
    assert Pipeline.from_chain(CHAIN).stage_names == ("calo_layer1", "objects", "global_trigger")
    one = Pipeline.from_chain(CHAIN, stages=["objects"])
    assert one.stage_names == ("objects",)
    assert one.upstream == ("calo_layer1",)
    assert Pipeline.from_chain(CHAIN, upto="objects").stage_names == ("calo_layer1", "objects")
    assert "menu" not in _types(Pipeline.from_chain(CHAIN, skip_types={"MENU"}))
    assert _types(Pipeline.from_chain(CHAIN, before_type="cicada")) == ["region_calibration", "region_sums"]
    with pytest.raises(ConfigError, match="no stage named 'nosuch'"):
        Pipeline.from_chain(CHAIN, stages=["nosuch"])
    with pytest.raises(ConfigError, match="either stages or upto"):
        Pipeline.from_chain(CHAIN, stages=["objects"], upto="objects")


def test_run_equals_process_and_the_hook_sees_every_algorithm_in_order(zb_batch: EventBatch) -> None:
    pipe = Pipeline.from_chain(CHAIN)
    seen: list[tuple[str, str, int]] = []
    out = pipe.run(zb_batch, before=lambda cfg, spec, algo, b: seen.append((cfg.name, algo.name, len(b.columns))))
    assert [name for _, name, _ in seen] == [a.name for _, _, a in pipe.algorithms()]
    assert [n for _, _, n in seen] == sorted(n for _, _, n in seen)  # each algorithm adds columns
    plain = pipe.process(zb_batch)
    assert np.array_equal(out["seeds_raw"], plain["seeds_raw"])
    assert {k: len(t.batch) for k, t in pipe.timings.items()} == dict.fromkeys(pipe.stage_names, 1)


def test_run_source_keeps_order_and_times_every_batch() -> None:
    pipe = Pipeline.from_chain(CHAIN, upto="calo_layer1")
    src = ParametricSource(ParametricConfig(events=2500, mu=60, seed=5))
    outs = list(pipe.run_source(src, 1000))
    assert [len(b) for b in outs] == [1000, 1000, 500]
    assert len(pipe.timings["calo_layer1"].batch) == 3
    assert pipe.timings["calo_layer1"].event.summary_us()["samples"] == 3


def test_warm_up_of_a_later_stage_builds_its_inputs_and_resets_timings() -> None:
    pipe = Pipeline.from_chain(CHAIN, stages=["global_trigger"])
    pipe.warm_up(events=64)  # the menu reads scores of earlier stages: they run first
    assert len(pipe.timings["global_trigger"].batch) == 0
