"""``model``: run any imported model (``l1emu model import``) on a named input view, one column per head.

Views: ``axol1tl`` (the 57 GT inputs), ``cicada`` (18 × 14 region ETs), ``tagger`` (the 7
features of each of 12 jets: the model runs per jet and each head becomes ``(N, 12[, k])``),
or ``columns`` (batch columns flattened and joined per event). Head ``h`` of algorithm
``name`` is written as ``<prefix>_<h>`` (prefix: ``name`` unless set); one-value heads are
``(N,)`` float32. With ``split: true`` a head of ``k`` values is also written as ``k`` columns
``<prefix>_<h>_<i>``, so a menu seed can cut on one of them (``{score: ds_d1_2, min: 0.5}``).

.. code-block:: yaml

    - name: ds_tagger
      type: model
      params: {model: models/ds_tagger, view: columns, columns: [jet_pt, jet_eta, jet_phi]}
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from emulator.algorithm import BuildContext
from emulator.fixedpoint import FixedPointError, FixedPointGraph
from emulator.models.inputs import axol1tl_inputs, cicada_inputs, tagger_features
from emulator.models.latency_estimate import graph_latency_cycles
from emulator.models.runtime import require_finite, resolve_model
from emulator.params import from_mapping
from streams.errors import ConfigError
from streams.event import EventBatch

__all__ = ["ImportedModel", "ImportedModelConfig"]

_VIEWS = ("axol1tl", "cicada", "tagger", "columns")
_VIEW_SIZE = {"axol1tl": 57, "cicada": 18 * 14, "tagger": 7}
_JETS = 12


@dataclass(frozen=True, slots=True)
class ImportedModelConfig:
    model: str  # model directory written by ``l1emu model import``, relative to the chain file
    view: str = "columns"  # axol1tl | cicada | tagger | columns
    columns: tuple[str, ...] = ()  # the ``columns`` view: batch columns, flattened and joined per event
    prefix: str = ""  # output columns ``<prefix>_<head>``; default: the algorithm's name
    regions: str = "regions_cal"  # region column of the cicada/tagger views (``regions`` if absent)
    split: bool = False  # also write each value of a vector head as its own column ``<prefix>_<head>_<i>``


class ImportedModel:
    """One imported (multi-head) model on one view of the batch."""

    def __init__(self, name: str, config: ImportedModelConfig, ctx: BuildContext) -> None:
        where = f"algorithm {name!r}"
        if config.view not in _VIEWS:
            msg = f"{where}: view {config.view!r} is not one of {_VIEWS}"
            raise ConfigError(msg)
        if config.view == "columns" and not config.columns:
            msg = f"{where}: the 'columns' view needs params.columns (a list of batch columns)"
            raise ConfigError(msg)
        path = resolve_model(config.model, ctx.config_dir)
        try:
            self.model = FixedPointGraph.load(path)
        except FixedPointError as exc:
            msg = f"{where}: model {path}: {exc}"
            raise ConfigError(msg) from exc
        if len(self.model.inputs) != 1:
            msg = f"{where}: model {path} has {len(self.model.inputs)} inputs; a view feeds one"
            raise ConfigError(msg)
        want = _VIEW_SIZE.get(config.view)
        if want is not None and self.model.inputs[0].size != want:
            msg = f"{where}: model {path} takes {self.model.inputs[0].size} inputs, view {config.view!r} gives {want}"
            raise ConfigError(msg)
        self.name, self.config = name, config
        prefix = config.prefix or name
        self.columns = {head: f"{prefix}_{head}" for head in self.model.outputs}
        self.sizes = {head: math.prod(self.model.output_shape(head)) for head in self.model.outputs}
        split = [f"{self.columns[h]}_{i}" for h, k in self.sizes.items() if config.split and k > 1 for i in range(k)]
        self.outputs: tuple[str, ...] = (*self.columns.values(), *split)

    @classmethod
    def build(cls, name: str, params: dict[str, Any], ctx: BuildContext) -> ImportedModel:
        return cls(name, from_mapping(ImportedModelConfig, params, where=f"algorithm {name!r} params"), ctx)

    def latency_cycles(self, clock_mhz: float) -> int:
        return graph_latency_cycles(self.model, clock_mhz) + (3 if self.config.view == "tagger" else 0)

    def model_inputs(self, batch: EventBatch) -> np.ndarray:
        """The model's input rows on ``batch`` (per event; per jet in the tagger view): the firmware testbench."""
        return self._inputs(batch)

    def _inputs(self, batch: EventBatch) -> np.ndarray:
        view, regions = self.config.view, self.config.regions
        if view == "axol1tl":
            return axol1tl_inputs(batch)
        if view == "cicada":
            col = regions if regions in batch else "regions"
            require_finite(batch, (col,), where=self.name)
            return cicada_inputs(batch, col)
        if view == "tagger":
            return tagger_features(batch, regions).reshape(len(batch) * _JETS, -1)
        require_finite(batch, self.config.columns, where=self.name)
        x = np.concatenate([np.asarray(batch[c], np.float64).reshape(len(batch), -1) for c in self.config.columns], 1)
        if x.shape[1] != self.model.inputs[0].size:
            msg = f"{self.name}: columns {list(self.config.columns)} give {x.shape[1]} values per event"
            raise ConfigError(msg + f", the model takes {self.model.inputs[0].size}")
        return x

    def process(self, batch: EventBatch) -> EventBatch:
        n = len(batch)
        ys = self.model.predict(self._inputs(batch))
        heads = ys if isinstance(ys, list) else [ys]
        lead = (n, _JETS) if self.config.view == "tagger" else (n,)
        out = {}
        for head, y in zip(self.model.outputs, heads, strict=True):
            size = self.sizes[head]
            values = np.asarray(y, np.float32).reshape(*lead, *((size,) if size > 1 else ()))
            out[self.columns[head]] = values
            if self.config.split and size > 1:
                out.update({f"{self.columns[head]}_{i}": np.ascontiguousarray(values[..., i]) for i in range(size)})
        return batch.with_columns(**out)
