"""Project directories written by hls4ml 0.8.1, read without hls4ml or a compiler.

``tests/data/hls4ml-0.8.1/`` holds the text of three projects hls4ml 0.8.1 wrote (PyTorch
front end, Vivado backend; a torch MLP 10 -> 16 ReLU -> 8 sigmoid -> 3 softmax, model-wide
``ap_fixed<16,6>``): ``parallel_stable`` (io_parallel, Latency, hls4ml's default stable
softmax), ``parallel_latency`` (the same with ``softmax_implementation::latency`` edited in)
and ``stream_resource`` (io_stream, Resource strategy; ``axis = 1`` edited to ``-1``, which
0.8.1's own stream softmax asserts on). ``expected.npz`` holds what each project's top
function, compiled with g++ against hls4ml 0.8.1's own ``nnet_utils``, returned for the
events below (5 000, with NaN, ±inf, ±10³⁰, tiny values and exact ties). hls4ml 0.8 sizes
arrays with ``#define`` macros and its softmax differs from 1.3's (one ``table_size``;
``exp_table_t`` sums and addresses the inverse table; the stable variant normalises
``x − max`` in the input's format with ``AP_RND, AP_SAT``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emulator.fixedpoint import FixedPointGraph, FixedPointModel, UnsupportedLayerError

DATA = Path(__file__).parent / "data" / "hls4ml-0.8.1"


def _events(n: int = 5000, seed: int = 8) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 3, (n, 10))
    x[1000:2000] = (np.round(rng.normal(0, 3, (1000, 10)) * 2**10) + 0.5) / 2**10
    x[:8, 0] = [np.nan, np.inf, -np.inf, 1e30, -1e30, 1e-300, -1e-300, -0.0]
    x[10:100] *= 40
    return x.astype(np.float32)


@pytest.mark.parametrize("name", ["parallel_stable", "parallel_latency", "stream_resource"])
def test_hls4ml_08_project_equals_its_compiled_library(name: str) -> None:
    want = np.load(DATA / "expected.npz")[name]
    graph = FixedPointGraph.from_hls4ml_project(DATA / name)
    got = graph.predict(_events())
    assert isinstance(got, np.ndarray)
    differ = np.flatnonzero((got != want).any(axis=1))
    assert differ.size == 0, f"{name}: {differ.size} of {len(want)} events differ, first {differ[:5]}"
    softmax = graph.nodes[-1].op
    assert softmax.implementation == ("latency" if name == "parallel_latency" else "stable_v0")  # type: ignore[attr-defined]
    assert graph.source["io_type"] == ("io_stream" if name.startswith("stream") else "io_parallel")
    chain = FixedPointModel.from_hls4ml_project(DATA / name)  # one chain: the FixedPointModel path too
    assert np.array_equal(chain.predict(_events()), want)


def test_stream_softmax_on_another_axis_is_refused(tmp_path: Path) -> None:
    """As hls4ml 0.8.1's PyTorch front end wrote it: the stream kernel would abort on its assert."""
    import shutil

    shutil.copytree(DATA / "stream_resource", tmp_path / "p")
    params = tmp_path / "p" / "firmware" / "parameters.h"
    params.write_text(params.read_text().replace("axis = -1;", "axis = 1;"))
    with pytest.raises(UnsupportedLayerError, match=r"layer 'softmax'.*axis = 1"):
        FixedPointGraph.from_hls4ml_project(tmp_path / "p")
