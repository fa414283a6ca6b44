"""Chain configuration: a YAML topology of stages, validated when it loads.

>>> from emulator.chain import load_chain
>>> chain = load_chain("configs/default.yaml")
>>> [s.name for s in chain.stages]
['calo_layer1', 'objects', 'global_trigger']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.algorithm import Algorithm, BuildContext
from emulator.algorithms import get_algorithm
from emulator.errors import BudgetError
from emulator.params import from_mapping, load_yaml
from streams.errors import ConfigError
from streams.run.config import CurveConfig, MetricsConfig, StreamConfig, TcpConfig

__all__ = [
    "AlgorithmSpec",
    "Budget",
    "ChainConfig",
    "CurveConfig",
    "LhcConfig",
    "MetricsConfig",
    "StageConfig",
    "StreamConfig",
    "TcpConfig",
    "build_algorithms",
    "load_chain",
]


@dataclass(frozen=True, slots=True)
class LhcConfig:
    """Machine constants used to turn event fractions into rates."""

    n_bunches: int = 2544
    f_rev_hz: float = 11245.613

    @property
    def crossing_rate_hz(self) -> float:
        return self.n_bunches * self.f_rev_hz


@dataclass(frozen=True, slots=True)
class Budget:
    """A latency budget, in ns or in clock cycles (exactly one)."""

    ns: float | None = None
    cycles: int | None = None

    def __post_init__(self) -> None:
        if (self.ns is None) == (self.cycles is None):
            msg = "give exactly one of 'ns' or 'cycles'"
            raise ValueError(msg)

    def to_cycles(self, clock_mhz: float) -> int:
        if self.cycles is not None:
            return self.cycles
        assert self.ns is not None
        return int(self.ns * clock_mhz / 1000.0 + 1e-9)


@dataclass(frozen=True, slots=True)
class AlgorithmSpec:
    """One algorithm of a stage: its registered type, instance name and params."""

    type: str
    name: str = ""
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StageConfig:
    """A stage: algorithms in order, clock, latency budget and worker count."""

    name: str
    algorithms: tuple[AlgorithmSpec, ...]
    budget: Budget
    clock_mhz: float = 240.0
    workers: int = 1

    def __post_init__(self) -> None:
        if self.workers < 1:
            msg = f"workers must be >= 1, not {self.workers}"
            raise ValueError(msg)
        if self.clock_mhz <= 0:
            msg = f"clock_mhz must be positive, not {self.clock_mhz}"
            raise ValueError(msg)

    @property
    def budget_cycles(self) -> int:
        return self.budget.to_cycles(self.clock_mhz)


@dataclass(frozen=True, slots=True)
class ChainConfig:
    """A whole trigger chain as loaded from YAML."""

    name: str
    stages: tuple[StageConfig, ...]
    menu: str = ""
    lhc: LhcConfig = field(default_factory=LhcConfig)
    stream: StreamConfig = field(default_factory=StreamConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    path: str = ""  # the file it came from (set by load_chain)

    @property
    def config_dir(self) -> Path:
        return Path(self.path).parent if self.path else Path()

    @property
    def menu_path(self) -> Path | None:
        if not self.menu:
            return None
        p = Path(self.menu)
        return p if p.is_absolute() else self.config_dir / p

    @property
    def keys_dir(self) -> Path:
        p = Path(self.stream.curve.keys_dir)
        return p if p.is_absolute() else self.config_dir / p

    def stage(self, name: str) -> StageConfig:
        for s in self.stages:
            if s.name == name:
                return s
        msg = f"{self.path}: no stage named {name!r}; stages: {[s.name for s in self.stages]}"
        raise ConfigError(msg)

    def context(self, stage: StageConfig) -> BuildContext:
        return BuildContext(config_dir=self.config_dir, menu_path=self.menu_path, clock_mhz=stage.clock_mhz)


def load_chain(
    path: str | Path, *, overrides: dict[str, Any] | None = None, build: bool = True
) -> ChainConfig:
    """Load and fully validate a chain file: types, names, algorithms, budgets.

    ``overrides`` replaces top-level keys (e.g. ``{"stream": {...}}``) before checks.
    ``build=False`` checks the file's fields but builds no algorithm (a chain whose model
    files are still to be trained).
    """
    p = Path(path)
    raw = load_yaml(p)
    if not isinstance(raw, dict):
        msg = f"{p}: a chain file must be a mapping at top level"
        raise ConfigError(msg)
    raw = {**raw, **(overrides or {}), "path": str(p)}
    if not raw.get("stages"):
        msg = f"{p}: field 'stages' is missing or empty"
        raise ConfigError(msg)
    chain = from_mapping(ChainConfig, raw, where=str(p))
    names = [s.name for s in chain.stages]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        msg = f"{p}: stage names repeat: {dupes}"
        raise ConfigError(msg)
    if chain.menu_path is not None and not chain.menu_path.is_file():
        msg = f"{p}: field 'menu': no such file {chain.menu_path}"
        raise ConfigError(msg)
    for i, stage in enumerate(chain.stages if build else ()):
        build_algorithms(chain, stage, where=f"{p}: stages[{i}] ({stage.name})")
    return chain


def build_algorithms(chain: ChainConfig, stage: StageConfig, *, where: str = "") -> list[Algorithm]:
    """Instantiate a stage's algorithms and check the stage's latency budget."""
    where = where or f"{chain.path}: stage {stage.name}"
    ctx = chain.context(stage)
    algos: list[Algorithm] = []
    seen: set[str] = set()
    for j, spec in enumerate(stage.algorithms):
        name = spec.name or spec.type
        if name in seen:
            msg = f"{where}: algorithms[{j}]: name {name!r} repeats; give each a distinct 'name'"
            raise ConfigError(msg)
        seen.add(name)
        try:
            algos.append(get_algorithm(spec.type)(name, dict(spec.params), ctx))
        except ConfigError as exc:
            msg = f"{where}: algorithms[{j}] ({spec.type}): {exc}"
            raise ConfigError(msg) from exc
    total = sum(a.latency_cycles(stage.clock_mhz) for a in algos)
    if total > stage.budget_cycles:
        parts = ", ".join(f"{a.name}={a.latency_cycles(stage.clock_mhz)}" for a in algos)
        msg = (
            f"{where}: latency estimate {total} cycles ({parts}) exceeds the budget of "
            f"{stage.budget_cycles} cycles at {stage.clock_mhz} MHz"
        )
        raise BudgetError(msg)
    return algos
