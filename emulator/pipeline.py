"""The in-process pipeline: a chain's stages, built once, run in order on event batches.

This is the one place in l1emu where stages run one after another in a process. The
executors run the same object: the in-process replay calls :meth:`Pipeline.run_source`,
every streamed worker runs a one-stage pipeline (:meth:`Pipeline.run`), and studies,
calibration, training-input preparation and firmware testbenches take their batches from
it. After coffea's split: the stages are the processor, executors decide where it runs.

>>> from emulator.chain import load_chain
>>> chain = load_chain("configs/default.yaml")
>>> pipe = Pipeline.from_chain(chain, upto="objects")
>>> pipe.stage_names
('calo_layer1', 'objects')
>>> out = pipe.run(EventBatch.empty(2))
>>> "regions_cal" in out and "jet_tau_score" in out, sorted(pipe.timings)
(True, ['calo_layer1', 'objects'])
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from emulator.algorithm import Algorithm
from emulator.chain import AlgorithmSpec, ChainConfig, StageConfig, build_algorithms
from emulator.stage import Stage
from streams.errors import ConfigError
from streams.event import EventBatch
from streams.latency import LatencyRecorder
from streams.sources.base import Source
from streams.sources.parametric import generate
from streams.wire import decode, encode_batch, pack_batch

__all__ = ["AlgorithmHook", "Pipeline", "StageTimings"]

#: Called with (stage config, algorithm spec, algorithm, batch) right before the algorithm runs.
AlgorithmHook = Callable[[StageConfig, AlgorithmSpec, Algorithm, EventBatch], None]


@dataclass
class StageTimings:
    """Wall time of one stage: per batch and per event (event-weighted)."""

    batch: LatencyRecorder = field(default_factory=LatencyRecorder)
    event: LatencyRecorder = field(default_factory=LatencyRecorder)

    def add(self, seconds: float, events: int) -> None:
        self.batch.add(seconds, 1)
        self.event.add(seconds / max(events, 1), events)


class Pipeline:
    """Stages of one chain, in chain order, each built once.

    ``upstream`` names the chain's stages before the first one held here: they are built
    only by :meth:`warm_up`, to give the warm-up batch every column these stages read.
    """

    def __init__(self, chain: ChainConfig, stages: Sequence[Stage], *, upstream: Sequence[str] = ()) -> None:
        self.chain = chain
        self.stages: tuple[Stage, ...] = tuple(stages)
        self.upstream: tuple[str, ...] = tuple(upstream)
        self.timings: dict[str, StageTimings] = {s.name: StageTimings() for s in self.stages}

    @classmethod
    def from_chain(
        cls, chain: ChainConfig, *, stages: Collection[str] | None = None, upto: str | None = None,
        skip_types: Collection[str] = (), before_type: str | None = None,
    ) -> Pipeline:
        """Build the chain's stages (all, the named ``stages``, or up to and including ``upto``).

        ``skip_types`` leaves out algorithms of those registered types (e.g. ``{"menu"}``);
        ``before_type`` stops right before the first algorithm of that type, so a chain whose
        model files do not exist yet can still prepare that model's inputs.
        """
        selected = _select(chain, stages, upto)
        skip = {t.lower() for t in skip_types}
        built: list[Stage] = []
        for cfg in selected:
            specs = list(cfg.algorithms)
            stop = before_type is not None and _cut_before(specs, before_type.lower())
            specs = [s for s in specs if s.type.lower() not in skip]
            part = replace(cfg, algorithms=tuple(specs)) if specs != list(cfg.algorithms) else cfg
            if part.algorithms:
                built.append(Stage(part, build_algorithms(chain, part)))
            if stop:
                break
        first = selected[0].name if selected else ""
        names = [s.name for s in chain.stages]
        upstream = names[: names.index(first)] if first else []
        return cls(chain, built, upstream=upstream)

    @property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stages)

    def algorithms(self) -> Iterator[tuple[StageConfig, AlgorithmSpec, Algorithm]]:
        """Every (stage config, spec, algorithm) in the order they run."""
        for st in self.stages:
            yield from ((st.config, spec, algo) for spec, algo in zip(st.config.algorithms, st.algorithms,
                                                                        strict=True))

    def run(self, batch: EventBatch, *, before: AlgorithmHook | None = None) -> EventBatch:
        """Every stage on ``batch``, timed per stage; ``before`` sees each algorithm's input."""
        for st in self.stages:
            t = time.perf_counter()
            if before is None:
                batch = st.process(batch)
            else:
                for spec, algo in zip(st.config.algorithms, st.algorithms, strict=True):
                    before(st.config, spec, algo, batch)
                    batch = algo.process(batch)
            self.timings[st.name].add(time.perf_counter() - t, len(batch))
        return batch

    def process(self, batch: EventBatch) -> EventBatch:
        """Every stage on ``batch``, untimed: the callable a streamed worker is given (the worker
        times batches itself, and a node that runs for days must not keep a sample per batch)."""
        for st in self.stages:
            batch = st.process(batch)
        return batch

    def run_source(self, source: Source, batch_size: int | None = None) -> Iterator[EventBatch]:
        """Every batch of ``source`` after all stages, in source order."""
        yield from self.run_batches(source.batches(batch_size or self.chain.stream.batch_size))

    def run_batches(self, batches: Iterable[EventBatch]) -> Iterator[EventBatch]:
        for batch in batches:
            yield self.run(batch)

    def warm_up(self, *, events: int = 256) -> None:
        """Run every stage once on a small synthetic batch received through the wire format.

        JIT compilation and lazy loading then happen before the first real event and stay
        out of latency figures. Each stage gets its input as producers and workers send it,
        as views into writable message frames (numba compiles per array type); stages before
        this pipeline's first run first, so the batch carries every column it reads. Timings
        are reset afterwards.
        """
        batch = generate(np.random.default_rng(0), events, mu=60.0)  # objects present: every kernel runs
        if self.upstream:
            batch = Pipeline.from_chain(self.chain, stages=self.upstream).run(batch)
        for st in self.stages:
            received = decode([bytearray(f) for f in encode_batch(pack_batch(batch))]).batch
            if received is None:
                msg = "warm-up batch did not survive the wire format"
                raise ConfigError(msg)
            batch = st.process(received)
        self.timings = {s.name: StageTimings() for s in self.stages}


def _select(chain: ChainConfig, stages: Collection[str] | None, upto: str | None) -> list[StageConfig]:
    if stages is not None and upto is not None:
        msg = "give either stages or upto, not both"
        raise ConfigError(msg)
    if upto is not None:
        chain.stage(upto)  # names the chain's stages when unknown
        names = [s.name for s in chain.stages]
        return list(chain.stages[: names.index(upto) + 1])
    if stages is None:
        return list(chain.stages)
    for name in stages:
        chain.stage(name)
    return [s for s in chain.stages if s.name in set(stages)]


def _cut_before(specs: list[AlgorithmSpec], kind: str) -> bool:
    """Drop ``specs`` from the first of type ``kind`` on (in place); True when one was found."""
    for i, spec in enumerate(specs):
        if spec.type.lower() == kind:
            del specs[i:]
            return True
    return False
