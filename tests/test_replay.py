"""End-to-end replays through real node processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import (
    DEFAULT_CONFIG,
    balanced,
    free_port_block,
    load_report,
    run_cli,
    seed_counts,
    write_config,
)

pytestmark = pytest.mark.integration

EVENTS = "20000"


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("ref") / "inproc.json"
    run_cli("replay", "--config", DEFAULT_CONFIG, "--events", EVENTS, "--in-process", "--report", str(out))
    return load_report(out)


@pytest.mark.parametrize(
    "flags",
    [
        ["--workers", "1"],
        ["--workers", "3"],
        ["--workers", "2", "--producers", "2", "--batch-size", "1000"],
        ["--workers", "2", "--transport", "tcp"],
    ],
    ids=["ipc-1worker", "ipc-3workers", "fan-in-2producers", "tcp-2workers"],
)
def test_seed_counts_identical_for_any_worker_count(
    tmp_path: Path, reference: dict[str, object], flags: list[str]
) -> None:
    out = tmp_path / "r.json"
    cfg = DEFAULT_CONFIG
    if "tcp" in flags:  # tcp ports from a free block, not the config's fixed base
        base = free_port_block(16)
        cfg = write_config(tmp_path / "tcp.yaml", **{"base_port: 5550": f"base_port: {base}"})
    proc = run_cli("replay", "--config", cfg, "--events", EVENTS, "--report", str(out), *flags)
    report = load_report(out)
    assert balanced(report), report["events"]
    assert report["events"]["produced"] == int(EVENTS)
    assert seed_counts(report) == seed_counts(reference)  # type: ignore[arg-type]
    assert (report["run"]["executor"], reference["run"]["executor"]) == ("streamed", "in-process")
    # one report, whichever executor filled it: every field but timings and run details
    assert set(report) == set(reference)
    for key in ("overlap", "pileup", "seeds", "bad_messages", "errors"):
        assert report[key] == reference[key], key
    assert report["total_rate_khz"] == pytest.approx(reference["total_rate_khz"])
    assert report["latency_us"]["end_to_end"]["p99"] > 0
    assert set(report["latency_us"]["stages"]) == {"calo_layer1", "objects", "global_trigger"}
    assert "accounting: OK" in proc.stdout
    assert "total" in proc.stdout
    sched = report["scheduling"]  # by default every node runs under normal scheduling
    assert sched["realtime_priority"] == 0
    assert {n["policy"] for n in sched["nodes"].values()} == {"other"}
    assert len(sched["nodes"]) == 1 + sum(report["run"]["workers"].values()) + report["run"]["producers"]
    assert "SCHED_FIFO" not in proc.stdout


def test_bad_config_fails_with_a_clear_message(tmp_path: Path) -> None:
    bad = write_config(tmp_path / "bad.yaml", **{"type: jet_sums": "type: jet_summs"})
    proc = run_cli("replay", "--config", bad, "--events", "10", check=False)
    assert proc.returncode == 2
    assert "unknown algorithm type 'jet_summs'" in proc.stderr
    assert bad in proc.stderr
    missing = run_cli("replay", "--config", str(tmp_path / "nope.yaml"), check=False)
    assert missing.returncode == 2
    assert "nope.yaml" in missing.stderr
