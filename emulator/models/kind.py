"""The model-kind registry: what differs between trigger models, registered once per kind.

A :class:`ModelKind` says how to build a model's inputs from a batch (what the chain
algorithm, the firmware testbench and training all feed it), which chain algorithm type runs
it, and how to train it (lazily: nothing here imports TensorFlow). Registration is explicit
and case-insensitive; the registry knows nothing of the built-ins, which
:mod:`emulator.models.kinds` registers.

>>> from emulator.models.kinds import get_model_kind
>>> kind = get_model_kind("CICADA")
>>> kind.algorithm, kind.inputs(EventBatch.empty(2)).shape
('cicada', (2, 18, 14, 1))
>>> get_model_kind("vae")
Traceback (most recent call last):
...
streams.errors.ConfigError: unknown model 'vae'; known: ['axol1tl', 'cicada', 'tagger']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emulator.registry import Registry
from streams.event import EventBatch

__all__ = [
    "ModelKind",
    "TrainingRun",
    "get_model_kind",
    "model_kind_for_algorithm",
    "model_kinds",
    "register_model_kind",
]


@dataclass(frozen=True, slots=True)
class TrainingRun:
    """One training request, its samples already prepared by the chain's upstream algorithms."""

    sample: EventBatch  # zero bias (anomaly models) or the background (tagger)
    out_dir: Path
    seed: int
    signal: tuple[EventBatch, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)  # overrides of the trainer's config fields
    parametric: int = 0  # trailing parametric zero-bias events appended to ``sample``


@dataclass(frozen=True, slots=True)
class ModelKind:
    """Everything the trigger models differ in, for one kind of model."""

    name: str
    algorithm: str  # the chain algorithm type that runs it
    inputs: Callable[[EventBatch], np.ndarray]  # model inputs of a batch (chain, testbench, training)
    train: Callable[[TrainingRun], dict[str, Any]]  # trains and ships; imports TensorFlow when called
    needs_signal: bool = False  # trains signal against ``sample`` (``--signal`` required)
    takes_parametric: bool = True  # accepts parametric zero-bias events in ``sample``
    epochs_option: str = "epochs"  # the config field ``l1emu train --epochs`` sets
    help: str = ""


_KINDS: Registry[ModelKind] = Registry("model kind", unknown="model")


def register_model_kind(kind: ModelKind, *, replace: bool = False) -> None:
    """Register ``kind`` under its name; a duplicate raises unless ``replace``."""
    _KINDS.register(kind.name, kind, replace=replace)


def get_model_kind(name: str) -> ModelKind:
    """The kind registered under ``name`` (case-insensitive)."""
    return _KINDS.get(name)


def model_kinds() -> tuple[str, ...]:
    """The registered kind names, sorted."""
    return tuple(_KINDS.names())


def model_kind_for_algorithm(algorithm: str) -> ModelKind | None:
    """The kind run by chain algorithm type ``algorithm`` (case-insensitive), if any."""
    return next((k for k in _KINDS.values() if k.algorithm.lower() == algorithm.lower()), None)
