"""The replay on a real Dask LocalCluster of worker processes: counts as in process, faults."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.replay import ReplayOptions, replay
from streams.errors import SourceError
from streams.hdf5 import write_batches
from streams.shards import Shard, write_manifest
from streams.sources import open_source
from tests.helpers import DEFAULT_CONFIG, balanced, seed_counts

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.integration

EVENTS = 16_384
BATCH = 1024  # small batches: many partitions from few events


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """Two worker processes, one thread each, no dashboard."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as c, distributed.Client(c) as client:
        yield client


def _opts(**kw: Any) -> ReplayOptions:
    return ReplayOptions(config=DEFAULT_CONFIG, events=EVENTS, batch_size=BATCH, **kw)


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    return replay(_opts(in_process=True))


def _same_rates(report: dict[str, Any], reference: dict[str, Any]) -> None:
    assert balanced(report), report["events"]
    assert report["events"] == reference["events"]
    assert seed_counts(report) == seed_counts(reference)
    for key in ("seeds", "overlap", "pileup", "total_rate_khz"):
        assert report[key] == reference[key], key
    assert set(report) == set(reference)


@pytest.mark.parametrize("partition_events", [BATCH, 5 * BATCH], ids=["16-partitions", "4-partitions"])
def test_counts_identical_to_in_process(cluster: Any, reference: dict[str, Any], partition_events: int) -> None:
    report = replay(_opts(dask=cluster.scheduler.address, partition_events=partition_events))
    _same_rates(report, reference)
    run = report["run"]
    assert run["executor"] == "dask"
    assert run["dask"]["workers"] == 2
    assert run["dask"]["partitions"] == -(-EVENTS // partition_events)
    assert run["dask"]["skipped"] == []
    assert set(report["latency_us"]["stages"]) == {"calo_layer1", "objects", "global_trigger"}
    assert report["latency_us"]["stages"]["objects"]["per_batch_us"]["samples"] == EVENTS // BATCH


@pytest.mark.timeout(240)  # a hang here (as_completed on a lost result, dask#8882) fails in minutes
def test_killed_worker_changes_no_count(cluster: Any, reference: dict[str, Any]) -> None:
    """kill -9 a worker process that is running a partition: Dask reruns its tasks elsewhere."""
    pids: dict[str, int] = cluster.run(os.getpid)
    killed: list[tuple[int, int]] = []  # (pid, events done when it was killed)

    def on_progress(done: int, total: int) -> None:
        if killed:
            return
        busy = [w for w, keys in cluster.processing().items() if keys]
        assert busy, "no worker is running a partition"
        os.kill(pids[busy[0]], signal.SIGKILL)
        killed.append((pids[busy[0]], done))

    report = replay(_opts(dask=cluster.scheduler.address, partition_events=BATCH), on_progress=on_progress)
    assert killed
    assert killed[0][1] < EVENTS  # mid-run
    _same_rates(report, reference)
    cluster.wait_for_workers(2, timeout=60)  # the nanny restarted the killed one
    assert killed[0][0] not in cluster.run(os.getpid).values()


@pytest.fixture
def manifest_with_bad_shard(tmp_path: Path) -> tuple[Path, Path]:
    """Three shards of 4096 parametric events; the middle one truncated."""
    src = open_source(None, events=3 * 4096, mu=60.0, seed=1)
    (tmp_path / "m.shards").mkdir()
    shards = []
    for i, batch in enumerate(src.batches(4096)):
        name = f"m.shards/s{i}.h5"
        shards.append(Shard(name, batch.meta.first, write_batches(tmp_path / name, [batch])))
    write_manifest(tmp_path / "m.h5", shards, provenance={})
    bad = tmp_path / "m.shards" / "s1.h5"
    bad.write_bytes(bad.read_bytes()[:2000])
    return tmp_path / "m.h5", bad


def test_bad_partition_is_named_or_skipped(cluster: Any, manifest_with_bad_shard: tuple[Path, Path]) -> None:
    manifest, bad = manifest_with_bad_shard
    opts = ReplayOptions(config=DEFAULT_CONFIG, source=str(manifest), dask=cluster.scheduler.address)
    with pytest.raises(SourceError, match=r"partition 1 \(events 4096-8191 of s1.h5\).*s1.h5"):
        replay(opts)
    report = replay(ReplayOptions(**{**_fields(opts), "skip_bad": True}))
    assert report["accounting_ok"]
    ev = report["events"]
    assert (ev["produced"], ev["errored"], ev["accepted"] + ev["rejected"]) == (3 * 4096, 4096, 2 * 4096)
    (skipped,) = report["run"]["dask"]["skipped"]
    assert (skipped["partition"], skipped["first"], skipped["events"]) == (1, 4096, 4096)
    assert skipped["shard"] == str(bad)
    assert "SourceError" in skipped["error"]
    with pytest.raises(SourceError, match=r"s1\.h5"):  # the other executors check the shards first
        replay(ReplayOptions(config=DEFAULT_CONFIG, source=str(manifest), in_process=True))


def _fields(opts: ReplayOptions) -> dict[str, Any]:
    return {f: getattr(opts, f) for f in opts.__dataclass_fields__}
