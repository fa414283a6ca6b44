"""The algorithm registry and its loader: built-ins beside the registry, plugins by entry point."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import EntryPoint
from typing import Any

import pytest

import emulator.algorithms as algorithms
from emulator import registry
from streams.errors import ConfigError


def test_registry_module_imports_no_algorithm() -> None:
    code = ("import sys, emulator.registry; print(sorted(m for m in sys.modules "
            "if m.startswith(('emulator.algorithms', 'emulator.menu', 'emulator.models'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_lookup_loads_builtins_case_insensitively() -> None:
    assert algorithms.get_algorithm("AXOL1TL") is algorithms.get_algorithm("axol1tl")
    assert {"menu", "cicada", "tagger", "region_calibration", "delay"} <= set(algorithms.available_algorithms())


def test_duplicates_and_unknown_names_raise() -> None:
    algorithms.load_algorithms()
    with pytest.raises(ConfigError, match="'Menu' is already registered"):
        registry.register_algorithm("Menu", algorithms.get_algorithm("menu"))
    with pytest.raises(ConfigError, match=r"unknown algorithm type 'nope'; known: .*'menu'"):
        algorithms.get_algorithm("nope")


def _plugin_factory(name: str, params: dict[str, Any], ctx: Any) -> Any:
    return None


def register_test_plugin() -> None:
    registry.register_algorithm("test_plugin_score", _plugin_factory, replace=True)


def test_entry_point_plugins_register(monkeypatch: pytest.MonkeyPatch) -> None:
    ep = EntryPoint("test_plugin", f"{__name__}:register_test_plugin", algorithms.ENTRY_POINT_GROUP)
    seen: list[str] = []

    def fake_entry_points(*, group: str) -> list[EntryPoint]:
        seen.append(group)
        return [ep]

    monkeypatch.setattr(algorithms, "entry_points", fake_entry_points)
    algorithms.load_algorithm_plugins()
    assert seen == ["l1emu.algorithms"]
    assert algorithms.get_algorithm("Test_Plugin_Score") is _plugin_factory
