"""The replay report: accounting, rates, latency — as JSON and as a printed table."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from emulator.chain import ChainConfig
from emulator.errors import StageError
from emulator.menu import Menu
from emulator.rate_reuse import hard_events
from emulator.rates import RateAccumulator, format_rate_table
from streams.collector import CollectorResult
from streams.event import EventBatch
from streams.metrics import NodeMetrics

__all__ = ["RateSink", "build_report", "format_report", "format_scheduling", "seed_counts", "write_report"]

class RateSink:
    """Collector sink: applies prescales in sequence order and accumulates rates.

    Prescale counters live here, downstream of every global-trigger worker, so
    per-seed counts do not depend on the number of workers or on arrival order.
    """

    def __init__(
        self, menu: Menu, chain: ChainConfig, *, column: str | None = None, metrics: NodeMetrics | None = None
    ) -> None:
        self.menu = menu
        self.column = column or menu.default_column
        self.prescales = menu.prescale_values(self.column)
        self.acc = RateAccumulator(
            menu.seed_names, self.prescales, n_bunches=chain.lhc.n_bunches, f_rev_hz=chain.lhc.f_rev_hz
        )
        self.metrics = metrics
        self._seed_counters = (
            [metrics.seed_accepts.labels(seed=s) for s in menu.seed_names] if metrics else []
        )

    def _seeds_raw(self, batch: EventBatch) -> np.ndarray:
        if "seeds_raw" not in batch:
            msg = f"events {batch.meta.first}..: no 'seeds_raw' column (does the chain end in a menu?)"
            raise StageError(msg)
        raw = batch["seeds_raw"]
        if raw.shape != (len(batch), len(self.menu.seed_names)):
            msg = f"'seeds_raw' has shape {raw.shape}, the menu has {len(self.menu.seed_names)} seeds"
            raise StageError(msg)
        return raw

    def warm_up(self, batch: EventBatch) -> None:
        """Run a warm-up batch through a scratch accumulator: same code, nothing counted."""
        scratch = copy.deepcopy(self.acc)
        scratch.update(self._seeds_raw(batch), batch["weight"], batch["pileup"], hard_events(batch))

    def on_batch(self, batch: EventBatch) -> None:
        fired, _ = self.acc.update(self._seeds_raw(batch), batch["weight"], batch["pileup"], hard_events(batch))
        if self.metrics is not None:
            for counter, n in zip(self._seed_counters, fired.sum(axis=0).tolist(), strict=True):
                if n:
                    counter.inc(n)

    def publish_rates(self) -> dict[str, Any]:
        """Current rates; also sets the live rate gauges."""
        res = self.acc.result()
        if self.metrics is not None:
            for name, seed in res["seeds"].items():
                self.metrics.seed_rate.labels(seed=name).set(seed["rate_khz"])
            self.metrics.total_rate.set(res["total_rate_khz"])
        return res

def build_report(
    *, chain: ChainConfig, sink: RateSink, collected: CollectorResult, run: Mapping[str, Any]
) -> dict[str, Any]:
    """Everything a replay measured, as plain JSON-ready data."""
    rates = sink.publish_rates()
    col = collected.as_dict()
    ev = col["events"]
    events = {
        "produced": ev["produced"], "accepted": int(rates["accepted"]), "rejected": int(rates["rejected"]),
        "errored": ev["errored"], "dropped": ev["dropped"], "lost": ev["lost"], "duplicates": ev["duplicates"],
    }
    balanced = events["produced"] == (
        events["accepted"] + events["rejected"] + events["errored"] + events["dropped"]
    )
    return {
        "chain": chain.name, "config": chain.path, "menu": sink.menu.name, "prescale_column": sink.column,
        "run": dict(run),
        "lhc": {"n_bunches": chain.lhc.n_bunches, "f_rev_hz": chain.lhc.f_rev_hz},
        "events": events,
        "accounting_ok": balanced and collected.complete,
        "deadtime_fraction": events["dropped"] / events["produced"] if events["produced"] else 0.0,
        "seeds": rates["seeds"],
        "total_rate_khz": rates["total_rate_khz"],
        "total_rate_err_khz": rates["total_rate_err_khz"],
        "overlap": rates["overlap"],
        "pileup": rates["pileup"],
        "latency_us": col["latency_us"],
        "throughput_eps": col["throughput_eps"],
        "warmup_batches": col["warmup_batches"],
        "bad_messages": col["bad_messages"],
        "errors": col["errors"],
        "workers": col["workers"],
        "scheduling": _scheduling(chain, col),
    }


def _scheduling(chain: ChainConfig, col: Mapping[str, Any]) -> dict[str, Any]:
    """The requested real-time priority and what each node read back from the kernel."""
    nodes = {name: node["sched"] for group in ("producers", "workers") for name, node in col[group].items()
             if isinstance(node, Mapping) and isinstance(node.get("sched"), Mapping)}
    if col.get("sched"):
        nodes["collector"] = col["sched"]
    return {"realtime_priority": chain.stream.realtime_priority, "nodes": nodes}

def _latency_lines(latency: Mapping[str, Any]) -> list[str]:
    def fmt(s: Mapping[str, float]) -> str:
        return f"p50 {s['p50']:10.1f}  p90 {s['p90']:10.1f}  p99 {s['p99']:10.1f}  max {s['max']:10.1f}"

    lines = [f"  {'end-to-end':<20} {fmt(latency['end_to_end'])}  (µs per event)"]
    for stage, s in latency["stages"].items():
        lines.append(f"  {stage:<20} {fmt(s['per_batch_us'])}  (µs per batch)")
    return lines

def format_report(report: Mapping[str, Any]) -> str:
    """The human-readable summary printed at the end of a replay."""
    ev = report["events"]
    lines = [f"menu {report['menu']}, prescale column {report['prescale_column']}",
             format_rate_table({**report, "events": ev["accepted"] + ev["rejected"],
                                "accepted": ev["accepted"]}), ""]
    lines.append(
        "events: produced {produced}  accepted {accepted}  rejected {rejected}  errored {errored}  "
        "dropped {dropped}  lost {lost}".format(**ev)
    )
    lines.append(f"accounting: {'OK' if report['accounting_ok'] else 'MISMATCH'}"
                 f"   throughput {report['throughput_eps']:,.0f} events/s"
                 f"   deadtime {100 * report['deadtime_fraction']:.2f} %")
    if report["bad_messages"]:
        lines.append(f"bad messages: {report['bad_messages']}")
    sched_line = format_scheduling(report)
    if sched_line:
        lines.append(sched_line)
    lines.append("latency:")
    lines += _latency_lines(report["latency_us"])
    return "\n".join(lines)

def format_scheduling(report: Mapping[str, Any]) -> str | None:
    """The summary's scheduling line: how many nodes got the real-time priority asked for, or, for
    a paced replay through processes under normal scheduling, what its latencies then include."""
    sched, run = report.get("scheduling", {}), report.get("run", {})
    priority = sched.get("realtime_priority")
    if run.get("in_process"):  # one loop, no nodes: the priority is a node setting
        return f"scheduling: in-process replay, SCHED_FIFO priority {priority} not applied" if priority else None
    if priority:
        nodes = sched.get("nodes", {}).values()
        granted = sum(n.get("policy") == "fifo" for n in nodes)
        line = f"scheduling: SCHED_FIFO priority {priority} requested, granted to {granted} of {len(nodes)} nodes"
        if granted < len(nodes):
            line += (" (the others run normally: not asked for it, or without CAP_SYS_NICE or RLIMIT_RTPRIO;"
                     " docs/deployment.md)")
        return line
    if run.get("rate_hz"):
        return ("scheduling: normal; paced latencies include whatever else runs on this host "
                "(--realtime-priority N runs the nodes real-time: docs/streaming.md)")
    return None

def _jsonable(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    msg = f"cannot serialise {type(obj).__name__}"
    raise TypeError(msg)

def write_report(path: str | Path, report: Mapping[str, Any]) -> None:
    Path(path).write_text(json.dumps(report, indent=2, default=_jsonable) + "\n")

def seed_counts(report: Mapping[str, Any]) -> dict[str, int]:
    """Per-seed post-prescale counts of a report (handy for comparisons)."""
    return {name: int(s["count"]) for name, s in report["seeds"].items()}

