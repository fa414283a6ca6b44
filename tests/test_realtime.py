"""Real-time scheduling of nodes (``stream.realtime_priority``), read back from the kernel."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from emulator.replay_report import format_report, format_scheduling
from streams.realtime import enter_realtime, scheduling
from tests.helpers import DEFAULT_CONFIG, ROOT, balanced, load_report, run_cli


def _kernel_policy(tid: int) -> tuple[int, int]:
    """(policy, rt priority) of one of this process's threads, from /proc."""
    stat = Path(f"/proc/self/task/{tid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[38]), int(fields[37])


def _in_thread(fn: Any) -> Any:
    out: list[Any] = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join(timeout=30)
    assert not t.is_alive()
    return out[0]


def test_priority_zero_changes_nothing() -> None:
    def body() -> tuple[bool, tuple[int, int], dict[str, Any]]:
        return enter_realtime(0, "t"), _kernel_policy(threading.get_native_id()), scheduling()

    granted, policy, sched = _in_thread(body)
    assert granted is False
    assert policy == (0, 0)  # SCHED_OTHER
    assert sched["policy"] == "other"
    assert sched["priority"] == 0


@pytest.mark.parametrize("priority", [-1, 100])
def test_priority_out_of_range_is_refused(priority: int) -> None:
    with pytest.raises(ValueError, match=r"realtime priority must be in 1\.\.99"):
        enter_realtime(priority, "t")


def test_thread_and_the_threads_it_starts_run_fifo_others_do_not() -> None:
    main_before = _kernel_policy(threading.get_native_id())

    def body() -> dict[str, Any]:
        assert enter_realtime(7, "t") is True
        child: list[tuple[int, int]] = []
        c = threading.Thread(target=lambda: child.append(_kernel_policy(threading.get_native_id())))
        c.start()
        c.join(timeout=30)
        return {"self": _kernel_policy(threading.get_native_id()), "child": child[0], "sched": scheduling()}

    got = _in_thread(body)
    assert got["self"] == (1, 7)  # SCHED_FIFO, priority 7
    assert got["child"] == (1, 7)  # inherited by a thread started afterwards
    assert got["sched"]["policy"] == "fifo"
    assert got["sched"]["priority"] == 7
    assert 1 <= got["sched"]["realtime_threads"] <= got["sched"]["threads"]
    assert _kernel_policy(threading.get_native_id()) == main_before  # the rest of the process is untouched


def test_without_the_right_the_node_warns_and_runs_normally() -> None:
    """Without CAP_SYS_NICE (dropped from the bounding set, so the exec'd root process lacks it)
    and with RLIMIT_RTPRIO 0 the kernel refuses; the node carries on under normal scheduling."""
    code = ("import json, logging; logging.basicConfig(); from streams.realtime import enter_realtime, scheduling; "
            "print(json.dumps([enter_realtime(5, 'w0'), scheduling()]))")
    proc = subprocess.run(
        ["setpriv", "--bounding-set", "-sys_nice", "prlimit", "--rtprio=0", sys.executable, "-c", code],
        capture_output=True, text=True, timeout=60, cwd=ROOT, check=True,
    )
    granted, sched = json.loads(proc.stdout)
    assert granted is False
    assert sched["policy"] == "other"
    assert sched["realtime_threads"] == 0
    assert "w0: SCHED_FIFO priority 5 not permitted" in proc.stderr


@pytest.mark.integration
def test_paced_replay_runs_every_node_fifo(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = run_cli("replay", "--config", DEFAULT_CONFIG, "--events", "10000", "--batch-size", "256",
                   "--rate", "20000", "--realtime-priority", "5", "--report", str(out))
    report = load_report(out)
    assert balanced(report), report["events"]
    assert report["run"]["realtime_priority"] == 5
    nodes = report["scheduling"]["nodes"]
    assert set(nodes) == {"producer-0", "calo_layer1-0", "objects-0", "global_trigger-0", "collector"}
    for name, sched in nodes.items():
        assert (sched["policy"], sched["priority"]) == ("fifo", 5), name
        assert sched["realtime_threads"] >= 3, (name, sched)  # the node's thread + ZeroMQ's I/O and reaper
    assert "SCHED_FIFO priority 5 requested, granted to 5 of 5 nodes" in proc.stdout
    assert proc.stdout.count("SCHED_FIFO") == 1
    assert format_report(report) in proc.stdout


def _report(priority: int, policies: list[str], rate_hz: float, in_process: bool = False) -> dict[str, Any]:
    nodes = {f"n{i}": {"policy": pol, "priority": priority if pol == "fifo" else 0} for i, pol in enumerate(policies)}
    return {"scheduling": {"realtime_priority": priority, "nodes": nodes},
            "run": {"rate_hz": rate_hz, "in_process": in_process}}


def test_summary_says_what_scheduling_the_latencies_were_measured_under() -> None:
    line = format_scheduling(_report(10, ["fifo"] * 3, 0.0))
    assert line == "scheduling: SCHED_FIFO priority 10 requested, granted to 3 of 3 nodes"
    partial = format_scheduling(_report(10, ["fifo", "other", "fifo"], 40000.0))
    assert partial is not None
    assert partial.startswith("scheduling: SCHED_FIFO priority 10 requested, granted to 2 of 3 nodes")
    assert "CAP_SYS_NICE" in partial
    paced = format_scheduling(_report(0, ["other"] * 3, 40000.0))  # paced, normal: say what that means
    assert paced is not None
    assert paced.startswith("scheduling: normal")
    assert "--realtime-priority" in paced
    assert format_scheduling(_report(0, ["other"] * 3, 0.0)) is None  # as fast as possible: nothing to say
    assert format_scheduling(_report(0, [], 40000.0, in_process=True)) is None  # no nodes to schedule
    ignored = format_scheduling(_report(10, [], 0.0, in_process=True))  # asked for, but there are no nodes
    assert ignored == "scheduling: in-process replay, SCHED_FIFO priority 10 not applied"
