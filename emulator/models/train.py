"""``train(kind, ...)``: read samples, prepare them as the chain does, train, ship.

Inputs pass through the chain's algorithms that precede the model (from the raw chain
YAML), so training sees exactly what the trigger will: e.g. calibrated regions for CICADA,
calibrated jets for AXOL1TL and the tagger.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from emulator.chain import load_chain
from emulator.models.dataset import read_sample
from emulator.models.kind import TrainingRun
from emulator.models.kinds import get_model_kind
from emulator.pipeline import Pipeline
from streams.errors import ConfigError
from streams.event import EventBatch

__all__ = ["train", "upstream_pipeline"]

log = logging.getLogger(__name__)


def _prepared(path: str | Path, chain: str | Path, kind: str, limit: int | None, parametric: int = 0) -> EventBatch:
    batch = read_sample(path, limit=limit)
    log.info("%s: %d events from %s", kind, len(batch), path)
    if parametric > 0:
        from streams.sources import open_source

        extra = EventBatch.concat(open_source(None, events=parametric, mu=60.0, seed=1).batches(65536))
        cols = [c for c in batch.columns if c in extra.columns]
        batch = EventBatch.concat([EventBatch({c: batch[c] for c in cols}), EventBatch({c: extra[c] for c in cols})])
        log.info("%s: + %d parametric zero-bias events (seed 1, <mu> = 60)", kind, parametric)
    return upstream_pipeline(chain, kind).run(batch)


def upstream_pipeline(chain: str | Path, kind: str) -> Pipeline:
    """The chain's algorithms before the first one of type ``kind`` (all but the menu when
    the chain has none), so training sees exactly what the trigger will.

    The chain's fields are checked but its algorithms are not all built: the model being
    trained may not exist yet.
    """
    cfg = load_chain(chain, build=False)
    if not any(a.type.lower() == kind for s in cfg.stages for a in s.algorithms):
        log.warning("%s: no %r algorithm; preparing inputs with every other algorithm", chain, kind)
    return Pipeline.from_chain(cfg, skip_types={"menu"}, before_type=kind)


def train(kind: str, *, sample: str | Path, out_dir: str | Path, seed: int, signal: Sequence[str | Path] = (),
          chain: str | Path = "configs/default.yaml", events: int | None = None,
          options: dict[str, Any] | None = None, parametric: int = 0) -> dict[str, Any]:
    """Train model ``kind`` (see :func:`emulator.models.kinds.model_kinds`) and write it to ``out_dir``.

    ``sample`` is zero bias for the anomaly models and the QCD background for the tagger,
    whose τ-enriched ``signal`` samples are required. ``options`` override the model's
    config dataclass fields (e.g. ``{"epochs": 2}``). ``parametric`` adds that many events of
    the parametric zero-bias generator to ``sample`` (anomaly models), so that both zero-bias
    descriptions the project replays count as normal.
    """
    mk = get_model_kind(kind)
    if mk.needs_signal and not signal:
        msg = f"the {mk.name} needs τ-enriched samples: give --signal (e.g. htautau.h5, h0_tautau.h5)"
        raise ConfigError(msg)
    parametric = parametric if mk.takes_parametric else 0
    data = _prepared(sample, chain, mk.algorithm, events, parametric)
    sig = tuple(_prepared(s, chain, mk.algorithm, events) for s in signal) if mk.needs_signal else ()
    run = TrainingRun(data, Path(out_dir), seed, signal=sig, options=dict(options or {}), parametric=parametric)
    return mk.train(run)
