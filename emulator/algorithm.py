"""The algorithm contract: what a stage runs, in order, on every batch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from streams.event import EventBatch

__all__ = ["Algorithm", "AlgorithmFactory", "BuildContext"]


@dataclass(frozen=True, slots=True)
class BuildContext:
    """What an algorithm may need at construction besides its own params."""

    config_dir: Path  # relative paths in params resolve against this
    menu_path: Path | None = None
    clock_mhz: float = 240.0

    def resolve(self, path: str | Path) -> Path:
        p = Path(path)
        return p if p.is_absolute() else self.config_dir / p


@runtime_checkable
class Algorithm(Protocol):
    """One step of a stage.

    ``process`` returns the batch with its output columns appended (inputs are
    read-only); it raises :class:`~emulator.errors.StageError` for bad content.
    ``latency_cycles`` is the algorithm's firmware latency estimate at a clock.
    """

    @property
    def name(self) -> str: ...

    @property
    def outputs(self) -> tuple[str, ...]: ...

    def process(self, batch: EventBatch) -> EventBatch: ...

    def latency_cycles(self, clock_mhz: float) -> int: ...


class AlgorithmFactory(Protocol):
    """Builds an algorithm from its instance name, YAML params and context."""

    def __call__(self, name: str, params: dict[str, Any], ctx: BuildContext) -> Algorithm: ...
