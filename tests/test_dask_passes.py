"""Threshold scans and calibration scores with their pass on a Dask LocalCluster: the in-process results."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from emulator.calibrate import chain_scores
from emulator.chain import load_chain
from emulator.distributed import DaskPasses
from emulator.studies.scan import parse_range, scan_thresholds
from streams.run import SourceSpec
from streams.run.dask import DaskSession, DaskTarget
from streams.sources import open_source
from tests.helpers import DEFAULT_CONFIG

pytest.importorskip("distributed")

pytestmark = pytest.mark.integration

SPEC = SourceSpec(path=None, events=3 * 4096 - 100, mu=60.0, seed=3)


@pytest.fixture(scope="module")
def dask() -> Iterator[DaskSession]:
    with DaskSession(DaskTarget(workers=2), dashboard_address=None) as session:
        yield session


def _passes(dask: DaskSession) -> DaskPasses:
    source = open_source(SPEC.path, events=SPEC.events, mu=SPEC.mu, seed=SPEC.seed)
    return DaskPasses(dask, SPEC, source, partition_events=4096)


def test_scan_on_dask_is_the_in_process_scan(dask: DaskSession) -> None:
    chain = load_chain(DEFAULT_CONFIG)
    source = open_source(SPEC.path, events=SPEC.events, mu=SPEC.mu, seed=SPEC.seed)
    requests = [("L1_SingleJet180", "pt"), ("L1_HTT280er", "htt"), ("L1_SingleMu7", "pt")]
    args = (chain, source, requests, parse_range("20:300:20"))
    passes = _passes(dask)
    assert scan_thresholds(*args, target_khz=5.0, passes=passes) == scan_thresholds(*args, target_khz=5.0)
    assert passes.stats == {"partitions": 3, "events": SPEC.events}


def test_calibration_scores_on_dask(dask: DaskSession) -> None:
    chain = load_chain(DEFAULT_CONFIG)
    columns = ["score_axol1tl", "score_cicada"]
    source = open_source(SPEC.path, events=SPEC.events, mu=SPEC.mu, seed=SPEC.seed)
    here = chain_scores(chain, source.batches(chain.stream.batch_size), columns)
    there = chain_scores(chain, None, columns, passes=_passes(dask))
    assert sorted(there) == sorted(here) == sorted([*columns, "weight"])
    for c in here:
        np.testing.assert_array_equal(there[c], here[c], err_msg=c)
