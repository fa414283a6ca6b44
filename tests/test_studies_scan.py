"""Threshold scans: critical values against re-evaluated menus, and the scan against the replay."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from emulator.chain import load_chain
from emulator.errors import ConfigError, MenuError, StageError
from emulator.menu import Menu, load_menu
from emulator.params import load_yaml
from emulator.replay import ReplayOptions, replay
from emulator.studies._targets import hw_thresholds
from emulator.studies.scan import (
    ThresholdScan,
    critical_values,
    parse_range,
    resolve_target,
    scan_thresholds,
    threshold_for_rate,
)
from streams.event import EventBatch
from streams.sources import open_source
from tests.helpers import DEFAULT_CONFIG
from tests.test_menu_evaluate import SEEDS, random_batch

CMS = "configs/menus/cms2024.yaml"
GRID = np.array([0.0, 0.25, 0.5, 0.75, 3.0, 5.2, 10.0, 17.5, 25.0, 34.0, 50.0, 77.7, 110.0, 150.5, 300.0])


def _plain(menu_dict: Any) -> Any:
    return json.loads(json.dumps(menu_dict))  # YAML anchors share dicts; editing one leg must not edit others


def _params(menu: Menu, s: int) -> list[str]:
    conds = menu.config.seeds[s].conditions
    n_legs = sum(len(c.legs) for c in conds if hasattr(c, "legs"))
    out = (["pt"] if n_legs else []) + [f"pt[{k}]" for k in range(n_legs)]
    out += [c.sum for c in conds if hasattr(c, "sum")] + [c.score for c in conds if hasattr(c, "score")]
    return out


def _seed_at(raw: dict[str, Any], target: Any, x: float) -> Menu | None:
    """A one-seed menu: the target's seed with its scanned cut at ``x`` (None if that is invalid)."""
    seed = _plain(raw["seeds"][target.index])
    for j, legs in target.scanned:
        cond = seed["conditions"][j]
        if legs:
            for i in legs:
                cond["legs"][i]["pt_min"] = x
        elif cond.get("max") is not None and x > cond["max"]:
            return None  # a window cannot start above its end
        else:
            cond["min"] = x
    seed["prescale"] = 1
    return Menu.from_dict({"name": "one", "columns": ["c"], "default_column": "c", "seeds": [seed]})


def _menus() -> list[tuple[str, dict[str, Any]]]:
    custom = {"name": "t", "columns": ["c"], "default_column": "c", "seeds": SEEDS}
    return [("cms2024", _plain(load_yaml(CMS))), ("custom", _plain(custom))]


@pytest.fixture(scope="module")
def batch() -> EventBatch:
    b = random_batch(5, 600, max_objects=8)
    rng = np.random.default_rng(6)  # the default menu's anomaly seeds read these columns
    return b.with_columns(score_axol1tl=rng.uniform(20.0, 40.0, len(b)).astype(np.float32),
                          score_cicada=rng.uniform(-1.1, -0.8, len(b)).astype(np.float32))


@pytest.mark.parametrize(("name", "raw"), _menus(), ids=[m[0] for m in _menus()])
def test_critical_values_match_the_menu_re_evaluated_at_every_threshold(
    name: str, raw: dict[str, Any], batch: EventBatch
) -> None:
    menu = Menu.from_dict(raw)
    checked = 0
    for s, seed in enumerate(menu.seed_names):
        for param in _params(menu, s):
            target = resolve_target(menu, seed, param)
            c = critical_values(menu, target, batch)
            dtype = batch[param].dtype if target.kind == "score" else None
            hw = hw_thresholds(menu, target, GRID, score_dtype=dtype)
            for x, h in zip(GRID, hw, strict=True):
                one = _seed_at(raw, target, float(x))
                got = c >= h
                if one is None:
                    assert not got.any(), (seed, param, x)
                    continue
                expected = one.evaluate(batch)[:, 0]
                assert np.array_equal(got, expected), (seed, param, x, np.flatnonzero(got != expected)[:5])
                checked += int(expected.sum())
    assert checked > 5000  # the random events make every kind of seed pass at low thresholds


JET150 = {"type": "jet", "pt_min": 150, "eta_max": 2.5}
JET35 = {"type": "jet", "pt_min": 35}
TARGETS_MENU = {
    "name": "targets", "columns": ["a", "b"], "default_column": "a",
    "seeds": [
        {"name": "DoubleJet150", "conditions": [{"legs": [JET150, JET150]}]},
        {"name": "DiJetMass", "conditions": [{"legs": [{"type": "jet", "pt_min": 110}, JET35]},
                                             {"legs": [JET35, JET35], "correlations": [{"mass_min": 620}]}]},
        {"name": "MuHTT", "conditions": [{"legs": [{"type": "muon", "pt_min": 6}]}, {"sum": "htt", "min": 240}]},
        {"name": "Mu7", "prescale": {"a": 500, "b": 0}, "conditions": [{"legs": [{"type": "muon", "pt_min": 7}]}]},
        {"name": "HTT", "conditions": [{"sum": "htt", "min": 280}]},
        {"name": "ZB", "prescale": 100, "conditions": [{"always": True}]},
    ],
}  # fmt: skip


def test_scanned_legs_follow_the_parameter() -> None:
    menu = Menu.from_dict(TARGETS_MENU)
    assert resolve_target(menu, "DoubleJet150", "pt").scanned == ((0, (0, 1)),)
    assert resolve_target(menu, "DoubleJet150", "pt[1]").scanned == ((0, (1,)),)
    assert resolve_target(menu, "DiJetMass", "pt").scanned == ((0, (0,)),)
    assert resolve_target(menu, "DiJetMass", "pt[3]").scanned == ((1, (1,)),)
    assert resolve_target(menu, "MuHTT", "htt").scanned == ((1, ()),)
    assert resolve_target(menu, "MuHTT", "sum").describe() == "conditions[1].min"
    t = resolve_target(menu, "Mu7", "pt", column="b")
    assert (t.prescale, t.menu_threshold, t.unit) == (0, 7.0, "GeV")
    assert resolve_target(menu, "Mu7", "pt").prescale == 500


@pytest.mark.parametrize(
    ("seed", "param", "match"),
    [("NoSuchSeed", "pt", "no seed 'NoSuchSeed'"), ("HTT", "pt", "no object legs"),
     ("Mu7", "pt[1]", "leg index 1 out of range"), ("Mu7", "htt", "no matching"),
     ("ZB", "score", "no matching")],
)  # fmt: skip
def test_unknown_targets_name_seed_and_parameter(seed: str, param: str, match: str) -> None:
    with pytest.raises(MenuError, match=match):
        resolve_target(Menu.from_dict(TARGETS_MENU), seed, param)


def test_missing_score_column_names_seed_and_column(batch: EventBatch) -> None:
    menu = Menu.from_dict({"name": "t", "columns": ["c"], "default_column": "c",
                           "seeds": [{"name": "AXO", "conditions": [{"score": "score_axo", "min": 1.0}]}]})  # fmt: skip
    with pytest.raises(StageError, match=r"AXO.*score_axo"):
        critical_values(menu, resolve_target(menu, "AXO", "score"), batch)


@pytest.fixture(scope="module")
def zero_bias_run() -> tuple[dict[str, Any], dict[str, Any]]:
    """A 20k-event in-process replay and a scan of every seed over the same events."""
    events = 20_000
    report = replay(ReplayOptions(config=DEFAULT_CONFIG, events=events, in_process=True, seed=3))
    chain = load_chain(DEFAULT_CONFIG)
    menu = load_menu(chain.menu_path)  # type: ignore[arg-type]
    requests = [(s, "pt" if _params(menu, i)[0] == "pt" else _params(menu, i)[0])
                for i, s in enumerate(menu.seed_names) if _params(menu, i)]  # fmt: skip
    scan = scan_thresholds(chain, open_source(None, events=events, seed=3), requests, parse_range("0:300:2.5"))
    return report, scan


def test_scan_at_the_menu_threshold_equals_the_replay(zero_bias_run: tuple[dict[str, Any], dict[str, Any]]) -> None:
    report, scan = zero_bias_run
    assert len(scan["scans"]) == len(report["seeds"]) - 1  # all but ZeroBias
    for s in scan["scans"]:
        rep = report["seeds"][s["seed"]]
        m = s["menu"]
        assert (m["count"], m["count_raw"]) == (rep["count"], rep["count_raw"]), s["seed"]
        assert m["rate_khz"] == pytest.approx(rep["rate_khz"], rel=1e-12, abs=1e-12)
        assert m["rate_err_khz"] == pytest.approx(rep["rate_err_khz"], rel=1e-12, abs=1e-12)
        assert s["check"] == {"events": 20_000, "mismatches": 0}
        if m["threshold"] in s["thresholds"]:  # the grid point at the menu threshold is the same number
            k = s["thresholds"].index(m["threshold"])
            assert (s["count"][k], s["count_raw"][k]) == (m["count"], m["count_raw"])
    assert sum(s["menu"]["count"] for s in scan["scans"]) > 50  # the check compares real numbers
    assert sum(s["menu"]["count_raw"] for s in scan["scans"]) > 1000


def test_curves_never_increase_and_prescales_thin_them(zero_bias_run: tuple[dict[str, Any], dict[str, Any]]) -> None:
    _, scan = zero_bias_run
    for s in scan["scans"]:
        for key in ("rate_khz", "rate_raw_khz", "count", "count_raw"):
            assert np.all(np.diff(s[key]) <= 0), (s["seed"], key)
        p = s["prescale"]
        expected = [-(-n // p) for n in s["count_raw"]] if p else [0] * len(s["count_raw"])
        assert s["count"] == expected, s["seed"]  # unit weights: the first pass of every p fires
    prescaled = [s for s in scan["scans"] if s["prescale"] > 1 and s["count_raw"][0] > s["prescale"]]
    assert prescaled  # the default menu has prescaled seeds that pass often enough to be thinned


def test_weighted_events_and_prescale_counters_across_batches(batch: EventBatch) -> None:
    menu = Menu.from_dict(TARGETS_MENU)
    target = replace(resolve_target(menu, "Mu7", "pt"), prescale=3)
    w = np.linspace(0.5, 2.0, len(batch)).astype(np.float32)
    weighted = batch.with_columns(weight=w)
    scan = ThresholdScan(menu, [target], GRID, crossing_rate_khz=1000.0)
    for start in range(0, len(batch), 128):  # several batches: counters must carry over
        scan.update(weighted.select(slice(start, start + 128)))
    res = scan.result()["scans"][0]
    assert res["count_raw"][0] > 300  # most events have a muon
    c = critical_values(menu, target, batch)
    hw = hw_thresholds(menu, target, GRID)
    for k, h in enumerate(hw):
        passed = c >= h
        assert res["rate_raw_khz"][k] == pytest.approx(w[passed].sum() / w.sum() * 1000.0)
        index = np.cumsum(passed) - 1
        fired = passed & (index % 3 == 0)
        assert res["count"][k] == fired.sum()
        assert res["rate_khz"][k] == pytest.approx(w[fired].sum() / w.sum() * 1000.0)
        assert res["rate_err_khz"][k] == pytest.approx(np.sqrt((w[fired] ** 2).sum()) / w.sum() * 1000.0)


def test_threshold_for_rate_takes_the_lowest_threshold_meeting_the_target() -> None:
    s = {"thresholds": [10.0, 20.0, 30.0, 40.0], "rate_khz": [50.0, 20.0, 20.0, 3.0], "rate_err_khz": [1.0] * 4,
         "rate_raw_khz": [90.0, 40.0, 10.0, 3.0], "rate_raw_err_khz": [2.0] * 4}  # fmt: skip
    assert threshold_for_rate(s, 20.0)["threshold"] == 20.0
    assert threshold_for_rate(s, 19.9)["threshold"] == 40.0
    assert threshold_for_rate(s, 10.0, raw=True)["threshold"] == 30.0
    assert threshold_for_rate(s, 1.0)["threshold"] is None


@pytest.mark.parametrize("text", ["10:5:1", "1:2", "a:b:c", "0:10:0", "-1:10:1", "0:1e6:0.01"])
def test_bad_ranges_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError, match="--range"):
        parse_range(text)


def test_range_includes_its_end_despite_float_steps() -> None:
    assert parse_range("0:1:0.1").tolist()[-1] == 1.0
    assert len(parse_range("10:200:5")) == 39
