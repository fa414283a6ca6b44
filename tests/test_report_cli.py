"""``l1emu scan`` and ``l1emu report`` end to end; the HTML page opened in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from l1emu.cli import main
from streams.hdf5 import HDF5Writer
from streams.sources import open_source
from tests.helpers import DEFAULT_CONFIG, load_report, run_cli

pytestmark = pytest.mark.integration

EVENTS = "10000"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                  "--disable-component-update", "--disable-sync")  # fmt: skip
# Counts the page's images once everything has loaded (or failed): complete and decoded to real pixels.
_CHECK = ("<script>window.addEventListener('load',()=>{const im=[...document.images];"
          "document.body.setAttribute('data-images',im.length);"
          "document.body.setAttribute('data-loaded',im.filter(i=>i.complete&&i.naturalWidth>0).length);});"
          "</script>")  # fmt: skip


def images_loaded(page: Path, profile: Path) -> tuple[int, int]:
    """(images on the page, images loaded) as headless Chromium sees them."""
    binary = shutil.which("chromium")
    if binary is None:
        pytest.fail("Debian's chromium is not installed: run `make chromium` (make test does)")
    check = page.with_name("_check.html")
    check.write_text(page.read_text().replace("</body>", _CHECK + "</body>"))
    proc = subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=15000", "--dump-dom",
         check.as_uri()], capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    check.unlink()
    m = re.search(r'<body data-images="(\d+)" data-loaded="(\d+)"', proc.stdout)
    assert m, f"chromium did not run the check (exit {proc.returncode}):\n{proc.stderr[-2000:]}"
    return int(m.group(1)), int(m.group(2))


def _sample_file(path: Path, *, seed: int, shift: float) -> None:
    """Parametric events plus generator-level and anomaly-score columns, as later samples will carry."""
    rng = np.random.default_rng(seed)
    with HDF5Writer(path) as w:
        for batch in open_source(None, events=3000, seed=seed).batches(1000):
            n = len(batch)
            w.append(batch.with_columns(
                gen_mu_pt=(batch["mu_pt"][:, 0] * 0.5 + rng.normal(0, 1, n)).astype(np.float32),
                score_axo=(rng.exponential(1.0, n) + shift).astype(np.float32)))  # fmt: skip


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    d = tmp_path_factory.mktemp("cli")
    run_cli("replay", "--config", DEFAULT_CONFIG, "--events", EVENTS, "--in-process", "--report", str(d / "r.json"))
    proc = run_cli("scan", "--config", DEFAULT_CONFIG, "--events", EVENTS, "--seed",
                   "L1_SingleMu22,L1_SingleEG10er2p5", "--seed", "L1_HTT280er:htt", "--range", "0:400:1",
                   "--target-khz", "5", "--out", str(d / "scan.json"), "--plots", str(d / "scanplots"))  # fmt: skip
    _sample_file(d / "zb.h5", seed=11, shift=0.0)
    _sample_file(d / "sig.h5", seed=12, shift=3.0)
    return {"dir": d, "report": load_report(d / "r.json"), "scan": load_report(d / "scan.json"), "stdout": proc.stdout}


def test_scan_reproduces_the_replay_at_the_menu_threshold(work: dict[str, Any]) -> None:
    report, scan = work["report"], work["scan"]
    assert [s["seed"] for s in scan["scans"]] == ["L1_SingleMu22", "L1_SingleEG10er2p5", "L1_HTT280er"]
    for s in scan["scans"]:
        seed = report["seeds"][s["seed"]]
        assert (s["menu"]["count"], s["menu"]["count_raw"]) == (seed["count"], seed["count_raw"])
        assert s["menu"]["rate_khz"] == pytest.approx(seed["rate_khz"], rel=1e-12, abs=1e-12)
        assert all(a >= b for a, b in zip(s["rate_khz"], s["rate_khz"][1:], strict=False))  # non-increasing
        k = s["thresholds"].index(s["menu"]["threshold"])
        assert s["count"][k] == seed["count"]
        assert s["target"]["target_khz"] == 5.0
    eg = scan["scans"][1]
    assert eg["prescale"] > 1
    assert eg["rate_raw_khz"][0] > eg["rate_khz"][0]  # pre- and post-prescale curves are both there
    assert "lowest threshold with rate <= 5 kHz" in work["stdout"]
    assert sorted(p.name for p in (work["dir"] / "scanplots").iterdir()) == [
        "scan_L1_HTT280er_htt.json", "scan_L1_HTT280er_htt.png", "scan_L1_SingleEG10er2p5_pt.json",
        "scan_L1_SingleEG10er2p5_pt.png", "scan_L1_SingleMu22_pt.json", "scan_L1_SingleMu22_pt.png"]  # fmt: skip


def test_report_renders_every_plot_and_chromium_loads_every_image(work: dict[str, Any], tmp_path: Path) -> None:
    d = work["dir"]
    out = tmp_path / "report"
    proc = run_cli("report", str(d / "r.json"), "--out", str(out), "--scan", str(d / "scan.json"),
                   "--config", DEFAULT_CONFIG, "--zero-bias", str(d / "zb.h5"), "--signal", f"sig={d / 'sig.h5'}",
                   "--turnon", "L1_SingleMu22=gen_mu_pt", "--target-mu", "140,200")  # fmt: skip
    pngs = sorted(p.stem for p in out.glob("*.png"))
    assert f"wrote {len(pngs)} plots" in proc.stdout
    for family in ("scan_L1_SingleMu22_pt", "pileup_total", "overlap", "pure_rates", "prescale_columns",
                   "turnon_L1_SingleMu22_sig", "score_axo_distributions", "score_axo_rate", "score_axo_efficiency",
                   "latency_percentiles"):  # fmt: skip
        assert family in pngs
    assert all((out / f"{p}.json").is_file() for p in pngs)  # every plot's numbers beside it
    total, loaded = images_loaded(out / "index.html", tmp_path / "chromium")
    assert total == len(pngs)
    assert loaded == total
    html = (out / "index.html").read_text()
    assert "Seed rates (menu" in html
    assert "rate at μ=200 [kHz]" in html


def test_linked_images_load_and_a_missing_one_is_caught(work: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "linked"
    run_cli("report", str(work["dir"] / "r.json"), "--out", str(out), "--link-images")
    total, loaded = images_loaded(out / "index.html", tmp_path / "chromium")
    assert total == loaded == len(list(out.glob("*.png")))
    (out / "overlap.png").unlink()  # the check must notice a broken image
    assert images_loaded(out / "index.html", tmp_path / "chromium") == (total, total - 1)


@pytest.mark.parametrize(
    ("args", "message"),
    [(["report", "missing.json", "--out", "x"], "missing.json: cannot read JSON"),
     (["scan", "--seed", "Nope", "--range", "1:2:1", "--events", "10"], "no seed 'Nope'"),
     (["scan", "--seed", "L1_SingleMu22", "--range", "5:1:1"], "--range '5:1:1'")],
)  # fmt: skip
def test_mistakes_are_reported_plainly(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    assert message in capsys.readouterr().err
