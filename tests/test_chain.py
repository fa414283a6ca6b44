from __future__ import annotations

from pathlib import Path

import pytest

from emulator.algorithms import available_algorithms, get_algorithm, register_algorithm
from emulator.chain import Budget, load_chain
from emulator.errors import BudgetError
from emulator.pipeline import Pipeline
from streams.errors import ConfigError
from streams.event import EventBatch
from tests.helpers import DEFAULT_CONFIG, write_config


def test_default_chain_loads_with_three_stages_and_budgets() -> None:
    chain = load_chain(DEFAULT_CONFIG)
    assert [s.name for s in chain.stages] == ["calo_layer1", "objects", "global_trigger"]
    gt = chain.stage("global_trigger")
    assert gt.budget_cycles == 48  # 100 ns at 480 MHz
    assert chain.lhc.crossing_rate_hz == pytest.approx(2544 * 11245.613)
    assert chain.menu_path is not None
    assert chain.menu_path.is_file()


def test_budget_units() -> None:
    assert Budget(ns=500).to_cycles(240) == 120
    assert Budget(cycles=7).to_cycles(240) == 7
    with pytest.raises(ValueError, match="exactly one"):
        Budget(ns=1, cycles=1)


@pytest.mark.parametrize(
    ("replace", "needle"),
    [
        ({"type: jet_sums": "type: nope"}, "unknown algorithm type 'nope'"),
        ({"workers: 1\n    algorithms:\n      - type: jet_calibration":
          "workers: 0\n    algorithms:\n      - type: jet_calibration"}, "workers must be >= 1"),
        ({"budget: {ns: 100}": "budget: {ns: 1}"}, "exceeds the budget"),
        ({"params: {hot_threshold: 20}": "params: {hot_treshold: 20}"}, "unknown field(s) ['hot_treshold']"),
        ({"params: {pt_min: 30.0, eta_max: 2.4}": "params: {pt_min: thirty}"}, "expected a number"),
        ({"transport: ipc ": "transport: carrier-pigeon "}, "is not one of ['ipc', 'tcp']"),
        ({"clock_mhz: 480": "clock_mhz: -1"}, "clock_mhz must be positive"),
        ({"name: objects": "name: calo_layer1"}, "stage names repeat"),
        ({"menu: ": "menu_file: "}, "unknown field(s) ['menu_file']"),
        ({"warmup_batches: 4 ": "warmup_batches: 99 "}, "stream: warmup_batches must be in 0..64"),
        ({"socket_buffer_kib: 8192 ": "socket_buffer_kib: -1 "}, "stream: socket_buffer_kib must be in 0.."),
        ({"realtime_priority: 0 ": "realtime_priority: 100 "}, "stream: realtime_priority must be in 0..99"),
    ],
    ids=["unknown-algo", "zero-workers", "over-budget", "typo-param", "bad-type", "bad-literal",
         "neg-clock", "dupe-stage", "unknown-top-key", "warmup-range", "sockbuf-range", "realtime-range"],
)
def test_invalid_chains_fail_at_load_naming_file_and_field(
    tmp_path: Path, replace: dict[str, str], needle: str
) -> None:
    path = write_config(tmp_path / "chain.yaml", **replace)
    with pytest.raises(ConfigError) as err:
        load_chain(path)
    assert needle in str(err.value)
    assert str(path) in str(err.value)


def test_over_budget_is_a_budget_error(tmp_path: Path) -> None:
    path = write_config(tmp_path / "c.yaml", **{"budget: {ns: 100}": "budget: {cycles: 1}"})
    with pytest.raises(BudgetError, match=r"latency estimate \d+ cycles .* exceeds the budget of 1 cycles"):
        load_chain(path)


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    p = tmp_path / "broken.yaml"
    p.write_text("name: x\nstages: [\n")
    with pytest.raises(ConfigError, match=r"broken.yaml: line \d+ invalid YAML"):
        load_chain(p)


def test_registry_is_case_insensitive_and_refuses_duplicates() -> None:
    assert get_algorithm("Region_Calibration") is get_algorithm("region_calibration")
    assert {"menu", "jet_sums", "region_sums"} <= set(available_algorithms())
    with pytest.raises(ConfigError, match="already registered"):
        register_algorithm("MENU", get_algorithm("menu"))


def test_stages_append_their_outputs(zb_batch: EventBatch) -> None:
    chain = load_chain(DEFAULT_CONFIG)
    pipeline = Pipeline.from_chain(chain)
    batch = pipeline.run(zb_batch)
    for stage in pipeline.stages:
        for col in stage.outputs:
            assert col in batch
        assert stage.latency_cycles() <= stage.config.budget_cycles
    assert batch["seeds_raw"].shape[0] == len(zb_batch)
