"""Pooling (``nnet::pooling1d/2d_cl``, global pooling) and zero padding, io_parallel, channels last.

Max pooling: the window maximum (padding reads the value with only the top bit set),
cast to ``accum_t`` and then to ``res_T``. Average pooling: ``accum_t y = 0; y += x`` over
the window (each ``+=`` a cast to ``accum_t``), ``y /= n`` truncating toward zero, where ``n``
counts the cells inside the image unless ``count_pad``; then ``res_T``.

io_stream (``stream``, ``nnet_pooling_stream.h``): every cell is cast to ``accum_t`` first,
then the window's maximum, or its sum (a tree of ``accum_t`` additions; global pooling adds
pixel by pixel) divided by the window size, truncating toward zero; then ``res_T``. The
stream kernels never pad (hls4ml puts a zero-padding layer in front).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from emulator.fixedpoint._base import Op, Run, register_op
from emulator.fixedpoint._lut import reduce_pairs
from emulator.fixedpoint.audit import Tally
from emulator.fixedpoint.errors import FixedPointError
from emulator.fixedpoint.types import FixedType

__all__ = ["Pad", "Pool", "pool_index"]


def pool_index(
    in_hwc: tuple[int, int, int], pool: tuple[int, int], stride: tuple[int, int], pads: tuple[int, int, int, int]
) -> np.ndarray:
    """``(out_h·out_w·C, ph·pw)`` input indices of every window, ``-1`` in padding."""
    h, w, c = in_hwc
    ph, pw = pool
    sh, sw = stride
    top, bottom, left, right = pads
    out_h = (h + top + bottom - ph) // sh + 1
    out_w = (w + left + right - pw) // sw + 1
    oh, ow, ic, kh, kw = np.meshgrid(
        np.arange(out_h), np.arange(out_w), np.arange(c), np.arange(ph), np.arange(pw), indexing="ij"
    )
    row = oh * sh + kh - top
    col = ow * sw + kw - left
    inside = (row >= 0) & (row < h) & (col >= 0) & (col < w)
    idx = np.where(inside, (row * w + col) * c + ic, -1)
    return idx.reshape(out_h * out_w * c, ph * pw).astype(np.int64)


@register_op
@dataclass(frozen=True, eq=False)
class Pool(Op):
    """Max or average pooling (1D: height 1; global: one window covering the image)."""

    kind = "pool"
    op: str  # max | average
    accum_type: FixedType
    pool: tuple[int, int]
    stride: tuple[int, int]
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)
    count_pad: bool = False
    stream: bool = False  # io_stream: cells cast to accum_t before the reduction
    _idx: np.ndarray = field(init=False, repr=False)
    _length: np.ndarray = field(init=False, repr=False)
    _tree: list[tuple[int, int, int]] = field(init=False, repr=False, default_factory=list)

    def __post_init__(self) -> None:
        if self.op not in ("max", "average"):
            msg = f"layer {self.name!r}: pooling op {self.op!r} is not 'max' or 'average'"
            raise FixedPointError(msg)
        shape = self.in_shape if len(self.in_shape) == 3 else (1, *self.in_shape)
        idx = pool_index((shape[0], shape[1], shape[2]), self.pool, self.stride, self.pads)
        if idx.shape[0] != self.n_out:
            msg = f"layer {self.name!r}: {idx.shape[0]} pooling windows for {self.n_out} outputs"
            raise FixedPointError(msg)
        if self.op == "average":
            frac = max(self.accum_type.fractional, self.in_type.fractional)
            widest = max(
                self.accum_type.width + frac - self.accum_type.fractional,
                self.in_type.width + frac - self.in_type.fractional,
            )
            self._check_bits("an average-pooling sum", 1 << widest)
        if self.stream:
            self._check_stream(shape, idx)
        inside = (idx >= 0).sum(axis=1)
        length = np.full(idx.shape[0], idx.shape[1]) if self.count_pad else inside
        object.__setattr__(self, "_idx", np.where(idx < 0, self.n_in, idx))
        object.__setattr__(self, "_length", length.astype(np.int64))

    def _check_stream(self, hwc: tuple[int, ...], idx: np.ndarray) -> None:
        if (idx < 0).any():
            msg = f"layer {self.name!r}: io_stream pooling with padding {self.pads} (hls4ml pads in a layer of its own)"
            raise FixedPointError(msg)
        object.__setattr__(self, "_tree", reduce_pairs(idx.shape[1]) if tuple(self.pool) != hwc[:2] else [])

    def forward(self, x: np.ndarray, run: Run, *, float_out: type | None = None) -> np.ndarray:
        t = self.in_type
        n_ev, n_in = x.shape
        padded = run.buf(self, "padded", (n_ev, n_in + 1))
        padded[:, :n_in] = x
        padded[:, n_in] = (t.min_int if t.signed else 1 << (t.width - 1)) if self.op == "max" else 0
        n_win, k = self._idx.shape
        win = run.buf(self, "windows", (n_ev, n_win * k))
        np.take(padded, self._idx.reshape(-1), axis=1, out=win)
        if self.stream:
            cells = self._cast(win, t.fractional, self.accum_type, run, "cells")
            if self.op == "max":
                acc = run.buf(self, "max", (n_ev, n_win))
                np.max(cells.reshape(n_ev, n_win, k), axis=2, out=acc)
            elif self._tree:  # a window: nnet::reduce's tree of accum_t additions
                acc = self._tree_average(cells.reshape(n_ev, n_win, k), run.tally)
            else:  # global: pixel by pixel
                acc = self._average(cells.reshape(n_ev, n_win, k), run.tally, self.accum_type.fractional)
        elif self.op == "max":
            top = run.buf(self, "max", (n_ev, n_win))
            np.max(win.reshape(n_ev, n_win, k), axis=2, out=top)
            acc = self._cast(top, t.fractional, self.accum_type, run, "accumulate")
        else:
            acc = self._average(win.reshape(n_ev, n_win, k), run.tally, t.fractional)
        return self._cast(acc, self.accum_type.fractional, self.out_type, run, "result")

    def _average(self, win: np.ndarray, tally: Tally | None, f_x: int) -> np.ndarray:
        a = self.accum_type
        frac = max(a.fractional, f_x)
        y = np.zeros(win.shape[:2], np.int64)
        n_ovf = 0
        for k in range(win.shape[2]):
            y, n = self._cast_n((y << (frac - a.fractional)) + (win[:, :, k] << (frac - f_x)), frac, a)
            n_ovf += n
        if tally is not None:
            tally.add(self.name, "accumulate", a.overflow.value, values=y.size, overflowed=n_ovf)
        mean: np.ndarray = np.sign(y) * (np.abs(y) // self._length)  # y /= n truncates toward zero
        return mean

    def _tree_average(self, cells: np.ndarray, tally: Tally | None) -> np.ndarray:
        a = self.accum_type
        slots = [cells[:, :, i] for i in range(cells.shape[2])]
        n_ovf = 0
        for _dst, left, right in self._tree:
            y, n = self._cast_n(slots[left] + slots[right], a.fractional, a)
            slots.append(y)
            n_ovf += n
        if tally is not None:
            tally.add(self.name, "accumulate", a.overflow.value, values=slots[-1].size, overflowed=n_ovf)
        total = slots[-1]
        mean: np.ndarray = np.sign(total) * (np.abs(total) // cells.shape[2])  # sum / N truncates toward zero
        return mean

    def describe(self) -> str:
        stream = " (io_stream)" if self.stream else ""
        return f"{self.op} pool {self.pool} stride {self.stride}{stream}: acc {self.accum_type}, out {self.out_type}"


@register_op
@dataclass(frozen=True, eq=False)
class Pad(Op):
    """ZeroPadding1D/2D: copy into a larger image, zeros around; each value cast when the
    types differ (hls4ml may give the padding layer another result type)."""

    kind = "pad"
    pads: tuple[int, int, int, int]  # top, bottom, left, right
    _idx: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        h, w, c = self.in_shape if len(self.in_shape) == 3 else (1, *self.in_shape)
        top, bottom, left, right = self.pads
        out_h, out_w = h + top + bottom, w + left + right
        r, cc, ch = np.meshgrid(np.arange(out_h), np.arange(out_w), np.arange(c), indexing="ij")
        row, col = r - top, cc - left
        inside = (row >= 0) & (row < h) & (col >= 0) & (col < w)
        idx = np.where(inside, (row * w + col) * c + ch, self.n_in).reshape(-1)
        if idx.size != self.n_out:
            msg = f"layer {self.name!r}: padding {self.pads} of {self.in_shape} does not give {self.out_shape}"
            raise FixedPointError(msg)
        object.__setattr__(self, "_idx", idx.astype(np.int64))

    def forward(self, x: np.ndarray, run: Run, *, float_out: type | None = None) -> np.ndarray:
        n_ev, n_in = x.shape
        padded = run.buf(self, "padded", (n_ev, n_in + 1))
        padded[:, :n_in] = x
        padded[:, n_in] = 0
        out = run.buf(self, "result", (n_ev, self._idx.size))
        np.take(padded, self._idx, axis=1, out=out)
        if self.in_type == self.out_type:
            return out
        return self._cast(out, self.in_type.fractional, self.out_type, run, "cast")
