"""The menu program's numba kernel: one call per batch, events in chunks of :data:`CHUNK`.

For each chunk, condition by condition and vectorised over the chunk's events:

1. every distinct leg sets its candidate bits (bit ``j``: slot ``j`` passes), skipping the
   slots where no event of the chunk reaches the leg's pT;
2. every object condition: all legs have a candidate and, per collection, Hall's condition
   holds (``|∪ bits of S| ≥ |S|`` for every subset S of its legs: distinct objects exist);
   conditions with pair or whole-set cuts then search assignments (:mod:`._kernels`) only in
   the events that pass;
3. sums compare their ET (and φ), scores and constants arrive as precomputed columns;
4. every seed runs its postfix logic over the chunk (push, and/or with a condition, not).

The tables are built by :class:`emulator.menu._program.MenuProgram`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numba
import numpy as np

from emulator.menu._kernels import NSLOT, assignment_ok

__all__ = [
    "CHUNK",
    "LEG_FIELDS",
    "OP_AND",
    "OP_ANDC",
    "OP_FALSE",
    "OP_NOT",
    "OP_OR",
    "OP_ORC",
    "OP_PUSH",
    "SUM_FIELDS",
    "run_program",
]

CHUNK: Final = 128
#: Leg table columns: collection, pt lo/hi, quality/isolation masks, charge, slot lo/hi,
#: |η| lo/hi, number of η windows and 5 (lo, hi) pairs, number of φ windows and 2 pairs.
LEG_FIELDS: Final = 26
#: Sum table columns: sum row, ET lo/hi, number of φ windows and 2 (lo, hi) pairs.
SUM_FIELDS: Final = 8
OP_PUSH, OP_ANDC, OP_ORC, OP_AND, OP_OR, OP_NOT, OP_FALSE = range(7)
_BIG: Final = 1 << 40
_ALL_BITS: Final = 0xFFFF


@numba.njit(cache=True, nogil=True)
def _popcount(x: int) -> int:
    x = x - ((x >> 1) & 0x5555)
    x = (x & 0x3333) + ((x >> 2) & 0x3333)
    x = (x + (x >> 4)) & 0x0F0F
    return (x + (x >> 8)) & 0x1F


@numba.njit(cache=True, nogil=True)
def _windows(x: np.ndarray, leg: np.ndarray, start: int, n: int, m: int, wrap: bool, w: np.ndarray) -> None:
    for e in range(m):
        w[e] = False
    for k in range(n):
        lo, hi = leg[start + 2 * k], leg[start + 2 * k + 1]
        if wrap and lo > hi:
            for e in range(m):
                w[e] |= (x[e] >= lo) | (x[e] <= hi)
        else:
            for e in range(m):
                w[e] |= (x[e] >= lo) & (x[e] <= hi)


@numba.njit(cache=True, nogil=True)
def _leg_chunk(obj: np.ndarray, leg: np.ndarray, sizes: np.ndarray, maxpt: np.ndarray, e0: int, m: int,
               out: np.ndarray, ok: np.ndarray, w: np.ndarray) -> None:  # fmt: skip
    c = leg[0]
    for e in range(m):
        out[e] = 0
    for j in range(leg[6], min(leg[7], sizes[c] - 1) + 1):
        if maxpt[c, j] < leg[1]:
            continue
        pt = obj[c, 0, j, e0 : e0 + m]
        for e in range(m):
            ok[e] = (pt[e] >= leg[1]) & (pt[e] <= leg[2])
        eta = obj[c, 1, j, e0 : e0 + m]
        if leg[8] > 0 or leg[9] < _BIG:
            for e in range(m):
                a = abs(np.int32(eta[e]))
                ok[e] &= (a >= leg[8]) & (a <= leg[9])
        if leg[10] > 0:
            _windows(eta, leg, 11, leg[10], m, False, w)
            for e in range(m):
                ok[e] &= w[e]
        if leg[21] > 0:
            _windows(obj[c, 2, j, e0 : e0 + m], leg, 22, leg[21], m, True, w)
            for e in range(m):
                ok[e] &= w[e]
        for f, mask in ((4, leg[3]), (3, leg[4])):
            if mask != _ALL_BITS:
                v = obj[c, f, j, e0 : e0 + m]
                for e in range(m):
                    ok[e] &= ((mask >> min(np.int32(v[e]), 16)) & 1) != 0
        if leg[5] != 0:
            q = obj[c, 5, j, e0 : e0 + m]
            for e in range(m):
                ok[e] &= q[e] == leg[5]
        for e in range(m):
            out[e] |= np.int32(ok[e]) << j


@numba.njit(cache=True, nogil=True)
def _guard(k: int, cond: np.ndarray, guard_ptr: np.ndarray, term_ptr: np.ndarray, term_cond: np.ndarray, m: int,
           row: np.ndarray, g: np.ndarray, t: np.ndarray) -> None:  # fmt: skip
    """``row &=`` OR over the condition's seeds of the AND of their other, already decided conditions."""
    if guard_ptr[k] == guard_ptr[k + 1]:
        return
    for e in range(m):
        g[e] = False
    for term in range(guard_ptr[k], guard_ptr[k + 1]):
        for e in range(m):
            t[e] = True
        for i in range(term_ptr[term], term_ptr[term + 1]):
            src = cond[term_cond[i]]
            for e in range(m):
                t[e] &= src[e]
        for e in range(m):
            g[e] |= t[e]
    for e in range(m):
        row[e] &= g[e]


@numba.njit(cache=True, nogil=True)
def _objects_chunk(
    k: int, cond: np.ndarray, bits: np.ndarray, e0: int, m: int, obj: np.ndarray,
    tabs: tuple[np.ndarray, ...], tabs2: tuple[np.ndarray, ...], coll_bins: np.ndarray,
    luts: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], phi_bins: np.ndarray, scratch: np.ndarray,
    legbits: np.ndarray, idx: np.ndarray,
) -> None:  # fmt: skip
    cond_ptr, cond_legs, cond_coll, cond_flags, hall_ptr, corr_ptr, corr_scale = tabs[:7]
    guard_ptr, term_ptr, term_cond = tabs[7], tabs[8], tabs[9]
    cond_extra, hall, corr_legs, corr_cut = tabs2
    row = cond[k]
    l0, l1 = cond_ptr[k], cond_ptr[k + 1]
    b = bits[cond_legs[l0]]
    for e in range(m):
        row[e] = b[e] != 0
    if l1 - l0 == 1 and cond_flags[k] == 0:
        return
    for i in range(l0 + 1, l1):
        b = bits[cond_legs[i]]
        for e in range(m):
            row[e] &= b[e] != 0
    if cond_flags[k] != 0:  # a search is costly: only where some seed of this condition can still fire
        _guard(k, cond, guard_ptr, term_ptr, term_cond, m, row, scratch[0], scratch[1])
    n = l1 - l0
    h0, h1 = hall_ptr[k], hall_ptr[k + 1]
    c0, c1 = corr_ptr[k], corr_ptr[k + 1]
    coll, cl, cs, cc, extra = cond_coll[l0:l1], corr_legs[c0:c1], corr_scale[c0:c1], corr_cut[c0:c1], cond_extra[k]
    deta2, dphi2, cosh, cos = luts
    for e in range(m):  # the rest only where every leg has a candidate: few events for most conditions
        if not row[e]:
            continue
        for d in range(n):
            legbits[d] = bits[cond_legs[l0 + d], e]
        ok = True
        for h in range(h0, h1):
            union = 0
            for d in range(n):
                if (hall[h, 0] >> d) & 1:
                    union |= legbits[d]
            if _popcount(union) < hall[h, 1]:
                ok = False
                break
        if ok and cond_flags[k] != 0:
            ok = assignment_ok(e0 + e, legbits[:n], coll, obj, coll_bins, cl, cs, cc, extra,
                               deta2, dphi2, cosh, cos, phi_bins, idx)  # fmt: skip
        row[e] = ok


@numba.njit(cache=True, nogil=True)
def _sums_chunk(sums: np.ndarray, rows: np.ndarray, cond: np.ndarray, first: int, e0: int, m: int,
                w: np.ndarray) -> None:  # fmt: skip
    for r in range(rows.shape[0]):
        row = cond[first + r]
        et = sums[rows[r, 0], 0, e0 : e0 + m]
        for e in range(m):
            row[e] = (et[e] >= rows[r, 1]) & (et[e] <= rows[r, 2])
        if rows[r, 3] > 0:
            _windows(sums[rows[r, 0], 1, e0 : e0 + m], rows[r], 4, rows[r, 3], m, True, w)
            for e in range(m):
                row[e] &= w[e]


@numba.njit(cache=True, nogil=True)
def _seeds_chunk(cond: np.ndarray, seed_ptr: np.ndarray, ops: np.ndarray, args: np.ndarray, m: int,
                 stack: np.ndarray, res: np.ndarray) -> None:  # fmt: skip
    for s in range(seed_ptr.shape[0] - 1):
        r = res[s]
        if seed_ptr[s + 1] - seed_ptr[s] == 1:  # one condition, or never (unsupported)
            op = ops[seed_ptr[s]]
            if op == OP_PUSH:
                src = cond[args[seed_ptr[s]]]
                for e in range(m):
                    r[e] = src[e]
            else:
                for e in range(m):
                    r[e] = False
            continue
        sp = 0
        for i in range(seed_ptr[s], seed_ptr[s + 1]):
            op = ops[i]
            if op in (OP_PUSH, OP_FALSE):
                top = stack[sp]
                if op == OP_FALSE:
                    for e in range(m):
                        top[e] = False
                else:
                    src = cond[args[i]]
                    for e in range(m):
                        top[e] = src[e]
                sp += 1
            elif op in (OP_ANDC, OP_ORC):
                top, src = stack[sp - 1], cond[args[i]]
                for e in range(m):
                    top[e] = (top[e] & src[e]) if op == OP_ANDC else (top[e] | src[e])
            elif op == OP_NOT:
                top = stack[sp - 1]
                for e in range(m):
                    top[e] = not top[e]
            else:
                a, b = stack[sp - 2], stack[sp - 1]
                for e in range(m):
                    a[e] = (a[e] & b[e]) if op == OP_AND else (a[e] | b[e])
                sp -= 1
        top = stack[0]
        for e in range(m):
            r[e] = top[e]


_M32, _H32 = np.uint64(0x00000000FFFFFFFF), np.uint64(0xFFFFFFFF00000000)
_M16, _H16 = np.uint64(0x0000FFFF0000FFFF), np.uint64(0xFFFF0000FFFF0000)
_M8, _H8 = np.uint64(0x00FF00FF00FF00FF), np.uint64(0xFF00FF00FF00FF00)
_S32, _S16, _S8 = np.uint64(32), np.uint64(16), np.uint64(8)


@numba.njit(cache=True, nogil=True)
def _transpose_8x8(w: np.ndarray) -> None:
    """Transpose 8 × 8 bytes held in 8 words (byte k of word i -> byte i of word k)."""
    for i in range(4):
        a, b = w[i], w[i + 4]
        w[i] = (a & _M32) | ((b & _M32) << _S32)
        w[i + 4] = ((a >> _S32) & _M32) | (b & _H32)
    for i in (0, 1, 4, 5):
        a, b = w[i], w[i + 2]
        w[i] = (a & _M16) | ((b & _M16) << _S16)
        w[i + 2] = ((a >> _S16) & _M16) | (b & _H16)
    for i in (0, 2, 4, 6):
        a, b = w[i], w[i + 1]
        w[i] = (a & _M8) | ((b & _M8) << _S8)
        w[i + 1] = ((a >> _S8) & _M8) | (b & _H8)


@numba.njit(cache=True, nogil=True)
def _transpose(res: np.ndarray, res64: np.ndarray, out: np.ndarray, out64: np.ndarray, e0: int, m: int) -> None:
    """``out[e0 + e, s] = res[s, e]``: 8 × 8 byte blocks as words when the seeds fill whole words."""
    n_seeds = out.shape[1]
    done = 0
    if out64.shape[1] * 8 == n_seeds:
        w = np.empty(8, np.uint64)
        done = m - m % 8
        for eb in range(0, done, 8):
            for sb in range(out64.shape[1]):
                for i in range(8):
                    w[i] = res64[8 * sb + i, eb // 8]
                _transpose_8x8(w)
                for k in range(8):
                    out64[e0 + eb + k, sb] = w[k]
    for e in range(done, m):
        row = out[e0 + e]
        for s in range(n_seeds):
            row[s] = res[s, e]


@numba.njit(cache=True, nogil=True)
def _run(
    obj: np.ndarray, sums: np.ndarray, other: np.ndarray, legs: np.ndarray, sizes: np.ndarray,
    tabs: tuple[np.ndarray, ...], tabs2: tuple[np.ndarray, ...], sum_rows: np.ndarray, seed_ptr: np.ndarray,
    ops: np.ndarray, args: np.ndarray, depth: int, coll_bins: np.ndarray,
    luts: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], phi_bins: np.ndarray, res: np.ndarray,
    res64: np.ndarray, out: np.ndarray, out64: np.ndarray,
) -> None:  # fmt: skip
    """Seed decisions ``out`` (N, S) of a batch; ``tabs``/``tabs2``: the object-condition tables
    (see :class:`emulator.menu._program.MenuProgram`), ``tabs[10]`` the order to decide them in."""
    n = obj.shape[3]
    n_obj, n_sum = tabs[0].shape[0] - 1, sum_rows.shape[0]
    bits = np.zeros((legs.shape[0], CHUNK), np.int32)
    cond = np.zeros((n_obj + n_sum + other.shape[1], CHUNK), np.bool_)
    stack = np.zeros((max(depth, 1), CHUNK), np.bool_)
    ok, w = np.zeros(CHUNK, np.bool_), np.zeros(CHUNK, np.bool_)
    scratch = np.zeros((2, CHUNK), np.bool_)
    legbits, idx = np.zeros(NSLOT, np.int64), np.zeros(NSLOT, np.int64)
    maxpt = np.zeros((obj.shape[0], NSLOT), np.int64)
    for e0 in range(0, n, CHUNK):
        m = min(CHUNK, n - e0)
        for c in range(obj.shape[0]):
            for j in range(sizes[c]):
                pt = obj[c, 0, j, e0 : e0 + m]
                top = 0
                for e in range(m):
                    if pt[e] > top:
                        top = pt[e]
                maxpt[c, j] = top
        for leg in range(legs.shape[0]):
            _leg_chunk(obj, legs[leg], sizes, maxpt, e0, m, bits[leg], ok, w)
        _sums_chunk(sums, sum_rows, cond, n_obj, e0, m, w)
        for r in range(other.shape[1]):
            row = cond[n_obj + n_sum + r]
            for e in range(m):
                row[e] = other[e0 + e, r]
        for k in tabs[10]:
            _objects_chunk(k, cond, bits, e0, m, obj, tabs, tabs2, coll_bins, luts, phi_bins, scratch, legbits, idx)
        _seeds_chunk(cond, seed_ptr, ops, args, m, stack, res)
        _transpose(res, res64, out, out64, e0, m)


#: The jitted program, typed for callers (numba's dispatcher type hides the signature).
run_program: Callable[..., None] = _run
