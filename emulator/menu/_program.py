"""The menu compiled to integer tables and evaluated in one numba call per batch.

:class:`BatchEvaluator` builds numpy masks leg by leg and condition by condition: clear,
cached, and the base of the threshold studies, but each step is a few numpy calls, so a
menu costs about a millisecond per batch whatever its size. :meth:`Menu.evaluate` runs this
program instead: every distinct leg, object condition and sum of the menu becomes a row of
a table, and one kernel (:mod:`emulator.menu._program_kernel`) walks the events in chunks,
sets each leg's candidate bits, decides each object condition once (Hall's condition, then
the shared depth-first search of :mod:`emulator.menu._kernels` where pair cuts need it) and
runs each seed's logic, like the firmware's condition chips feeding the seed logic. Scores
and constants are one numpy compare each and enter the kernel as columns.

The tests check the program against :class:`BatchEvaluator` and a plain-Python reference.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from itertools import combinations, pairwise
from typing import Any, Final

import numpy as np

from emulator.errors import StageError
from emulator.menu._evaluate import (
    _COLL_BINS,
    _COS,
    _COSH,
    _DETA2,
    _DPHI2,
    _PHI_BINS,
    COLL_INDEX,
    BatchEvaluator,
    condition_label,
    correlation_tables,
    missing_inputs,
    objects_extra,
    offset_needs,
)
from emulator.menu._kernels import (
    COLL_SIZES,
    F_CHARGE,
    F_DISP,
    F_ETA,
    F_INDEX,
    F_IP,
    F_ISO,
    F_PHI,
    F_PT,
    F_QUAL,
    F_UPT,
    KERNEL_COLLECTIONS,
    OBJ_FIELDS,
    stack_objects,
)
from emulator.menu._program_kernel import (
    CHUNK,
    LEG_FIELDS,
    OP_AND,
    OP_ANDC,
    OP_FALSE,
    OP_NOT,
    OP_OR,
    OP_ORC,
    OP_PUSH,
    SUM_FIELDS,
    run_program,
)
from emulator.menu._utm import AND, NOT, OR
from emulator.menu.hardware import ALL_BITS, NO_MAX, HwCondition, HwLeg, HwObjects, HwSeed, HwSum
from streams.event import EventBatch
from streams.schema import CALO_PHI_BINS

__all__ = ["SUM_ROWS", "MenuProgram"]

#: Energy sums as rows of the kernel's (sum, [ET, φ], event) array.
SUM_ROWS: Final = ("ett", "htt", "etm", "htm", "etmhf")
_CLIP: Final = 1 << 40  # integer bounds beyond any hardware value


def _clip(v: int) -> int:
    return max(-_CLIP, min(_CLIP, v))


def _pairs(windows: tuple[tuple[int, int], ...], n: int) -> list[int]:
    flat = [_clip(v) for w in windows for v in w]
    return [len(windows), *flat, *([0, 0] * (n - len(windows)))]


def _leg_row(leg: HwLeg) -> list[int]:
    head = [COLL_INDEX[leg.collection], leg.pt_min, _clip(leg.pt_max), leg.qual_mask, leg.iso_mask, leg.charge,
            *leg.slots, leg.eta_min, _clip(leg.eta_max)]  # fmt: skip
    extra = [leg.upt[0], _clip(leg.upt[1]), leg.ip_mask, leg.disp]
    return head + _pairs(leg.eta_windows, 5) + _pairs(leg.phi_windows, 2) + extra + _pairs(leg.index_windows, 5)


def _sum_row(s: HwSum) -> list[int]:
    return [SUM_ROWS.index(s.sum), s.min, _clip(s.max), *_pairs(s.phi_windows, 2)]


def _within(w: tuple[tuple[int, int], ...], v: tuple[tuple[int, int], ...]) -> bool:
    return not w or w == v


def _contains(a: HwLeg, b: HwLeg) -> bool:
    """Every object that passes ``b`` passes ``a`` (decided on the cuts alone, conservatively)."""
    return (
        a.collection == b.collection and a.pt_min <= b.pt_min and a.pt_max >= b.pt_max
        and a.eta_min <= b.eta_min and a.eta_max >= b.eta_max and _within(a.eta_windows, b.eta_windows)
        and _within(a.phi_windows, b.phi_windows) and a.qual_mask & b.qual_mask == b.qual_mask
        and a.iso_mask & b.iso_mask == b.iso_mask and a.charge in (0, b.charge)
        and a.slots[0] <= b.slots[0] and a.slots[1] >= b.slots[1]
        and a.upt[0] <= b.upt[0] and a.upt[1] >= b.upt[1] and a.ip_mask & b.ip_mask == b.ip_mask
        and _within(a.index_windows, b.index_windows) and a.disp in (-1, b.disp)
    )  # fmt: skip


def _hall_subsets(cond: HwObjects) -> list[tuple[int, int]]:
    """(leg mask, size) pairs such that distinct objects exist iff ``|∪ bits of mask| ≥ size`` for all.

    Hall's condition, per collection: every subset of ≥ 2 legs. When a collection's legs are
    nested (each accepts all that a tighter one does: the usual ``comb{JET95, JET75, JET65}``),
    a union is its loosest leg, and only the k tightest legs need ``≥ k`` candidates.
    """
    out = []
    for coll in dict.fromkeys(leg.collection for leg in cond.legs):
        pos = [d for d, leg in enumerate(cond.legs) if leg.collection == coll]
        chain = sorted(pos, key=lambda d: -cond.legs[d].pt_min)
        if all(_contains(cond.legs[b], cond.legs[a]) for a, b in pairwise(chain)):
            out += [(1 << d, k + 1) for k, d in enumerate(chain) if k > 0]
            continue
        for r in range(2, len(pos) + 1):
            out += [(sum(1 << d for d in sub), r) for sub in combinations(pos, r)]
    return out


def _needs_search(cond: HwObjects) -> bool:
    return bool(cond.correlations) or cond.charge != 0 or cond.mass3 != (0, NO_MAX)


def _ops_code(n: int) -> list[int]:
    """Postfix AND of conditions 0..n-1."""
    return [0, *(x for k in range(1, n) for x in (k, AND))]


def _ops(seed: HwSeed, index: dict[HwCondition, int]) -> list[tuple[int, int]]:
    """The seed's postfix logic as kernel instructions (a push followed by and/or fuses)."""
    if seed.unsupported:
        return [(OP_FALSE, 0)]
    code = list(seed.logic) or _ops_code(len(seed.conditions))
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(code):
        op = code[i]
        nxt = code[i + 1] if i + 1 < len(code) else None
        if op >= 0 and out and nxt in (AND, OR):
            out.append((OP_ANDC if nxt == AND else OP_ORC, index[seed.conditions[op]]))
            i += 2
            continue
        out.append((OP_PUSH, index[seed.conditions[op]]) if op >= 0 else ({AND: OP_AND, OR: OP_OR, NOT: OP_NOT}[op], 0))
        i += 1
    return out


def _depth(ops: list[tuple[int, int]]) -> int:
    d = top = 0
    for op, _ in ops:
        d += 1 if op in (OP_PUSH, OP_FALSE) else -1 if op in (OP_AND, OP_OR) else 0
        top = max(top, d)
    return top


def _factors(code: tuple[int, ...]) -> tuple[list[int], set[int]]:
    """The leaves of a seed's top-level AND, and the conditions it uses anywhere else (under OR/NOT)."""
    stack: list[tuple[Any, ...]] = []
    for op in code:
        if op >= 0:
            stack.append(("leaf", op))
        elif op == NOT:
            stack.append(("not", stack.pop()))
        else:
            b, a = stack.pop(), stack.pop()
            stack.append(("and" if op == AND else "or", a, b))
    factors: list[int] = []
    elsewhere: set[int] = set()

    def leaves(node: tuple[Any, ...]) -> list[int]:
        return [node[1]] if node[0] == "leaf" else [x for child in node[1:] for x in leaves(child)]

    todo = [stack[0]]
    while todo:
        node = todo.pop()
        if node[0] == "and":
            todo += [node[1], node[2]]
        elif node[0] == "leaf":
            factors.append(node[1])
        else:
            elsewhere.update(leaves(node))
    return factors, elsewhere


def _search_order(cond: HwObjects) -> tuple[int, int]:
    """Searches run rare-first (muons, then high thresholds), so later ones can skip more events."""
    return (0 if any(leg.collection == "muon" for leg in cond.legs) else 1, -max(leg.pt_min for leg in cond.legs))


def _needed_fields(legs: list[HwLeg], conds: list[HwObjects]) -> np.ndarray:
    """(collection, field) pairs of the stacked objects that some cut reads."""
    out = np.zeros((len(KERNEL_COLLECTIONS), len(OBJ_FIELDS)), bool)
    for leg in legs:
        c = COLL_INDEX[leg.collection]
        out[c, F_PT] = True
        out[c, F_ETA] |= leg.eta_min > 0 or leg.eta_max < NO_MAX or bool(leg.eta_windows)
        out[c, F_PHI] |= bool(leg.phi_windows)
        out[c, F_QUAL] |= leg.qual_mask != ALL_BITS
        out[c, F_ISO] |= leg.iso_mask != ALL_BITS
        out[c, F_CHARGE] |= leg.charge != 0
        out[c, F_UPT] |= leg.upt != (0, NO_MAX)
        out[c, F_IP] |= leg.ip_mask != ALL_BITS
        out[c, F_INDEX] |= bool(leg.index_windows)
        out[c, F_DISP] |= leg.disp >= 0
    for cond in conds:
        if _needs_search(cond):
            charge = cond.charge != 0 or any(k.charge for k in cond.correlations)
            upt = any(k.upt for k in cond.correlations)
            for leg in cond.legs:
                c = COLL_INDEX[leg.collection]
                out[c, [F_ETA, F_PHI]] = True
                out[c, F_CHARGE] |= charge
                out[c, F_UPT] |= upt
    return out


class MenuProgram:
    """A menu's seeds as integer tables for :func:`run_program` (built once per menu)."""

    def __init__(self, seeds: tuple[HwSeed, ...]) -> None:
        self.seeds = seeds
        legs: dict[HwLeg, int] = {}
        objects: dict[HwObjects, int] = {}
        sums: dict[HwSum, int] = {}
        others: dict[HwCondition, int] = {}
        for seed in seeds:
            for cond in seed.conditions:
                if isinstance(cond, HwObjects):
                    objects.setdefault(cond, len(objects))
                    for leg in cond.legs:
                        legs.setdefault(leg, len(legs))
                elif isinstance(cond, HwSum):
                    sums.setdefault(cond, len(sums))
                else:
                    others.setdefault(cond, len(others))
        self.others = tuple(others)
        self.offset_needs = offset_needs(seeds)
        self.fields = _needed_fields(list(legs), list(objects))
        self._local = threading.local()  # per-thread object buffer (see _stacked)
        self.legs = np.array([_leg_row(leg) for leg in legs], np.int64).reshape(-1, LEG_FIELDS)
        self.sum_rows = np.array([_sum_row(s) for s in sums], np.int64).reshape(-1, SUM_FIELDS)
        self._objects_tables(list(objects), legs)
        index: dict[HwCondition, int] = {c: i for i, c in enumerate(objects)}
        index |= {c: len(objects) + i for i, c in enumerate(sums)}
        index |= {c: len(objects) + len(sums) + i for i, c in enumerate(self.others)}
        self._schedule(list(objects), index)
        ops = [_ops(s, index) for s in seeds]
        self.seed_ptr = np.cumsum([0, *(len(o) for o in ops)]).astype(np.int64)
        self.ops = np.array([op for o in ops for op, _ in o], np.int64)
        self.args = np.array([a for o in ops for _, a in o], np.int64)
        self.depth = max((_depth(o) for o in ops), default=1)

    def _objects_tables(self, conds: list[HwObjects], legs: dict[HwLeg, int]) -> None:
        self.cond_ptr = np.cumsum([0, *(len(c.legs) for c in conds)]).astype(np.int64)
        self.cond_legs = np.array([legs[leg] for c in conds for leg in c.legs], np.int64)
        self.cond_coll = np.array([COLL_INDEX[leg.collection] for c in conds for leg in c.legs], np.int64)
        self.cond_flags = np.array([int(_needs_search(c)) for c in conds], np.int64)
        self.cond_extra = np.array([objects_extra(c) for c in conds], np.int64).reshape(-1, 3)
        halls = [_hall_subsets(c) for c in conds]
        self.hall_ptr = np.cumsum([0, *(len(h) for h in halls)]).astype(np.int64)
        self.hall = np.array([x for h in halls for x in h], np.int64).reshape(-1, 2)
        self.corr_ptr = np.cumsum([0, *(len(c.correlations) for c in conds)]).astype(np.int64)
        self.corr_legs, self.corr_scale, self.corr_cut = correlation_tables([k for c in conds for k in c.correlations])

    def _schedule(self, conds: list[HwObjects], index: dict[HwCondition, int]) -> None:
        """The order to decide object conditions in (searches last), and each search's guard:
        per seed that has it as a top-level AND factor, the seed's factors decided before it."""
        search = {i for i, c in enumerate(conds) if _needs_search(c)}
        order = [i for i in range(len(conds)) if i not in search]
        order += sorted(search, key=lambda i: _search_order(conds[i]))
        pos = {k: p for p, k in enumerate(order)}
        terms: dict[int, list[tuple[int, ...]] | None] = {k: [] for k in search}
        for seed in self.seeds:
            if seed.unsupported:
                continue
            glob = [index[c] for c in seed.conditions]
            factors, elsewhere = _factors(seed.logic or tuple(_ops_code(len(seed.conditions))))
            for k in {glob[j] for j in elsewhere} & search:
                terms[k] = None
            for k in {glob[j] for j in factors} & search:
                before = tuple(sorted({glob[j] for j in factors if glob[j] != k and pos.get(glob[j], -1) < pos[k]}))
                known = terms[k]
                if known is not None and before:
                    known.append(before)
                else:  # the seed fires on this condition alone: it must be decided everywhere
                    terms[k] = None
        guards = [list(dict.fromkeys(terms[k] or ())) if k in search else [] for k in range(len(conds))]
        self._mass_groups(conds, [k for k in sorted(search) if not guards[k]])
        self.guard_ptr = np.cumsum([0, *(len(g) for g in guards)]).astype(np.int64)
        self.term_ptr = np.cumsum([0, *(len(t) for g in guards for t in g)]).astype(np.int64)
        self.term_cond = np.array([c for g in guards for t in g for c in t], np.int64)
        self.order = np.array(order, np.int64)

    def _mass_groups(self, conds: list[HwObjects], unguarded: list[int]) -> None:
        """Two-leg conditions alike but for their mass minimum share one search for the largest pair
        mass (``cond_group``, ``cond_mass_lo``; each group's cuts, mass minimum 0, in the correlation tables)."""
        groups: dict[tuple[Any, ...], list[int]] = {}
        for k in unguarded:
            c = conds[k]
            if len(c.legs) == 2 and len(c.correlations) == 1 and c.charge == 0 and c.mass3 == (0, NO_MAX):
                corr = c.correlations[0]
                if not corr.veto and corr.mass2[0] > 0:
                    groups.setdefault((c.legs, replace(corr, mass2=(0, corr.mass2[1]))), []).append(k)
        shared = [(key, ks) for key, ks in groups.items() if len(ks) > 1]
        self.cond_group = np.full(len(conds), -1, np.int64)
        self.cond_mass_lo = np.zeros(len(conds), np.int64)
        rows = []
        for g, (_, ks) in enumerate(shared):
            for k in ks:
                self.cond_group[k] = g
                self.cond_mass_lo[k] = conds[k].correlations[0].mass2[0]
            rows.append(len(self.corr_scale) + g)
        if shared:
            legs, scale, cut = correlation_tables([key[1] for key, _ in shared])
            self.corr_legs = np.concatenate([self.corr_legs, legs])
            self.corr_scale = np.concatenate([self.corr_scale, scale])
            self.corr_cut = np.concatenate([self.corr_cut, cut])
        self.group_corr = np.array(rows, np.int64)

    def _where(self, cond: HwCondition) -> str:
        """'seed s (NAME) condition j' of the first use of ``cond``."""
        s, j = next((s, j) for s, seed in enumerate(self.seeds) for j, c in enumerate(seed.conditions) if c == cond)
        return condition_label(self.seeds, s, j)

    def _other_columns(self, batch: EventBatch, menu: str) -> np.ndarray:
        ev = BatchEvaluator(batch)
        out = np.empty((len(batch), len(self.others)), bool)
        for k, cond in enumerate(self.others):
            try:
                out[:, k] = ev.condition(cond)
            except StageError as exc:
                msg = f"menu {menu!r}: {self._where(cond)}: {exc}"
                raise StageError(msg) from exc
        return out

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_local"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    def _stacked(self, batch: EventBatch) -> np.ndarray:
        """:func:`stack_objects` into this thread's buffer of the last batch size: a fresh 4 MB
        array per batch costs more in page faults than filling it does."""
        buf = stack_objects(batch, self.fields, getattr(self._local, "stacked", None))
        self._local.stacked = buf
        return buf

    def evaluate(self, batch: EventBatch, menu: str) -> np.ndarray:
        """Bool (N, S) seed decisions; ``menu`` (its name) prefixes error messages."""
        other = self._other_columns(batch, menu)
        n = len(batch)
        sums = np.zeros((len(SUM_ROWS), 2, n), np.int64)
        for r, name in enumerate(SUM_ROWS):
            sums[r, 0] = batch[name]
            if f"{name}_phi" in batch:
                sums[r, 1] = np.mod(batch[f"{name}_phi"], CALO_PHI_BINS)
        out = np.empty((n, len(self.seeds)), bool)
        res = np.zeros((-(-len(self.seeds) // 8) * 8, CHUNK), bool)  # the chunk's decisions, seed-major
        out64 = out.view(np.uint64) if len(self.seeds) % 8 == 0 and out.size else np.zeros((1, 0), np.uint64)
        tabs = (self.cond_ptr, self.cond_legs, self.cond_coll, self.cond_flags, self.hall_ptr, self.corr_ptr,
                self.corr_scale, self.guard_ptr, self.term_ptr, self.term_cond, self.order, self.cond_group,
                self.cond_mass_lo, self.group_corr)  # fmt: skip
        tabs2 = (self.cond_extra, self.hall, self.corr_legs, self.corr_cut)
        run_program(self._stacked(batch), sums, other, self.legs, COLL_SIZES, tabs, tabs2, self.sum_rows,
                    self.seed_ptr, self.ops, self.args, self.depth, _COLL_BINS, (_DETA2, _DPHI2, _COSH, _COS),
                    _PHI_BINS, res, res.view(np.uint64), out, out64)  # fmt: skip
        for s in missing_inputs(self.seeds, self.offset_needs, batch, menu):
            out[:, s] = False
        return out
