"""A sample's missing pools are generated in parallel processes (identical to serial ones: Pythia is
seeded from the settings, as tests/test_dask_generate.py shows for Dask's worker processes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from streams.errors import ConfigError
from streams.generators.pool import PoolSettings, load_pool
from streams.generators.pool_jobs import available_cpus, default_jobs, missing_pools, prefetch_pools

pytestmark = pytest.mark.pythia


def test_missing_pools_are_made_in_child_processes_as_serially(tmp_path: Path) -> None:
    small = PoolSettings(events=10, seed=5)
    big = PoolSettings(events=20, seed=6)
    assert missing_pools([small, big, small], tmp_path / "p") == [big, small]  # distinct, largest first

    made = prefetch_pools([small, big, small], cache_dir=tmp_path / "p", jobs=2)
    assert made == [big, small]
    assert missing_pools([small, big], tmp_path / "p") == []
    assert prefetch_pools([small, big], cache_dir=tmp_path / "p", jobs=2) == []  # all cached: nothing to do

    for s in (small, big):  # read back under their own settings' key, whole
        pool = load_pool(s, cache_dir=tmp_path / "p")
        assert len(pool) == s.events
        assert pool.sigma_mb > 0
        assert np.all(np.diff(pool.offsets) >= 0)
        assert pool.offsets[-1] > 0


def test_one_job_leaves_generation_to_the_caller(tmp_path: Path) -> None:
    assert prefetch_pools([PoolSettings(events=30, seed=5), PoolSettings(events=30, seed=6)],
                          cache_dir=tmp_path, jobs=1) == []
    assert not list(tmp_path.iterdir())


def test_the_variable_sets_the_jobs_and_a_bad_value_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("L1EMU_POOL_JOBS", "3")
    assert default_jobs() == 3
    monkeypatch.setenv("L1EMU_POOL_JOBS", "0")
    with pytest.raises(ConfigError, match=r"L1EMU_POOL_JOBS='0'"):
        default_jobs()
    monkeypatch.delenv("L1EMU_POOL_JOBS")
    assert default_jobs() == available_cpus()
