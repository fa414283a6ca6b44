"""uGT XML menus: the real 2024 menu (built from the shared tm-reporter tables) loads, runs, converts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from emulator.errors import MenuError
from emulator.menu import Menu, load_menu
from emulator.menu._config import parse_menu
from emulator.menu._xml import read_tmxsd
from emulator.menu.convert import menu_to_mapping, menu_to_xml, write_menu
from emulator.menu.reporter import tmxsd_from_report
from l1emu.cli import main
from streams.sources.parametric import ParametricConfig, ParametricSource
from tests.helpers import CMS_MENU_DATA
from tests.test_menu_evaluate import SEEDS, _menu, random_batch

SHARED = CMS_MENU_DATA
STEM = "L1Menu_Collisions2024_v1_3_0"
PRESCALES = SHARED / f"{STEM}_prescales.csv"
SAMPLE = SHARED / "tmxsd-format-sample.xml"
#: The end of the first algorithm's object requirement in the sample (its threshold to be edited).
REQUIREMENT = "<threshold>{thr}</threshold>\n      <bx_offset>0</bx_offset>\n    </object_requirement>\n  </algorithm>"
#: Enabled seeds of column 2p0E34 that need event columns the event model lacks (and why).
#: Enabled seeds the event model cannot evaluate, by the column they would need (none since schema 2).
NEEDS: dict[str, set[str]] = {}


@pytest.fixture(scope="module")
def xml_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    algos = json.loads((SHARED / f"{STEM}.algorithms.json").read_text())
    text = tmxsd_from_report(algos, (SHARED / f"{STEM}.cuts.csv").read_text(), name=STEM)
    path = tmp_path_factory.mktemp("menu") / f"{STEM}.xml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def menu(xml_path: Path) -> Menu:
    return load_menu(xml_path, prescales=PRESCALES, column="2p0E34")


def test_every_seed_of_the_2024_menu_parses(xml_path: Path) -> None:
    bare = load_menu(xml_path)
    assert bare.name == STEM
    assert len(bare.seed_names) == 408
    assert bare.columns == ("unprescaled",)
    assert (bare.prescales() == 1).all()
    indices = [s.utm.index for s in bare.config.seeds if s.utm is not None]
    assert indices == sorted(indices)
    assert indices[0] == 0
    assert indices[-1] == 506
    n_cuts = len((SHARED / f"{STEM}.cuts.csv").read_text().splitlines()) - 1
    assert len(bare.config.cuts) == n_cuts - 2  # every cut some seed names (not the two unused MBT counts)


def test_prescale_column_2p0E34_enables_225_seeds_and_names_the_missing_columns(menu: Menu) -> None:
    assert menu.default_column == "2p0E34"
    assert len(menu.columns) == 19
    enabled = set(menu.enabled())
    assert len(enabled) == 225
    unsupported = {n: r for n, r in menu.unsupported.items() if n in enabled}
    assert set(unsupported) == set().union(*NEEDS.values())
    for column, seeds in NEEDS.items():
        for seed in seeds:
            assert column in unsupported[seed], (seed, unsupported[seed])
    assert len(enabled) - len(unsupported) == 225  # evaluated on this event model


def test_the_real_menu_runs_equal_to_its_reference_and_fires(menu: Menu) -> None:
    source = ParametricSource(ParametricConfig(events=2000, mu=60, seed=3))
    fired = np.zeros(len(menu.seed_names), np.int64)
    for batch in source.batches(1000):
        # the chain's axol1tl stage adds the score the AXO seeds read (CMS's points map to l1emu's)
        batch = batch.with_columns(score_axol1tl=np.linspace(0.0, 30.0, len(batch), dtype=np.float32))
        got = menu.evaluate(batch)
        assert np.array_equal(got, menu.evaluate_reference(batch))
        fired += got.sum(axis=0)
    never = [n for n, k in zip(menu.seed_names, fired, strict=True) if k == 0 and n not in menu.unsupported]
    assert (fired > 0).sum() > 60, never
    assert all(fired[menu.seed_names.index(n)] == 0 for n in menu.unsupported)


def test_xml_yaml_xml_keeps_every_expression_and_cut(xml_path: Path, tmp_path: Path) -> None:
    original = load_menu(xml_path)
    write_menu(original.config, tmp_path / "m.yaml")
    again = load_menu(tmp_path / "m.yaml")
    write_menu(again.config, tmp_path / "m.xml")
    assert (tmp_path / "m.xml").read_text() == xml_path.read_text()
    for a, b in zip(original.config.seeds, again.config.seeds, strict=True):
        assert (a.name, a.conditions, a.logic, a.unsupported) == (b.name, b.conditions, b.logic, b.unsupported)
        assert a.utm is not None
        assert b.utm is not None
        assert a.utm.expression == b.utm.expression
    assert original.config.cuts == again.config.cuts


def test_the_format_sample_reads_with_its_metadata() -> None:
    raw = read_tmxsd(SAMPLE.read_text(), source=str(SAMPLE))
    assert raw["name"] == "L1Menu_Collisions2025_v1_3_0"
    assert [s["name"] for s in raw["seeds"]] == ["L1_SingleMuCosmics_BMTF", "L1_SingleMuOpen"]
    assert raw["seeds"][0] | {} == {"name": "L1_SingleMuCosmics_BMTF", "expression": "MU0[MU-INDEX_BMTF]",
                                   "index": 1, "module_id": 3, "module_index": 41,
                                   "comment": "https://its.cern.ch/jira/browse/CMSLITDPG-113"}  # fmt: skip
    assert raw["cuts"]["MU-QLTY_OPEN"] == {"object": "MU", "type": "QLTY", "data": "4,5,6,7,8,9,10,11,12,13,14,15"}
    assert raw["utm"]["uuid_menu"] == "f21f71ad-9ad7-41eb-8fbc-f6de3d6c57ed"
    assert raw["utm"]["n_modules"] == "6"
    menu = load_menu(SAMPLE)
    assert menu.unsupported == {}  # MU-INDEX_BMTF reads mu_tfindex (36..71)
    leg = menu.hw_seeds[0].conditions[0].legs[0]  # type: ignore[union-attr]
    assert leg.index_windows == ((36, 71),)


def _sample_with(old: str, new: str) -> str:
    text = SAMPLE.read_text()
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ("<expression>MU0[MU-QLTY_OPEN]</expression>", "<expression>MU0[MU-QLTY_DBLE]</expression>",
         "seed L1_SingleMuOpen: cut 'MU-QLTY_DBLE' (on MU0[MU-QLTY_DBLE]) is not defined in the menu"),
        ("<expression>MU0[MU-QLTY_OPEN]</expression>", "<expression>MU0[MU-QLTY_OPEN</expression>",
         "seed L1_SingleMuOpen: expression: character 17: expected ',' or ']' after a cut name, got the end"),
        ("<expression>MU0[MU-QLTY_OPEN]</expression>", "<expression>MU0[MU-QLTY_OPEN, MU-QLTY_OPEN]</expression>",
         "MU0[MU-QLTY_OPEN, MU-QLTY_OPEN] has 2 QLTY cuts (MU-QLTY_OPEN, MU-QLTY_OPEN); at most 1"),
        ("<data>4,5,6,7,8,9,10,11,12,13,14,15</data>", "<data>4,5,6,7,8,9,10,11,12,13,14,15,16</data>",
         "cut.MU-QLTY_OPEN: QLTY data must list values 0..15"),
        ("<type>INDEX</type>", "<type>INDX</type>", "cut.MU-INDEX_BMTF: MU takes cut types"),
        (REQUIREMENT.format(thr="+0.0000000000000000E+00"), REQUIREMENT.format(thr="+5.0000000000000000E+00"),
         "algorithm L1_SingleMuCosmics_BMTF: object requirement 'MU0' (MU .ge. 5, bx +0) matches no object"),
        ("<index>4</index>", "<index>1</index>", "algorithm indices repeat: [1]"),
        ("<index>4</index>", "<index>four</index>", "algorithm L1_SingleMuOpen: <index> must be an integer"),
        ('<?xml version="1.0" encoding="UTF-8" standalone="no" ?>',
         '<?xml version="1.0"?><!DOCTYPE menu [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
         "document type / entity declarations are not accepted (line 1)"),
    ],
    ids=["undefined cut", "malformed", "two quality cuts", "bad LUT", "bad cut type", "requirement",
         "repeated index", "bad index", "external entity"],
)
def test_bad_xml_menus_name_seed_and_problem(tmp_path: Path, old: str, new: str, needle: str) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(_sample_with(old, new))
    with pytest.raises(MenuError) as err:
        load_menu(path)
    assert needle in str(err.value), str(err.value)
    assert str(err.value).startswith(str(path)), str(err.value)


def test_a_cut_defined_twice_must_match(tmp_path: Path) -> None:
    text = SAMPLE.read_text().replace("<name>MU-QLTY_OPEN</name>", "<name>MU-INDEX_BMTF</name>")
    text = text.replace("MU0[MU-QLTY_OPEN]", "MU0[MU-INDEX_BMTF]")
    path = tmp_path / "twice.xml"
    path.write_text(text)
    with pytest.raises(MenuError, match=r"algorithm L1_SingleMuOpen: cut MU-INDEX_BMTF differs from its "
                                        r"definition in algorithm L1_SingleMuCosmics_BMTF"):  # fmt: skip
        load_menu(path)


_SCALES = """<scale_set><name>scales_2024_05_15</name>
  <scale><object>EG</object><type>ETA</type><minimum>-5</minimum><maximum>5</maximum><step>{step}</step>
    <n_bits>8</n_bits></scale>
  <scale><object>MU</object><type>PHI</type><step>+1.0908307824964559E-02</step></scale>
  <scale><object>MU</object><type>UPT</type><step>+1.0000000000000000E+00</step></scale>
</scale_set>
</tmxsd:menu>"""


def test_a_scale_set_is_read_and_must_match_the_event_model(tmp_path: Path) -> None:
    path = tmp_path / "scales.xml"
    path.write_text(_sample_with("</tmxsd:menu>", _SCALES.format(step="+4.3500000000000000E-02")))
    assert load_menu(path).config.meta["scale_set"] == "scales_2024_05_15"
    path.write_text(_sample_with("</tmxsd:menu>", _SCALES.format(step="+8.7000000000000000E-02")))
    with pytest.raises(MenuError, match=r"scale EG-ETA has step 0.087, the event model's is 0.0435"):
        load_menu(path)


def test_native_menu_to_xml_and_back_decides_alike() -> None:
    """Every expressible l1emu seed of the every-cut menu, written as utm and read back, decides the same."""
    native = _menu([s for s in SEEDS if s["name"] not in ("Score", "IntScore", "Always", "TriJetTwoCorr", "SumWindow")])
    text, skipped = menu_to_xml(native.config)
    assert skipped == []
    again = Menu(parse_menu(read_tmxsd(text, source="x.xml"), where="x.xml"))
    batch = random_batch(5, 400)
    assert np.array_equal(again.evaluate(batch), native.evaluate(batch))
    with pytest.raises(MenuError, match=r"seed Score: a score column has no utm form"):
        menu_to_xml(_menu([s for s in SEEDS if s["name"] == "Score"]).config)
    skipped = menu_to_xml(_menu(SEEDS).config, skip_inexpressible=True)[1]
    assert [s.split(":")[0] for s in skipped] == ["TriJetTwoCorr", "SumWindow", "Score", "IntScore", "Always"]
    assert "pair cuts on 3 legs (2 correlations) have no utm form" in skipped[0]


def test_a_yaml_reference_runs_an_xml_menu_with_its_prescales(xml_path: Path, tmp_path: Path) -> None:
    ref = tmp_path / "menu.yaml"
    ref.write_text(f"menu: {xml_path}\nprescales: {PRESCALES}\ncolumn: 2p0E34\n")
    menu = load_menu(ref)
    assert len(menu.enabled()) == 225
    assert menu.default_column == "2p0E34"
    assert menu_to_mapping(menu.config)["seeds"][0]["prescale"] == 0


def test_cli_inspect_and_convert(xml_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["menu", "inspect", str(xml_path), "--prescales", str(PRESCALES), "--column", "2p0E34", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert {"name", "seeds", "enabled", "unsupported"} <= set(info)
    assert info["name"] == STEM
    assert info["enabled"] == 225
    assert info["enabled_evaluated"] == 225
    assert info["unsupported_enabled"] == {}
    assert "L1_ZeroBias" not in info["unsupported"]
    assert info["unsupported"]["L1_TOTEM_1"].startswith("EXT_TOTEM_1: external conditions need an event column")
    seed = next(s for s in info["seeds"] if s["name"] == "L1_SingleMu22")
    assert seed == {"name": "L1_SingleMu22", "index": 33, "prescale": 1, "enabled": True,
                    "expression": "MU22[MU-QLTY_SNGL]", "features": ["MU", "MU-QLTY"]}  # fmt: skip
    assert info["features"]["comb"] == 113
    assert info["features"]["MU"] == 177
    assert main(["menu", "inspect", str(xml_path)]) == 0
    text = capsys.readouterr().out
    assert "408 seeds, 408 enabled in column 'unprescaled'" in text
    assert " * L1_TOTEM_1: EXT_TOTEM_1" in text
    out = tmp_path / "menu.yaml"
    assert main(["menu", "convert", str(xml_path), str(out), "--prescales", str(PRESCALES)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert load_menu(out).prescales("2p0E34").tolist() == load_menu(xml_path, prescales=PRESCALES).prescales().tolist()
    assert main(["menu", "inspect", str(tmp_path / "missing.xml")]) == 2
    assert "cannot read menu" in capsys.readouterr().err
