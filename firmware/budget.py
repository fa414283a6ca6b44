"""Analytical latency (clock cycles) and resource (DSP, LUT, FF, BRAM) estimates of a model.

The model is written down in ``docs/firmware.md``; in short, per layer at clock period T:

* dense/conv: ``ceil(2.0 ns / T)`` (multiply) + ``ceil(ceil(log2(n_in + 1)) / L)`` (adder tree,
  ``L = max(1, floor(T / 1.1 ns))`` adder levels per cycle) + ``(reuse − 1)`` + 1 (register);
* ReLU-like activations 1, look-up tables 1 (LUTRAM) or 2 (BRAM), pooling a compare tree,
  softmax two look-ups, a sum tree and a multiply; reshape/padding are wires; +1 for the I/O.

>>> import numpy as np
>>> from emulator.fixedpoint import FixedPointModel, FixedType
>>> from emulator.fixedpoint.layers import Dense
>>> t = FixedType(16, 6)
>>> d = Dense("d", t, t, (57,), (8,), weight=np.ones((57, 8), np.int64), bias=np.zeros(8, np.int64),
...           weight_type=FixedType(6, 2), bias_type=FixedType(6, 2), accum_type=FixedType(24, 12))
>>> est = estimate(FixedPointModel(t, (57,), (d,)), clock_mhz=240.0)
>>> est.latency_cycles, est.resources["DSP"]
(5, 0)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from emulator.fixedpoint import FixedPointModel
from emulator.fixedpoint.layers import Activation, BatchNorm, Conv, Dense, Lut, Op, Pool, Softmax, SoftmaxLegacy, Step

__all__ = ["ADD_NS", "DSP_MIN_WIDTH", "MULT_NS", "Estimate", "LayerEstimate", "estimate"]

MULT_NS = 2.0  # a registered multiplier (DSP48 or LUT-based), ns
ADD_NS = 1.1  # one adder level incl. routing, ns
DSP_MIN_WIDTH = 10  # products with both operands wider than this go to DSPs, narrower ones to LUTs
LUTRAM_MAX_BITS = 16384  # larger tables go to block RAM
BRAM18_BITS = 18432


@dataclass(frozen=True, slots=True)
class LayerEstimate:
    name: str
    kind: str
    latency_cycles: int
    dsp: int
    lut: int
    ff: int
    bram_18k: int


@dataclass(frozen=True, slots=True)
class Estimate:
    """Sum over layers (+1 cycle of I/O registers); ``source`` says estimate or csynth."""

    latency_cycles: int
    resources: dict[str, int]
    layers: tuple[LayerEstimate, ...]
    clock_mhz: float
    source: str = "estimate"

    def as_dict(self) -> dict[str, Any]:
        return {
            "latency_cycles": self.latency_cycles,
            "resources": self.resources,
            "clock_mhz": self.clock_mhz,
            "source": self.source,
            "layers": [asdict(layer) for layer in self.layers],
        }


class _Clock:
    def __init__(self, clock_mhz: float) -> None:
        self.period = 1000.0 / clock_mhz
        self.levels = max(1, math.floor(self.period / ADD_NS))

    def mult(self) -> int:
        return math.ceil(MULT_NS / self.period)

    def tree(self, n: int) -> int:
        return math.ceil(math.ceil(math.log2(max(n, 1) + 1)) / self.levels)


def _table(bits: int) -> tuple[int, int, int]:
    """(LUT, BRAM18, read latency) of a read-only table of ``bits`` bits."""
    if bits > LUTRAM_MAX_BITS:
        return 0, math.ceil(bits / BRAM18_BITS), 2
    return math.ceil(bits / 64), 0, 1


def _dense(op: Dense, clk: _Clock, strategy: str) -> LayerEstimate:
    rf = max(op.reuse_factor, 1)
    n_mult = op.cost().multiplications
    n_acc_in = op.weight.shape[0]
    n_out = op.n_out
    multipliers = math.ceil(n_mult / rf)
    wx, ww, wa = op.in_type.width, op.weight_type.width, op.accum_type.width
    on_dsp = min(wx, ww) > DSP_MIN_WIDTH
    dsp = multipliers if on_dsp else 0
    lut = (0 if on_dsp else multipliers * math.ceil(wx * ww / 2)) + math.ceil((n_mult + n_out) / rf) * wa
    bram = 0
    if strategy == "resource" and rf >= 32:
        bram = math.ceil(math.ceil(op.weight.size / rf) * ww / 36)
    latency = clk.mult() + clk.tree(n_acc_in) + (rf - 1) + 1
    ff = latency * n_out * wa
    return LayerEstimate(op.name, op.kind, latency, dsp, lut, ff, bram)


def _other(op: Op, clk: _Clock) -> LayerEstimate:
    w_out, n = op.out_type.width, op.n_out
    if isinstance(op, Activation):
        latency = 0 if op.function == "linear" else 1
        return LayerEstimate(op.name, op.kind, latency, 0, n * math.ceil(w_out / 2), latency * n * w_out, 0)
    if isinstance(op, Lut):
        lut, bram, latency = _table(len(op.table) * op.table_type.width)
        return LayerEstimate(op.name, op.kind, latency, 0, lut, n * w_out, bram)
    if isinstance(op, BatchNorm):
        latency = clk.mult() + 1
        on_dsp = min(op.in_type.width, op.scale_type.width) > DSP_MIN_WIDTH
        lut = (0 if on_dsp else n * math.ceil(op.in_type.width * op.scale_type.width / 2)) + n * w_out
        return LayerEstimate(op.name, op.kind, latency, n if on_dsp else 0, lut, latency * n * w_out, 0)
    if isinstance(op, Pool):
        size = op.pool[0] * op.pool[1]
        latency = clk.tree(size) + 1
        return LayerEstimate(op.name, op.kind, latency, 0, n * size * op.accum_type.width, n * w_out, 0)
    if isinstance(op, Softmax):
        lut_e, bram_e, lat_e = _table(len(op.exp_table) * op.exp_table_type.width * op.n_in)
        lut_i, bram_i, lat_i = _table(len(op.inv_table) * op.inv_table_type.width)
        latency = lat_e + clk.tree(op.n_in) + lat_i + clk.mult() + 1
        lut = lut_e + lut_i + op.n_in * op.accum_type.width
        return LayerEstimate(op.name, op.kind, latency, op.n_in, lut, latency * n * w_out, bram_e + bram_i)
    if isinstance(op, Step):  # one or two comparators per value, a constant out
        comparators = 1 if np.array_equal(op.hi, op.lo) else 2
        return LayerEstimate(op.name, op.kind, 1, 0, n * comparators * math.ceil(op.in_type.width / 2), n * w_out, 0)
    if isinstance(op, SoftmaxLegacy):  # n·(n−1) exp-table reads, n sums of n terms, n inverse reads
        t = op.table_type.width
        lut_e, bram_e, lat_e = _table(len(op.exp_table) * t * n)
        lut_i, bram_i, lat_i = _table(len(op.inv_table) * t)
        latency = lat_e + clk.tree(op.n_in // op.n_outer) + lat_i + 1
        lut = lut_e + lut_i + n * n * t
        return LayerEstimate(op.name, op.kind, latency, 0, lut, latency * n * w_out, bram_e + bram_i)
    return LayerEstimate(op.name, op.kind, 0, 0, 0, 0, 0)  # reshape, padding: wires


def estimate(model: FixedPointModel, *, clock_mhz: float, strategy: str = "latency") -> Estimate:
    """Latency in cycles at ``clock_mhz`` and DSP/LUT/FF/BRAM_18K of an io_parallel model."""
    clk = _Clock(clock_mhz)
    layers = tuple(
        _dense(op, clk, strategy.lower()) if isinstance(op, Dense | Conv) else _other(op, clk)
        for op in model.layers
    )
    io_ff = model.n_inputs * model.input_type.width + model.n_outputs * model.output_type.width
    resources = {
        "DSP": sum(x.dsp for x in layers),
        "LUT": sum(x.lut for x in layers),
        "FF": sum(x.ff for x in layers) + io_ff,
        "BRAM_18K": sum(x.bram_18k for x in layers),
    }
    return Estimate(1 + sum(x.latency_cycles for x in layers), resources, layers, clock_mhz)
