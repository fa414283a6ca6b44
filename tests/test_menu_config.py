"""Menu YAML validation: every mistake is a MenuError naming file, seed and field."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from emulator.errors import MenuError
from emulator.menu._config import (
    AlwaysCondition,
    CorrelationConfig,
    LegConfig,
    ObjectCondition,
    ScoreCondition,
    SumCondition,
    parse_menu,
)

BASE: dict[str, Any] = {
    "name": "test",
    "columns": ["high", "low"],
    "default_column": "low",
    "seeds": [
        {"name": "SingleJet60", "prescale": {"high": 2, "low": 1},
         "conditions": [{"legs": [{"type": "jet", "pt_min": 60}]}]},
        {"name": "DoubleMu_OS", "conditions": [
            {"legs": [{"type": "muon", "pt_min": 4.5, "quality": 12}, {"type": "muon", "quality": [8, 12]}],
             "correlations": [{"legs": [0, 1], "charge": "opposite", "dr_max": 1.2}]}]},
        {"name": "ETMHF90", "prescale": 0, "conditions": [{"sum": "etmhf", "min": 90}]},
        {"name": "AXO", "conditions": [{"score": "axo_score", "min": 10.5}]},
        {"name": "ZeroBias", "prescale": 100, "conditions": [{"always": True}]},
    ],
}  # fmt: skip


def _menu(**edits: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data.update(edits)
    return data


def test_parses_every_condition_kind() -> None:
    cfg = parse_menu(BASE, where="m.yaml")
    assert [s.name for s in cfg.seeds] == ["SingleJet60", "DoubleMu_OS", "ETMHF90", "AXO", "ZeroBias"]
    assert cfg.seeds[0].prescales == (2, 1)
    assert cfg.seeds[2].prescales == (0, 0)
    assert cfg.seeds[4].prescales == (100, 100)
    mu = cfg.seeds[1].conditions[0]
    assert isinstance(mu, ObjectCondition)
    assert mu.legs[1] == LegConfig("muon", quality=(8, 12))
    assert mu.correlations == (CorrelationConfig(legs=(0, 1), dr_max=1.2, charge="opposite"),)
    assert cfg.seeds[2].conditions == (SumCondition("etmhf", 90.0),)
    assert cfg.seeds[3].conditions == (ScoreCondition("axo_score", 10.5),)
    assert cfg.seeds[4].conditions == (AlwaysCondition(),)


def _seed_edit(index: int, **edits: Any) -> dict[str, Any]:
    data = _menu()
    data["seeds"][index].update(edits)
    return data


def _leg_edit(**edits: Any) -> dict[str, Any]:
    data = _menu()
    data["seeds"][1]["conditions"][0]["legs"][0].update(edits)
    return data


def _corr_edit(**edits: Any) -> dict[str, Any]:
    data = _menu()
    data["seeds"][1]["conditions"][0]["correlations"][0].update(edits)
    return data


@pytest.mark.parametrize(
    ("data", "needles"),
    [
        (_menu(default_column="nope"), ["default_column", "'nope'"]),
        (_menu(columns=[]), ["columns"]),
        (_menu(columns=["a", "a"], default_column="a"), ["repeat", "'a'"]),
        (_menu(seeds=[]), ["no seeds"]),
        (_menu(colour="red"), ["unknown field", "colour"]),
        (_seed_edit(0, name="Single Jet"), ["seeds[0]", "name", "'Single Jet'"]),
        (_seed_edit(4, name="SingleJet60"), ["seed names repeat", "SingleJet60"]),
        (_seed_edit(0, prescale={"high": 1}), ["seeds[0] (SingleJet60).prescale", "missing", "low"]),
        (_seed_edit(0, prescale={"high": 1, "low": 1, "x": 2}), ["unknown", "'x'"]),
        (_seed_edit(0, prescale={"high": -1, "low": 1}), ["prescale", "'high'", "-1"]),
        (_seed_edit(0, prescale="1"), ["seeds[0] (SingleJet60).prescale"]),
        (_seed_edit(0, conditions=[]), ["seeds[0] (SingleJet60).conditions", "at least one"]),
        (_seed_edit(2, conditions=[{"sum": "etx", "min": 1}]), ["(ETMHF90).conditions[0].sum", "etx"]),
        (_seed_edit(2, conditions=[{"sum": "ett", "min": 5, "max": 1}]), ["conditions[0]", "exceeds"]),
        (_seed_edit(2, conditions=[{"min": 5}]), ["conditions[0]", "exactly one of"]),
        (_seed_edit(2, conditions=[{"sum": "ett", "always": True}]), ["conditions[0]", "exactly one of"]),
        (_seed_edit(2, conditions=["ett"]), ["conditions[0]", "expected a mapping"]),
        (_seed_edit(3, conditions=[{"score": "bad name", "min": 1}]), ["(AXO).conditions[0]", "'bad name'"]),
        (_seed_edit(3, conditions=[{"score": "axo"}]), ["(AXO).conditions[0]", "missing", "min"]),
        (_seed_edit(0, conditions=[{"legs": []}]), ["(SingleJet60).conditions[0]", "0 legs"]),
        (_seed_edit(0, conditions=[{"legs": [{"type": "jet"}] * 6}]), ["6 legs"]),
        (_leg_edit(type="photon"), ["(DoubleMu_OS).conditions[0].legs[0].type", "'photon'"]),
        (_leg_edit(pt_min=-3), ["legs[0]", "pt_min", "-3"]),
        (_leg_edit(pt_min="high"), ["legs[0].pt_min", "'high'"]),
        (_leg_edit(eta_min=2.0, eta_max=1.0), ["legs[0]", "eta_min 2.0 exceeds eta_max 1.0"]),
        (_leg_edit(quality=16), ["legs[0]", "quality", "16"]),
        (_leg_edit(iso=[]), ["legs[0]", "iso", "empty"]),
        (_leg_edit(ptmin=3), ["legs[0]", "unknown field", "ptmin"]),
        (_corr_edit(legs=[0, 2]), ["(DoubleMu_OS).conditions[0]", "index 2 out of range"]),
        (_corr_edit(legs=[1, 1]), ["correlations[0]", "two different legs"]),
        (_corr_edit(legs=[0, 1, 2]), ["correlations[0]", "two different legs"]),
        (_corr_edit(charge="both"), ["correlations[0].charge", "'both'"]),
        (_corr_edit(dr_min=2.0), ["correlations[0]", "dr_min 2.0 exceeds dr_max 1.2"]),
        (_corr_edit(charge=None, dr_max=None), ["correlations[0]", "at least one cut"]),
    ],
    ids=lambda v: None if isinstance(v, dict) else str(v[0])[:30],
)
def test_invalid_menus_raise_menu_error_naming_the_field(data: dict[str, Any], needles: list[str]) -> None:
    with pytest.raises(MenuError) as info:
        parse_menu(data, where="menus/x.yaml")
    msg = str(info.value)
    assert msg.startswith("menus/x.yaml"), msg
    for needle in needles:
        assert needle in msg, f"{needle!r} not in {msg!r}"


def test_charge_needs_two_muon_legs() -> None:
    data = _menu()
    data["seeds"][1]["conditions"][0]["legs"][1]["type"] = "jet"
    data["seeds"][1]["conditions"][0]["legs"][1].pop("quality")
    with pytest.raises(MenuError, match=r"seeds\[1\] \(DoubleMu_OS\).*charge needs two muon legs"):
        parse_menu(data, where="m.yaml")


def test_top_level_must_be_mapping() -> None:
    with pytest.raises(MenuError, match=r"m\.yaml: expected a mapping"):
        parse_menu(["not", "a", "menu"], where="m.yaml")
