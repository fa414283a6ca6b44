"""BPTX external conditions from the bunch-crossing number and the filling scheme."""

from __future__ import annotations

import numpy as np
import pytest

from emulator.errors import MenuError, StageError
from emulator.menu import Menu
from emulator.menu.convert import menu_to_xml
from firmware.errors import UnsupportedError
from firmware.menu_writer import write_menu_hls
from streams.errors import ConfigError
from streams.event import EventBatch
from streams.filling import BPTX_SIGNALS, ORBIT_SLOTS, STANDARD, FillingScheme, trains
from streams.sources.parametric import ParametricConfig, ParametricSource

COLLIDING = STANDARD.colliding_bx()
FIRST, LAST = int(COLLIDING[0]), int(COLLIDING[-1])  # 1 and 3445: the orbit's first and last colliding slots
TRAIN_END = 48  # the first train holds bx 1..48; the next starts after 17 empty slots
NEXT_TRAIN = int(COLLIDING[48])


def menu(**seeds: str) -> Menu:
    return Menu.from_dict({"name": "t", "columns": ["c"], "default_column": "c",
                           "seeds": [{"name": n, "expression": e} for n, e in seeds.items()]})  # fmt: skip


def at(*bx: int) -> EventBatch:
    cols = {k: np.array(v) for k, v in EventBatch.empty(len(bx)).columns.items()}
    cols["bx"] = np.array(bx, np.uint16)
    return EventBatch(cols)


def test_the_default_fill_has_its_trains_gaps_and_abort_gap() -> None:
    on = STANDARD.beam1 & STANDARD.beam2
    assert on.sum() == 2544
    assert (STANDARD.beam1 == STANDARD.beam2).all()  # no unpaired bunches
    assert (FIRST, TRAIN_END, NEXT_TRAIN, LAST) == (1, 48, 66, 3445)
    assert not on[LAST:].any()
    assert ORBIT_SLOTS - LAST == 119  # the abort gap
    gaps = np.diff(COLLIDING.astype(int))
    assert set(gaps.tolist()) == {1, 18, 19}
    assert (gaps > 1).sum() == 52
    assert STANDARD.signal("EXT_BPTX_FirstCollisionInTrain_VME").sum() == 53
    assert STANDARD.signal("EXT_BPTX_LastCollisionInTrain_VME").sum() == 53
    assert np.flatnonzero(STANDARD.signal("EXT_BPTX_FirstCollidingBunch_VME")).tolist() == [0]
    assert STANDARD.signal("EXT_BPTX_NotOR_VME").sum() == ORBIT_SLOTS - 2544
    assert set(BPTX_SIGNALS) >= {"EXT_ZeroBias_BPTX_AND_VME", "EXT_BPTX_OR_VME"}


def test_schemes_that_do_not_fit_and_unknown_signals_are_errors() -> None:
    with pytest.raises(ConfigError, match="do not fit the 3564-slot orbit"):
        trains(75, 48)
    with pytest.raises(ConfigError, match="beam1 must be 3564 booleans"):
        FillingScheme("x", np.ones(10, bool), np.ones(ORBIT_SLOTS, bool))
    with pytest.raises(ConfigError, match="'EXT_TOTEM_1' is not a BPTX signal"):
        STANDARD.signal("EXT_TOTEM_1")


def test_signals_at_offsets_on_the_train_and_orbit_edges() -> None:
    m = menu(
        ZB="EXT_ZeroBias_BPTX_AND_VME",
        Prev="EXT_BPTX_OR_VME-1",
        Next2="EXT_BPTX_OR_VME+2",
        First="EXT_BPTX_FirstCollisionInTrain_VME",
        Last="EXT_BPTX_LastCollisionInTrain_VME",
        Orbit="EXT_BPTX_FirstCollidingBunch_VME",
        FirstInTrain="NOT EXT_BPTX_OR_VME-2 AND NOT EXT_BPTX_OR_VME-1 AND EXT_ZeroBias_BPTX_AND_VME "
        "AND EXT_ZeroBias_BPTX_AND_VME+1 AND EXT_ZeroBias_BPTX_AND_VME+2",
        Isolated="NOT EXT_BPTX_OR_VME-2 AND NOT EXT_BPTX_OR_VME-1 AND EXT_ZeroBias_BPTX_AND_VME "
        "AND NOT EXT_BPTX_OR_VME+1 AND NOT EXT_BPTX_OR_VME+2",
    )
    assert m.unsupported == {}
    bxs = (FIRST, 2, TRAIN_END - 1, TRAIN_END, TRAIN_END + 1, NEXT_TRAIN, LAST, ORBIT_SLOTS, NEXT_TRAIN - 2)
    want = {  # by hand from the scheme: bx 3564 is in the abort gap, bx 1 follows it (the orbit wraps)
        "ZB": [1, 1, 1, 1, 0, 1, 1, 0, 0],
        "Prev": [0, 1, 1, 1, 1, 0, 1, 0, 0],
        "Next2": [1, 1, 0, 0, 0, 1, 0, 1, 1],
        "First": [1, 0, 0, 0, 0, 1, 0, 0, 0],
        "Last": [0, 0, 0, 1, 0, 0, 1, 0, 0],
        "Orbit": [1, 0, 0, 0, 0, 0, 0, 0, 0],
        "FirstInTrain": [1, 0, 0, 0, 0, 1, 0, 0, 0],
        "Isolated": [0] * 9,
    }
    batch = at(*bxs)
    got = m.evaluate(batch)
    assert np.array_equal(got, m.evaluate_reference(batch))
    for k, name in enumerate(m.seed_names):
        assert got[:, k].astype(int).tolist() == want[name], name


def test_yaml_conditions_round_trip_to_utm_and_bad_ones_are_named() -> None:
    raw = {"name": "t", "columns": ["c"], "default_column": "c", "seeds": [
        {"name": "NotPrev", "conditions": [{"external": "EXT_BPTX_OR_VME", "bx": -1}]}]}  # fmt: skip
    m = Menu.from_dict(raw)
    assert m.evaluate(at(FIRST, 2))[:, 0].tolist() == [False, True]
    text, _ = menu_to_xml(m.config, skip_inexpressible=True)
    assert "EXT_BPTX_OR_VME-1" in text
    bad = {**raw, "seeds": [{"name": "S", "conditions": [{"external": "EXT_TOTEM_1"}]}]}
    with pytest.raises(MenuError, match=r"S.*'EXT_TOTEM_1' is not a BPTX signal l1emu derives"):
        Menu.from_dict(bad)
    far = {**raw, "seeds": [{"name": "S", "conditions": [{"external": "EXT_BPTX_OR_VME", "bx": 3}]}]}
    with pytest.raises(MenuError, match=r"S.*crossing offset must be an integer in \[-2, 2\], got 3"):
        Menu.from_dict(far)


def test_a_bunch_crossing_number_outside_the_orbit_is_a_stage_error() -> None:
    m = menu(ZB="EXT_ZeroBias_BPTX_AND_VME")
    with pytest.raises(StageError, match="event 1 of the batch has bx 0: bunch-crossing numbers run from 1 to 3564"):
        m.evaluate(at(FIRST, 0))


def test_generated_crossings_sit_in_colliding_slots() -> None:
    batch = next(ParametricSource(ParametricConfig(events=3000, seed=1)).batches(3000))
    assert np.isin(batch["bx"], COLLIDING).all()
    assert len(np.unique(batch["bx"])) == 2544
    assert menu(ZB="EXT_ZeroBias_BPTX_AND_VME").evaluate(batch).all()


def test_the_hls_writer_names_external_conditions_unsupported(tmp_path: object) -> None:
    m = menu(ZB="EXT_ZeroBias_BPTX_AND_VME")
    with pytest.raises(UnsupportedError, match=r"ZB.*external conditions are inputs of the uGT board"):
        write_menu_hls(m, str(tmp_path))
