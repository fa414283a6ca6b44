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

from emulator.menu._kernels import F_CHARGE, NSLOT, OBJ_FIELDS, assignment_ok, best_pair_mass2, leg_extra_cuts

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
#: |η| lo/hi, number of η windows and 5 (lo, hi) pairs, number of φ windows and 2 pairs, uPT lo/hi,
#: IP mask, displaced flag (−1 any), number of track-finder index ranges and 5 (lo, hi) pairs.
LEG_FIELDS: Final = 41
#: Sum table columns: sum row, ET lo/hi, number of φ windows and 2 (lo, hi) pairs.
SUM_FIELDS: Final = 8
OP_PUSH, OP_ANDC, OP_ORC, OP_AND, OP_OR, OP_NOT, OP_FALSE = range(7)
_BIG: Final = 1 << 40
_PER_COLL: Final = len(OBJ_FIELDS) * NSLOT  # rows of one collection in the flattened object array
_ALL_BITS: Final = 0xFFFF


@numba.njit(cache=True, nogil=True)
def _popcount(x: int) -> int:
    x = x - ((x >> 1) & 0x5555)
    x = (x & 0x3333) + ((x >> 2) & 0x3333)
    x = (x + (x >> 4)) & 0x0F0F
    return (x + (x >> 8)) & 0x1F


@numba.njit(cache=True, nogil=True)
def _legs_stage(flat: np.ndarray, legs: np.ndarray, sizes: np.ndarray, maxpt: np.ndarray, e0: int, m: int,
                bits: np.ndarray, ok: np.ndarray, w: np.ndarray) -> None:  # fmt: skip
    """``bits[l, e]``: bit ``j`` set if slot ``j`` of event ``e0 + e`` passes leg ``l``.

    ``flat`` is the stacked object array as rows ``(c · 6 + f) · NSLOT + j``. One call for all
    legs, arrays indexed in place: a call or an array view per leg and chunk costs more in
    reference counting than these loops over the chunk's events.
    """
    for leg in range(legs.shape[0]):
        c = legs[leg, 0]
        for e in range(m):
            bits[leg, e] = 0
        for j in range(legs[leg, 6], min(legs[leg, 7], sizes[c] - 1) + 1):
            lo, hi = legs[leg, 1], legs[leg, 2]
            if maxpt[c, j] < lo:
                continue
            r = c * _PER_COLL + j  # field f of slot j: row r + NSLOT · f
            for e in range(e0, e0 + m):
                ok[e - e0] = (flat[r, e] >= lo) & (flat[r, e] <= hi)
            alo, ahi = legs[leg, 8], legs[leg, 9]
            if alo > 0 or ahi < _BIG:
                for e in range(e0, e0 + m):
                    a = abs(np.int32(flat[r + NSLOT, e]))
                    ok[e - e0] &= (a >= alo) & (a <= ahi)
            for f, start in ((1, 10), (2, 21)):  # η windows (signed), φ windows (lo > hi wraps)
                n = legs[leg, start]
                if n == 0:
                    continue
                rf = r + NSLOT * f
                for e in range(m):
                    w[e] = False
                for k in range(n):
                    wlo, whi = legs[leg, start + 1 + 2 * k], legs[leg, start + 2 + 2 * k]
                    if f == 2 and wlo > whi:
                        for e in range(e0, e0 + m):
                            w[e - e0] |= (flat[rf, e] >= wlo) | (flat[rf, e] <= whi)
                    else:
                        for e in range(e0, e0 + m):
                            w[e - e0] |= (flat[rf, e] >= wlo) & (flat[rf, e] <= whi)
                for e in range(m):
                    ok[e] &= w[e]
            for f, mask in ((4, legs[leg, 3]), (3, legs[leg, 4])):  # quality, isolation LUTs
                if mask != _ALL_BITS:
                    rf = r + NSLOT * f
                    for e in range(e0, e0 + m):
                        ok[e - e0] &= ((mask >> min(np.int32(flat[rf, e]), 16)) & 1) != 0
            q = legs[leg, 5]
            if q != 0:
                for e in range(e0, e0 + m):
                    ok[e - e0] &= flat[r + NSLOT * F_CHARGE, e] == q
            leg_extra_cuts(flat, legs, leg, r, e0, m, ok, w)
            for e in range(m):
                bits[leg, e] |= np.int32(ok[e]) << j


@numba.njit(cache=True, nogil=True, inline="always")
def _guard(k: int, cond: np.ndarray, guard_ptr: np.ndarray, term_ptr: np.ndarray, term_cond: np.ndarray, m: int,
           scratch: np.ndarray) -> None:  # fmt: skip
    """``cond[k] &=`` OR over the condition's seeds of the AND of their other, already decided conditions."""
    if guard_ptr[k] == guard_ptr[k + 1]:
        return
    for e in range(m):
        scratch[0, e] = False
    for term in range(guard_ptr[k], guard_ptr[k + 1]):
        for e in range(m):
            scratch[1, e] = True
        for i in range(term_ptr[term], term_ptr[term + 1]):
            c = term_cond[i]
            for e in range(m):
                scratch[1, e] &= cond[c, e]
        for e in range(m):
            scratch[0, e] |= scratch[1, e]
    for e in range(m):
        cond[k, e] &= scratch[0, e]


@numba.njit(cache=True, nogil=True, inline="always")
def _search(
    k: int, cond: np.ndarray, bits: np.ndarray, e0: int, m: int, obj: np.ndarray, tabs: tuple[np.ndarray, ...],
    tabs2: tuple[np.ndarray, ...], coll_bins: np.ndarray, luts: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    phi_bins: np.ndarray, legbits: np.ndarray, idx: np.ndarray,
) -> None:  # fmt: skip
    """The assignment search of condition ``k`` in the events where its row is still set."""
    l0, l1, c0, c1 = tabs[0][k], tabs[0][k + 1], tabs[5][k], tabs[5][k + 1]
    coll = tabs[2][l0:l1]
    cl, cs, cc, extra = tabs2[2][c0:c1], tabs[6][c0:c1], tabs2[3][c0:c1], tabs2[0][k]
    deta2, dphi2, cosh, cos = luts
    n = l1 - l0
    for e in range(m):
        if cond[k, e]:
            for d in range(n):
                legbits[d] = bits[tabs[1][l0 + d], e]
            cond[k, e] = assignment_ok(e0 + e, legbits[:n], coll, obj, coll_bins, cl, cs, cc, extra,
                                       deta2, dphi2, cosh, cos, phi_bins, idx)  # fmt: skip


@numba.njit(cache=True, nogil=True, inline="always")
def _best_mass(
    k: int, g: int, cond: np.ndarray, bits: np.ndarray, e0: int, m: int, obj: np.ndarray, tabs: tuple[np.ndarray, ...],
    tabs2: tuple[np.ndarray, ...], coll_bins: np.ndarray, luts: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    phi_bins: np.ndarray, best: np.ndarray,
) -> None:  # fmt: skip
    """``best[g, e]``: the mass group's largest pair M2 where condition ``k`` (a member) has candidates."""
    l0, r = tabs[0][k], tabs[13][g]
    la, lb, ca, cb = tabs[1][l0], tabs[1][l0 + 1], tabs[2][l0], tabs[2][l0 + 1]
    deta2, dphi2, cosh, cos = luts
    for e in range(m):
        best[g, e] = -1
        if cond[k, e]:
            best[g, e] = best_pair_mass2(e0 + e, bits[la, e], bits[lb, e], ca, cb, obj, coll_bins, tabs[6][r],
                                         tabs2[3][r], deta2, dphi2, cosh, cos, phi_bins)  # fmt: skip


@numba.njit(cache=True, nogil=True)
def _objects_stage(
    cond: np.ndarray, bits: np.ndarray, e0: int, m: int, obj: np.ndarray, tabs: tuple[np.ndarray, ...],
    tabs2: tuple[np.ndarray, ...], coll_bins: np.ndarray, luts: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    phi_bins: np.ndarray, scratch: np.ndarray, u: np.ndarray, legbits: np.ndarray, idx: np.ndarray,
    best: np.ndarray, done: np.ndarray,
) -> None:  # fmt: skip
    """Every object condition, in ``tabs[10]`` order: its legs all have candidates, Hall's
    condition, then (conditions with pair or whole-set cuts) the guarded search, or the search of
    its mass group (``tabs[11]``, conditions alike but for their mass minimum ``tabs[12]``)."""
    for g in range(done.shape[0]):
        done[g] = False
    for k in tabs[10]:
        l0, l1 = tabs[0][k], tabs[0][k + 1]
        leg = tabs[1][l0]
        for e in range(m):
            cond[k, e] = bits[leg, e] != 0
        for i in range(l0 + 1, l1):
            leg = tabs[1][i]
            for e in range(m):
                cond[k, e] &= bits[leg, e] != 0
        for h in range(tabs[4][k], tabs[4][k + 1]):  # distinct objects: Hall's condition
            mask, need = tabs2[1][h, 0], tabs2[1][h, 1]
            for e in range(m):
                u[e] = 0
            for d in range(l1 - l0):
                if (mask >> d) & 1:
                    leg = tabs[1][l0 + d]
                    for e in range(m):
                        u[e] |= bits[leg, e]
            for e in range(m):
                cond[k, e] &= _popcount(u[e]) >= need
        g = tabs[11][k]
        if g >= 0:
            if not done[g]:
                _best_mass(k, g, cond, bits, e0, m, obj, tabs, tabs2, coll_bins, luts, phi_bins, best)
                done[g] = True
            lo = tabs[12][k]
            for e in range(m):
                cond[k, e] &= best[g, e] >= lo
        elif tabs[3][k] != 0:
            _guard(k, cond, tabs[7], tabs[8], tabs[9], m, scratch)  # searches: only where useful
            _search(k, cond, bits, e0, m, obj, tabs, tabs2, coll_bins, luts, phi_bins, legbits, idx)


@numba.njit(cache=True, nogil=True)
def _sums_stage(sums: np.ndarray, rows: np.ndarray, cond: np.ndarray, first: int, e0: int, m: int,
                w: np.ndarray) -> None:  # fmt: skip
    """Sum conditions: ET in [lo, hi] and φ in one of the windows (lo > hi wraps)."""
    for r in range(rows.shape[0]):
        k, s, lo, hi = first + r, rows[r, 0], rows[r, 1], rows[r, 2]
        for e in range(m):
            cond[k, e] = (sums[s, 0, e0 + e] >= lo) & (sums[s, 0, e0 + e] <= hi)
        if rows[r, 3] == 0:
            continue
        for e in range(m):
            w[e] = False
        for i in range(rows[r, 3]):
            wlo, whi = rows[r, 4 + 2 * i], rows[r, 5 + 2 * i]
            for e in range(m):
                phi = sums[s, 1, e0 + e]
                w[e] |= ((phi >= wlo) | (phi <= whi)) if wlo > whi else ((phi >= wlo) & (phi <= whi))
        for e in range(m):
            cond[k, e] &= w[e]


@numba.njit(cache=True, nogil=True)
def _seeds_stage(cond: np.ndarray, seed_ptr: np.ndarray, ops: np.ndarray, args: np.ndarray, m: int,
                 stack: np.ndarray, res: np.ndarray) -> None:  # fmt: skip
    """Each seed's postfix logic over the chunk: ``res[s, e]``."""
    for s in range(seed_ptr.shape[0] - 1):
        sp = 0
        for i in range(seed_ptr[s], seed_ptr[s + 1]):
            op, c = ops[i], args[i]
            if op == OP_PUSH:
                for e in range(m):
                    stack[sp, e] = cond[c, e]
                sp += 1
            elif op == OP_FALSE:
                for e in range(m):
                    stack[sp, e] = False
                sp += 1
            elif op == OP_ANDC:
                for e in range(m):
                    stack[sp - 1, e] &= cond[c, e]
            elif op == OP_ORC:
                for e in range(m):
                    stack[sp - 1, e] |= cond[c, e]
            elif op == OP_NOT:
                for e in range(m):
                    stack[sp - 1, e] = not stack[sp - 1, e]
            elif op == OP_AND:
                for e in range(m):
                    stack[sp - 2, e] &= stack[sp - 1, e]
                sp -= 1
            else:
                for e in range(m):
                    stack[sp - 2, e] |= stack[sp - 1, e]
                sp -= 1
        for e in range(m):
            res[s, e] = stack[0, e]


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
    u = np.zeros(CHUNK, np.int32)
    legbits, idx = np.zeros(NSLOT, np.int64), np.zeros(NSLOT, np.int64)
    maxpt = np.zeros((obj.shape[0], NSLOT), np.int64)
    best, done = np.zeros((tabs[13].shape[0], CHUNK), np.int64), np.zeros(tabs[13].shape[0], np.bool_)
    flat = obj.reshape(obj.shape[0] * obj.shape[1] * obj.shape[2], n)
    for e0 in range(0, n, CHUNK):
        m = min(CHUNK, n - e0)
        for c in range(obj.shape[0]):
            for j in range(sizes[c]):
                top = np.int64(0)
                for e in range(e0, e0 + m):
                    v = np.int64(flat[c * _PER_COLL + j, e])
                    if v > top:
                        top = v
                maxpt[c, j] = top
        _legs_stage(flat, legs, sizes, maxpt, e0, m, bits, ok, w)
        _sums_stage(sums, sum_rows, cond, n_obj, e0, m, w)
        for r in range(other.shape[1]):
            for e in range(m):
                cond[n_obj + n_sum + r, e] = other[e0 + e, r]
        _objects_stage(cond, bits, e0, m, obj, tabs, tabs2, coll_bins, luts, phi_bins, scratch, u, legbits, idx,
                       best, done)  # fmt: skip
        _seeds_stage(cond, seed_ptr, ops, args, m, stack, res)
        _transpose(res, res64, out, out64, e0, m)


#: The jitted program, typed for callers (numba's dispatcher type hides the signature).
run_program: Callable[..., None] = _run
