"""The launch plan: what the parent resolves is exactly what each child reads back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emulator.launch import launch_plan, load_run_chain, resolve_launch
from l1emu.cli import build_parser
from l1emu.commands._common import command_line
from streams.errors import ConfigError
from streams.run import ChainOverrides, LaunchPlan, SourceSpec, child_args, read_launch_plan, write_launch_plan
from streams.security import create_keys
from tests.helpers import DEFAULT_CONFIG, run_cli, write_config


@pytest.fixture
def resolved(tmp_path: Path) -> LaunchPlan:
    cfg = write_config(tmp_path / "chain.yaml", **{"stream:\n": "stream:\n  curve: {enabled: true, keys_dir: keys}\n"})
    overrides = ChainOverrides(workers=2, transport="tcp", metrics_port=9200, realtime_priority=0, batch_size=500)
    chain = load_run_chain(cfg, overrides)
    plan = launch_plan(chain, overrides, producers=2, source=SourceSpec(events=5000, seed=4), rate_hz=8000.0,
                       linger_s=3.0, expected_events=5000)
    create_keys(tmp_path / "keys", [n.name for n in plan.addresses.nodes])
    return plan


def test_every_child_reads_back_the_config_the_parent_resolved(resolved: LaunchPlan, tmp_path: Path) -> None:
    back = read_launch_plan(write_launch_plan(resolved, tmp_path / "plan.json"))
    assert back == resolved
    for node in resolved.addresses.nodes:
        assert back.node(node.name) == resolved.node(node.name)
    worker = back.node("objects-1")
    assert worker.endpoint.curve is not None
    assert worker.endpoint.curve.upstream == {w.output: w.name for w in resolved.addresses.stages[0]}
    assert worker.endpoint.curve.load().public  # the keys a child loads when it starts
    assert [p.rate_hz for p in back.producers] == [4000.0, 4000.0]
    assert back.collector.expected_events == 5000
    assert "secret" not in (tmp_path / "plan.json").read_text()  # configs name key files, never hold keys


def test_yaml_and_flags_resolve_the_same_plan_as_the_replay(tmp_path: Path) -> None:
    overrides = ChainOverrides(workers=3, ipc_dir=str(tmp_path))
    _, from_flags = resolve_launch(DEFAULT_CONFIG, overrides, producers=2)
    assert from_flags == launch_plan(load_run_chain(DEFAULT_CONFIG, overrides), overrides, producers=2)
    assert [w.endpoint.name for w in from_flags.workers][:3] == ["calo_layer1-0", "calo_layer1-1", "calo_layer1-2"]


def test_child_arguments_are_what_the_command_line_parses(resolved: LaunchPlan, tmp_path: Path) -> None:
    parser = build_parser()
    for node in resolved.addresses.nodes:
        args = parser.parse_args(child_args(node, tmp_path / "plan.json"))
        assert (args.command, args.launch_plan, args.node) == (
            {"producer": "produce", "worker": "node", "collector": "collect"}[node.role],
            str(tmp_path / "plan.json"), node.name)
    argv = command_line("produce", config="c.yaml", index=1, events=10, rate=5.0)
    args = parser.parse_args(argv)
    assert (args.config, args.index, args.events, args.rate) == ("c.yaml", 1, 10, 5.0)
    with pytest.raises(ValueError, match="no option for 'stage'"):
        command_line("produce", stage="x")


def _doc(plan: LaunchPlan, tmp_path: Path) -> dict[str, Any]:
    return dict(json.loads(write_launch_plan(plan, tmp_path / "plan.json").read_text()))


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["workers"][1]["endpoint"].update(colour="red"), r"field 'workers\[1\]\.endpoint\.colour': unknown"),
    (lambda d: d["collector"].pop("timeout_s"), r"field 'collector\.timeout_s': missing"),
    (lambda d: d["producers"][0]["endpoint"]["link"].update(hwm="8"),
     r"'producers\[0\]\.endpoint\.link\.hwm': expected int"),
    (lambda d: d["workers"][0].update(policy="maybe"), r"'workers\[0\]\.policy': 'maybe' is not one of"),
    (lambda d: d.update(version=2), r"field 'version': 2 is not the supported version 1"),
    (lambda d: d.update(schema="other"), r"field 'schema': not an l1emu launch plan"),
], ids=["unknown-field", "missing-field", "wrong-type", "bad-literal", "version", "schema"])
def test_malformed_plan_is_refused_naming_file_and_field(
    resolved: LaunchPlan, tmp_path: Path, change: Any, message: str,
) -> None:
    doc = _doc(resolved, tmp_path)
    change(doc)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match=rf"^{bad}: .*{message}"):
        read_launch_plan(bad)


def test_cli_child_refuses_a_broken_plan(tmp_path: Path) -> None:
    bad = tmp_path / "plan.json"
    bad.write_text('{"schema": "l1emu-launch-plan", "version": 1,')
    proc = run_cli("node", "--launch-plan", str(bad), "--node", "objects-0", check=False)
    assert proc.returncode == 2
    assert f"{bad}: line 1: not a JSON launch plan" in proc.stderr


def test_a_child_gets_its_own_kind_of_node_or_a_clear_error(resolved: LaunchPlan, tmp_path: Path) -> None:
    import argparse

    from l1emu.commands._common import planned_node
    from streams.collector import CollectorConfig
    from streams.worker import WorkerConfig

    path = write_launch_plan(resolved, tmp_path / "plan.json")
    args = argparse.Namespace(launch_plan=str(path), node="collector")
    found = planned_node(args, CollectorConfig, "the collector")
    assert found is not None
    assert found[1] == resolved.collector
    assert resolved.worker("objects", 1).endpoint.name == "objects-1"
    with pytest.raises(ConfigError, match=r"plan\.json: node 'collector' is not a stage worker"):
        planned_node(args, WorkerConfig, "a stage worker")
    assert planned_node(argparse.Namespace(launch_plan=None, node=None), WorkerConfig, "a stage worker") is None
