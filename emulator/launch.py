"""A chain plus a run's overrides, resolved once into the launch plan every node starts from.

:func:`launch_plan` is the one place a chain becomes node configs: ``l1emu replay``
writes its result for the children, and ``l1emu node|produce|collect`` on another
host calls it in-process from the same YAML and flags.

>>> chain = load_run_chain("configs/default.yaml", ChainOverrides(workers=2, ipc_dir="/tmp/x"))
>>> plan = launch_plan(chain, ChainOverrides(workers=2, ipc_dir="/tmp/x"))
>>> [w.endpoint.name for w in plan.workers][:2], plan.chain.path
(['calo_layer1-0', 'calo_layer1-1'], 'configs/default.yaml')
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from emulator.chain import ChainConfig, load_chain
from emulator.params import load_yaml
from streams.errors import ConfigError
from streams.run.launch import ChainOverrides, ChainRef, LaunchPlan, SourceSpec, build_launch_plan

__all__ = ["chain_overrides", "launch_plan", "load_run_chain", "menu_reference", "resolve_launch"]


def chain_overrides(path: str | Path, overrides: ChainOverrides) -> dict[str, Any]:
    """Top-level keys of the chain file at ``path`` replaced for ``overrides`` (validated by load_chain)."""
    raw = load_yaml(path)
    if not isinstance(raw, dict):
        msg = f"{path}: a chain file must be a mapping at top level"
        raise ConfigError(msg)
    o = overrides
    out: dict[str, Any] = {}
    stream = dict(raw.get("stream") or {})
    for key, value in (("transport", o.transport), ("ipc_dir", o.ipc_dir or None), ("policy", o.policy),
                       ("batch_size", o.batch_size), ("collect_timeout_s", o.collect_timeout_s),
                       ("realtime_priority", o.realtime_priority)):
        if value is not None:
            stream[key] = value
    out["stream"] = stream
    if o.metrics_port is not None:
        out["metrics"] = {**(raw.get("metrics") or {}), "base_port": o.metrics_port}
    if o.menu:
        out["menu"] = o.menu
    if o.workers is not None:
        out["stages"] = [{**s, "workers": o.workers} for s in raw.get("stages") or []]
    return out


def load_run_chain(path: str | Path, overrides: ChainOverrides, *, build: bool = True) -> ChainConfig:
    """The chain at ``path`` with a run's overrides applied, validated (see :func:`load_chain`)."""
    return load_chain(path, overrides=chain_overrides(path, overrides), build=build)


def launch_plan(
    chain: ChainConfig, overrides: ChainOverrides, *, producers: int = 1, source: SourceSpec | None = None,
    rate_hz: float = 0.0, linger_s: float = 0.0, expected_events: int | None = None,
) -> LaunchPlan:
    """Every node's config for ``chain`` (loaded by :func:`load_run_chain` with ``overrides``)."""
    return build_launch_plan(
        chain=ChainRef(chain.path, overrides), stream=chain.stream, metrics=chain.metrics,
        stages=[(s.name, s.workers) for s in chain.stages], keys_dir=chain.keys_dir, producers=producers,
        source=source, rate_hz=rate_hz, linger_s=linger_s, expected_events=expected_events,
    )


def resolve_launch(
    path: str | Path, overrides: ChainOverrides, *, producers: int = 1, source: SourceSpec | None = None,
    rate_hz: float = 0.0, linger_s: float = 0.0,
) -> tuple[ChainConfig, LaunchPlan]:
    """Load the chain and resolve its launch plan in one step (a node started from YAML and flags)."""
    chain = load_run_chain(path, overrides)
    return chain, launch_plan(chain, overrides, producers=producers, source=source, rate_hz=rate_hz,
                              linger_s=linger_s)


def menu_reference(config: str | Path, menu: str | None, prescales: Sequence[str], column: str | None,
                   directory: Path) -> str:
    """The menu file a run uses instead of its chain's, or ``""`` to keep the chain's.

    ``menu`` alone is used as it is; with ``prescales`` (prescale tables, FinOR/veto masks) a menu
    reference naming ``menu`` (or the chain's own menu) and the tables, with ``column``, is written
    into ``directory``, where every node of the run reads it. Missing files raise ConfigError
    naming the flag.
    """
    if menu is None and not prescales:
        return ""
    for flag, files in (("--menu", [menu] if menu else []), ("--prescales", list(prescales))):
        for f in files:
            if not Path(f).is_file():
                msg = f"{flag} {f}: no such file"
                raise ConfigError(msg)
    if menu is not None:
        base = Path(menu).resolve()
    else:
        chain = load_chain(config, build=False)
        if chain.menu_path is None:
            msg = f"{config}: --prescales needs a menu, and the chain has none (give --menu)"
            raise ConfigError(msg)
        base = chain.menu_path.resolve()
    if not prescales:
        return str(base)
    lines = [f"menu: {json.dumps(str(base))}", f"prescales: {json.dumps(str(Path(prescales[0]).resolve()))}"]
    if len(prescales) > 2:
        msg = f"--prescales: at most a prescale table and a mask file, got {len(prescales)}"
        raise ConfigError(msg)
    if len(prescales) == 2:
        lines.append(f"masks: {json.dumps(str(Path(prescales[1]).resolve()))}")
    if column is not None:
        lines.append(f"column: {json.dumps(column)}")
    ref = directory / "menu-reference.yaml"
    ref.write_text("\n".join(lines) + "\n")
    return str(ref)
