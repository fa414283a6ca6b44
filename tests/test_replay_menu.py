"""``l1emu replay --menu MENU --prescales TABLE --column C``: a run's menu instead of the chain's.

The real 2024 menu (uGT XML built from the shared tm-reporter tables) with its prescale CSV runs
in process and through real node processes; the children read the same menu as the collector.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator.replay import ReplayOptions, replay
from streams.errors import ConfigError
from tests.helpers import CMS_MENU_DATA, DEFAULT_CONFIG, run_cli, write_cms_2024_xml

STEM = "L1Menu_Collisions2024_v1_3_0"
PRESCALES = CMS_MENU_DATA / f"{STEM}_prescales.csv"
FINOR = CMS_MENU_DATA / "run-settings-finor-mask-sample.xml"


@pytest.fixture(scope="module")
def xml_menu(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_cms_2024_xml(tmp_path_factory.mktemp("menu"))


def _opts(**kw: object) -> ReplayOptions:
    return ReplayOptions(config=DEFAULT_CONFIG, events=3000, seed=4, **kw)  # type: ignore[arg-type]


def test_the_2024_xml_menu_with_its_prescale_column_runs_in_process(xml_menu: Path) -> None:
    report = replay(_opts(in_process=True, menu=str(xml_menu), prescales=(str(PRESCALES),), column="2p0E34"))
    assert report["menu"] == STEM
    assert report["prescale_column"] == "2p0E34"
    seeds = report["seeds"]
    assert len(seeds) == 408
    assert sum(1 for s in seeds.values() if s["prescale"] != 0) == 225
    assert seeds["L1_SingleMuCosmics"]["prescale"] == 0  # disabled in 2p0E34
    assert seeds["L1_SingleMu22"]["prescale"] == 1
    assert report["accounting_ok"]


def test_the_menu_reaches_the_node_processes_and_a_mask_file_applies(xml_menu: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = run_cli("replay", "--config", DEFAULT_CONFIG, "--events", "3000", "--seed", "4", "--menu", str(xml_menu),
                   "--prescales", str(PRESCALES), "--prescales", str(FINOR), "--column", "2p0E34",
                   "--no-progress", "--report", str(out), timeout=300)  # fmt: skip
    streamed = json.loads(out.read_text())
    assert streamed["menu"] == STEM
    assert "L1_SingleMu22" in proc.stdout
    reference = replay(_opts(in_process=True, menu=str(xml_menu), prescales=(str(PRESCALES), str(FINOR)),
                             column="2p0E34"))  # fmt: skip
    assert {n: s["count_raw"] for n, s in streamed["seeds"].items()} == {
        n: s["count_raw"] for n, s in reference["seeds"].items()}
    assert streamed["total_rate_khz"] == pytest.approx(reference["total_rate_khz"])


def test_a_missing_menu_or_table_is_named_by_its_flag(xml_menu: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--menu .*nope.xml: no such file"):
        replay(_opts(in_process=True, menu=str(tmp_path / "nope.xml")))
    with pytest.raises(ConfigError, match=r"--prescales .*nope.csv: no such file"):
        replay(_opts(in_process=True, menu=str(xml_menu), prescales=(str(tmp_path / "nope.csv"),)))
    with pytest.raises(ConfigError, match="at most a prescale table and a mask file"):
        replay(_opts(in_process=True, prescales=(str(PRESCALES),) * 3))
    proc = run_cli("replay", "--config", DEFAULT_CONFIG, "--events", "100", "--in-process",
                   "--menu", str(tmp_path / "nope.xml"), check=False)  # fmt: skip
    assert proc.returncode != 0
    assert "--menu" in proc.stderr
    assert "no such file" in proc.stderr


def test_a_fractional_prescale_column_is_counted_as_the_ugt_counts_it(xml_menu: Path, tmp_path: Path) -> None:
    """CMS's own table with three seeds given fractional prescales: the replay accepts the column and each
    seed fires ⌊(F − 100 + 100 · passes) / F⌋ times (F = 100 · prescale, the first pass fires)."""
    fractional = {"L1_SingleJet35": 2.5, "L1_SingleEG10er2p5": 1.25, "L1_SingleMu3": 3.33}
    lines = PRESCALES.read_text(encoding="utf-8-sig").splitlines()
    col = lines[0].split(",").index("2p0E34")
    rows = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        if cells[1] in fractional:
            cells[col] = f"{fractional[cells[1]]:g}"
        rows.append(",".join(cells))
    table = tmp_path / "fractional.csv"
    table.write_text("\n".join(rows) + "\n")
    report = replay(_opts(in_process=True, menu=str(xml_menu), prescales=(str(table),), column="2p0E34"))
    for name, p in fractional.items():
        s = report["seeds"][name]
        f = round(100 * p)
        assert s["prescale"] == p
        assert s["count_raw"] > 10, name  # the seed passes often enough to test the counter
        assert s["count"] == (f - 100 + 100 * s["count_raw"]) // f, name
