from __future__ import annotations

from pathlib import Path

import pytest

from emulator.chain import ChainConfig
from emulator.launch import load_run_chain
from streams.errors import ConfigError
from streams.run import AddressPlan, ChainOverrides, build_plan, scrape_config
from tests.helpers import DEFAULT_CONFIG


def _chain(**kw: object) -> ChainConfig:
    return load_run_chain(DEFAULT_CONFIG, ChainOverrides(**kw))  # type: ignore[arg-type]


def _plan(chain: ChainConfig, **kw: object) -> AddressPlan:
    return build_plan(chain.stream, chain.metrics, [(s.name, s.workers) for s in chain.stages], **kw)  # type: ignore[arg-type]


def _scrape(chain: ChainConfig, plan: AddressPlan, **kw: object) -> dict[str, object]:
    return scrape_config(plan, stream=chain.stream, metrics=chain.metrics, chain=chain.name,  # type: ignore[arg-type]
                         where=chain.path, **kw)


def test_each_layer_connects_to_every_output_of_the_layer_before() -> None:
    chain = _chain(workers=2, transport="tcp", metrics_port=9000)
    plan = _plan(chain, producers=2)
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
        _plan(chain)
    plan = _plan(chain, ipc_dir=str(tmp_path))
    assert plan.worker("objects", 0).output == f"ipc://{tmp_path}/objects-0"
    with pytest.raises(ConfigError, match=r"default\.yaml: metrics\.base_port is 0"):
        _scrape(chain, plan)
    with pytest.raises(ConfigError, match="no worker 3"):
        plan.worker("objects", 3)
    with pytest.raises(ConfigError, match="no node named 'nope'"):
        plan.node("nope")


def test_scrape_config_lists_every_node() -> None:
    chain = _chain(workers=3, transport="tcp", metrics_port=9100)
    plan = _plan(chain)
    cfg = _scrape(chain, plan, interval_s=0.5, hosts={"collector": "10.1.1.1"})
    assert cfg["global"] == {"scrape_interval": "500ms", "evaluation_interval": "500ms"}
    jobs = cfg["scrape_configs"]
    assert isinstance(jobs, list)
    targets = [t for job in jobs for sc in job["static_configs"] for t in sc["targets"]]
    assert len(targets) == len(plan.nodes) == 11
    assert f"10.1.1.1:{plan.collector.metrics_port}" in targets
