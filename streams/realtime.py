"""Real-time scheduling of a node (``stream.realtime_priority``): SCHED_FIFO, opt-in.

On a shared host the latency tail of a paced replay is set by whatever else wants a core:
kernel threads such as a memory monitor's periodic scans (tens of ms of CPU at a time),
other jobs, the nodes of the chain itself. A node under ``SCHED_FIFO`` preempts every
normally scheduled task the moment its input arrives, and runs until it blocks again, as
readout and trigger software does on its own hosts.

:func:`enter_realtime` puts the *calling thread* under SCHED_FIFO. Threads inherit the
policy of the thread that starts them, so a node calls it first thing in ``run``: the
ZeroMQ I/O threads (started with the node's context), the metrics server and the socket
watchers started afterwards inherit it. A node running as a thread of a larger process
(tests, the collector inside ``l1emu replay``) changes only its own threads.

Without the right (``CAP_SYS_NICE``, or ``RLIMIT_RTPRIO`` ≥ the priority) the node logs a
warning and runs with normal scheduling; :func:`scheduling` reports what each node got.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

__all__ = ["MAX_PRIORITY", "enter_realtime", "scheduling"]

log = logging.getLogger(__name__)

MAX_PRIORITY = 99  # Linux SCHED_FIFO priorities are 1..99
_POLICIES = {0: "other", 1: "fifo", 2: "rr", 3: "batch", 5: "idle", 6: "deadline"}


def enter_realtime(priority: int, who: str) -> bool:
    """Run the calling thread (and the threads it starts later) under SCHED_FIFO at ``priority``.

    ``priority`` 0 leaves scheduling alone. Returns whether the thread now runs real-time.
    """
    if priority == 0:
        return False
    if not 1 <= priority <= MAX_PRIORITY:
        msg = f"realtime priority must be in 1..{MAX_PRIORITY} (0: off), not {priority}"
        raise ValueError(msg)
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except PermissionError:
        log.warning("%s: SCHED_FIFO priority %d not permitted (needs CAP_SYS_NICE or RLIMIT_RTPRIO >= %d); "
                    "running with normal scheduling", who, priority, priority)
        return False
    log.info("%s: running under SCHED_FIFO priority %d", who, priority)
    return True


def _thread_policy(stat: str) -> tuple[str, int]:
    """(policy, rt priority) from a ``/proc/<pid>/task/<tid>/stat`` line."""
    fields = stat[stat.rindex(")") + 2:].split()  # fields 3.. (the name may hold spaces)
    return _POLICIES.get(int(fields[38]), "unknown"), int(fields[37])


def scheduling() -> dict[str, Any]:
    """The calling thread's policy and priority, and how many of the process's threads run
    real-time, read back from the kernel (``/proc/self/task``)."""
    policy = os.sched_getscheduler(0)
    out: dict[str, Any] = {"policy": _POLICIES.get(policy, "unknown"),
                           "priority": os.sched_getparam(0).sched_priority, "threads": 0, "realtime_threads": 0}
    for task in Path("/proc/self/task").iterdir():
        try:
            pol, _ = _thread_policy((task / "stat").read_text())
        except (OSError, ValueError, IndexError):  # a thread that ended meanwhile
            continue
        out["threads"] += 1
        out["realtime_threads"] += pol in ("fifo", "rr")
    return out
