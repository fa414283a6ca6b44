"""Prescale CSVs and uGT run-settings XML: the real CMS files load; tables map onto menus; uGT counting."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.errors import MenuError
from emulator.menu import Menu
from emulator.menu.prescales import (
    RunSettings,
    load_run_settings,
    read_prescale_csv,
    read_run_settings,
    ugt_prescale,
)
from tests.helpers import CMS_MENU_DATA

SHARED = CMS_MENU_DATA
CSV = SHARED / "L1Menu_Collisions2024_v1_3_0_prescales.csv"
PRESCALES_XML = SHARED / "run-settings-prescales-sample.xml"
FINOR_XML = SHARED / "run-settings-finor-mask-sample.xml"


def test_real_prescale_csv_loads() -> None:
    table = load_run_settings(CSV).prescales
    assert table is not None
    assert len(table.columns) == 19  # 21 CSV columns: Index, Name and 19 prescale columns
    assert table.columns[0] == "Emergency"
    assert "2p0E34" in table.columns
    assert len(table.index) == 408
    assert table.names is not None
    col = table.column("2p0E34")
    assert int((col != 0).sum()) == 225
    row = table.names.index("L1_SingleMu3")
    assert table.index[row] == 19
    assert col[row] == 22000
    assert int((table.column("Emergency") != 0).sum()) == 1


def test_real_run_settings_load() -> None:
    settings_ = load_run_settings(PRESCALES_XML)
    table = settings_.prescales
    assert table is not None
    assert table.names is None
    assert table.columns == tuple(str(i) for i in range(14))
    assert table.default_column == "2"  # the 'index' parameter: the column in use
    row = table.index.index(31)
    assert table.values[row].tolist() == [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2.5, 0]  # a fractional prescale
    assert len(table.index) == 466
    finor = load_run_settings(FINOR_XML).finor
    assert finor is not None
    assert len(finor.index) == 512
    assert finor.values.dtype == bool
    assert finor.values.all()  # every algorithm of the sample is in the final OR


def _menu(*names_indices: tuple[str, int]) -> Menu:
    seeds = [{"name": n, "index": i, "expression": f"JET{10 + i}"} for n, i in names_indices]
    return Menu.from_dict({"name": "t", "columns": ["u"], "default_column": "u", "seeds": seeds})


def test_csv_prescales_map_by_name_and_replace_the_columns() -> None:
    table = read_prescale_csv("Index,Name,tight,loose\n0,L1_A,0,1\n1,L1_B,2,3.5\n", source="p.csv")
    menu = _menu(("L1_B", 1), ("L1_A", 0)).with_run_settings(RunSettings(prescales=table), column="tight")
    assert menu.columns == ("tight", "loose")
    assert menu.default_column == "tight"
    assert menu.prescales().tolist() == [2, 0]
    assert menu.prescale_values("loose").tolist() == [3.5, 1.0]
    assert menu.enabled() == ("L1_B",)
    with pytest.raises(MenuError, match=r"column 'loose' has fractional prescales \(\['L1_B: 3.5'\]\)"):
        menu.prescales("loose")


def test_run_settings_map_by_algorithm_index_with_masks() -> None:
    xml = """<run-settings id="uGT"><context id="uGtProcessor">
      <param id="index" type="uint">1</param>
      <param id="prescales" type="table"><columns>algo/prescale-index,0,1</columns><types>uint,uint,uint</types>
        <rows><row>4,1,10</row><row>7,0,2.25</row></rows></param>
      <param id="finorMask" type="table"><columns>algo,mask</columns><rows><row>4, 0</row></rows></param>
      <param id="vetoMask" type="table"><columns>algo,veto</columns><rows><row>7, 1</row></rows></param>
    </context></run-settings>"""
    menu = _menu(("L1_A", 4), ("L1_B", 7)).with_run_settings(read_run_settings(xml, source="rs.xml"))
    assert menu.default_column == "1"
    assert menu.prescale_values().tolist() == [10, 2.25]
    assert menu.finor_mask.tolist() == [False, True]
    assert menu.veto_mask.tolist() == [False, True]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("Idx,Name,a\n0,L1_A,1\n", "line 1: expected the header 'Index,Name,<column>,...'"),
        ("Index,Name,a,a\n0,L1_A,1,1\n", "column names must be unique"),
        ("Index,Name,a\n0,L1_A,1,2\n", "line 2: 4 fields, the header has 3"),
        ("Index,Name,a\nx,L1_A,1\n", "line 2: algorithm index 'x' is not an integer"),
        ("Index,Name,a\n0,L1_A,0.5\n", "line 2, column 'a': prescale '0.5' must be 0 (disabled) or a number >= 1"),
        ("Index,Name,a\n0,L1_A,1.255\n", "at most two decimals"),
        ("Index,Name,a\n0,L1_A,-1\n", "prescale '-1'"),
        ("Index,Name,a\n0,L1_A,1\n1,L1_A,1\n", "seed names repeat: ['L1_A']"),
    ],
)
def test_bad_csv_names_line_and_value(text: str, needle: str) -> None:
    with pytest.raises(MenuError) as err:
        read_prescale_csv(text, source="p.csv")
    assert str(err.value).startswith("p.csv: ")
    assert needle in str(err.value), str(err.value)


def test_tables_must_match_the_menu_exactly() -> None:
    table = read_prescale_csv("Index,Name,a\n0,L1_A,1\n5,L1_Z,1\n", source="p.csv")
    needle = r"no row for menu seeds \['L1_B'\]; rows for seeds not in the menu: \['L1_Z'\]"
    with pytest.raises(MenuError, match=needle):
        _menu(("L1_A", 0), ("L1_B", 1)).with_run_settings(RunSettings(prescales=table))
    native = Menu.from_dict({"name": "t", "columns": ["u"], "default_column": "u",
                             "seeds": [{"name": "A", "conditions": [{"always": True}]}]})  # fmt: skip
    xml = ('<run-settings><context><param id="prescales" type="table"><columns>algo,0</columns>'
           "<rows><row>0,1</row></rows></param></context></run-settings>")
    with pytest.raises(MenuError, match=r"keyed by algorithm index, but seeds \['A'\] have none"):
        native.with_run_settings(read_run_settings(xml, source="rs.xml"))


def test_run_settings_reject_entities_and_other_documents() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><run-settings>&b;</run-settings>'
    with pytest.raises(MenuError, match=r"rs.xml: document type / entity declarations are not accepted"):
        read_run_settings(bomb, source="rs.xml")
    with pytest.raises(MenuError, match=r"expected a <run-settings> document, got <menu>"):
        read_run_settings("<menu/>", source="rs.xml")
    with pytest.raises(MenuError, match=r"rs.xml: invalid XML"):
        read_run_settings("<run-settings><context>", source="rs.xml")


# -- the uGT's fractional prescale counter -----------------------------------------------------


def test_ugt_counter_by_hand() -> None:
    """F = 100 × prescale; +100 per pass; fire when the counter reaches F, then subtract F."""
    raw = np.array([[1, 1, 1, 1], [0, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]], bool)
    fired, counters = ugt_prescale(raw, np.array([1.0, 2.5, 1.25, 0.0]), np.zeros(4, np.int64))
    assert fired[:, 0].tolist() == [True, False, True, True, True, True]  # prescale 1: every pass
    assert fired[:, 1].tolist() == [False, False, True, False, True, False]  # 2.5: the 3rd and 5th passes
    assert fired[:, 2].tolist() == [False, True, True, True, True, False]  # 1.25: 4 of every 5 passes
    assert not fired[:, 3].any()  # 0: disabled
    assert counters.tolist() == [0, 100, 100, 0]


@settings(max_examples=50, deadline=None)
@given(passes=st.lists(st.booleans(), min_size=0, max_size=60), p=st.sampled_from([1, 2, 2.5, 3.33, 7, 100.01]),
       split=st.integers(0, 60))  # fmt: skip
def test_ugt_counter_matches_the_firmware_loop_across_batches(passes: list[bool], p: float, split: int) -> None:
    raw = np.array(passes, bool).reshape(-1, 1)
    f = round(p * 100)
    c, want = 0, []
    for x in passes:  # the firmware's process, one crossing at a time
        fire = x and c + 100 >= f
        want.append(fire)
        c = c + 100 - f if fire else c + 100 if x else c
    a, ca = ugt_prescale(raw[:split], np.array([p]), np.zeros(1, np.int64))
    b, cb = ugt_prescale(raw[split:], np.array([p]), ca)
    assert np.concatenate([a[:, 0], b[:, 0]]).tolist() == want
    assert cb.tolist() == [c]
