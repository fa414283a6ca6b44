from __future__ import annotations

from pathlib import Path

import pytest

from emulator.chain import load_chain
from emulator.replay import chain_overrides
from emulator.topology import build_plan, scrape_config
from streams.errors import ConfigError
from tests.helpers import DEFAULT_CONFIG


def _chain(**kw: object) -> object:
    return load_chain(DEFAULT_CONFIG, overrides=chain_overrides(DEFAULT_CONFIG, **kw))  # type: ignore[arg-type]


def test_each_layer_connects_to_every_output_of_the_layer_before() -> None:
    chain = _chain(workers=2, transport="tcp", metrics_port=9000)
    plan = build_plan(chain, producers=2)  # type: ignore[arg-type]
    assert [p.output for p in plan.producers] == ["tcp://127.0.0.1:5550", "tcp://127.0.0.1:5551"]
    calo, objects, gt = plan.stages
    assert all(w.inputs == ("tcp://127.0.0.1:5550", "tcp://127.0.0.1:5551") for w in calo)
    assert all(w.inputs == tuple(c.output for c in calo) for w in objects)
    assert plan.collector.inputs == tuple(w.output for w in gt)
    ports = [n.metrics_port for n in plan.nodes]
    assert ports == list(range(9000, 9000 + len(plan.nodes)))
    assert len({n.output for n in plan.nodes if n.output}) == len(plan.nodes) - 1


def test_ipc_needs_a_directory_and_scrape_config_needs_metrics(tmp_path: Path) -> None:
    chain = _chain(workers=1, transport="ipc")
    with pytest.raises(ConfigError, match="ipc directory"):
        build_plan(chain)  # type: ignore[arg-type]
    plan = build_plan(chain, ipc_dir=str(tmp_path))  # type: ignore[arg-type]
    assert plan.worker("objects", 0).output == f"ipc://{tmp_path}/objects-0"
    with pytest.raises(ConfigError, match=r"metrics\.base_port is 0"):
        scrape_config(chain, plan)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="no worker 3"):
        plan.worker("objects", 3)


def test_scrape_config_lists_every_node() -> None:
    chain = _chain(workers=3, transport="tcp", metrics_port=9100)
    plan = build_plan(chain)  # type: ignore[arg-type]
    cfg = scrape_config(chain, plan, interval_s=0.5, hosts={"collector": "10.1.1.1"})  # type: ignore[arg-type]
    assert cfg["global"]["scrape_interval"] == "500ms"
    targets = [t for job in cfg["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]]
    assert len(targets) == len(plan.nodes) == 11
    assert f"10.1.1.1:{plan.collector.metrics_port}" in targets
