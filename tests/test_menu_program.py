"""The compiled menu program (one kernel call per batch) against the numpy evaluator.

``test_menu_evaluate`` checks :meth:`Menu.evaluate` (the program) against a plain-Python
reference; here the program and :meth:`Menu.evaluate_reference` (condition by condition
with :class:`BatchEvaluator`, used by the threshold studies) must agree bit for bit on
the shipped menu and on a menu with every kind of cut, for batches as they arrive from
the wire (read-only buffers), strided selections and every batch size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.errors import StageError
from emulator.menu import Menu, load_menu
from emulator.menu._program import MenuProgram
from emulator.menu._program_kernel import LEG_FIELDS, OP_ANDC, OP_PUSH
from streams.event import EventBatch
from streams.sources.parametric import ParametricConfig, ParametricSource
from streams.wire import decode, encode_batch
from tests.test_menu_evaluate import SEEDS, _menu, _seed, random_batch

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def every_cut() -> Menu:
    return _menu(SEEDS)


@pytest.fixture(scope="module")
def shipped() -> Menu:
    return load_menu(ROOT / "configs" / "menus" / "cms2024.yaml")


def _with_scores(batch: EventBatch, seed: int) -> EventBatch:
    rng = np.random.default_rng(seed)
    n = len(batch)
    return batch.with_columns(score_axol1tl=(rng.random(n) * 400).astype(np.float32),
                              score_cicada=(rng.random(n) * 400).astype(np.float32))  # fmt: skip


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(0, 300), max_objects=st.integers(1, 12))
def test_program_equals_numpy_evaluator_on_random_events(every_cut: Menu, seed: int, n: int,
                                                          max_objects: int) -> None:  # fmt: skip
    batch = random_batch(seed, n, max_objects=max_objects)
    assert np.array_equal(every_cut.evaluate(batch), every_cut.evaluate_reference(batch))


def test_shipped_menu_on_parametric_events_from_the_wire(shipped: Menu) -> None:
    source = ParametricSource(ParametricConfig(events=3000, mu=60, seed=5))
    fired = np.zeros(len(shipped.seed_names), np.int64)
    for k, raw in enumerate(source.batches(1000)):
        batch = decode([bytes(f) for f in encode_batch(_with_scores(raw, k))]).batch
        assert batch is not None
        assert not batch["jet_pt"].flags.writeable  # what a worker really sees
        got = shipped.evaluate(batch)
        assert np.array_equal(got, shipped.evaluate_reference(batch))
        fired += got.sum(axis=0)
    assert (fired > 0).sum() >= len(fired) // 2, "the comparison exercises too few seeds"


def test_strided_selection_and_empty_batch(every_cut: Menu) -> None:
    batch = random_batch(3, 400)
    strided = batch.select(slice(1, None, 3))
    assert np.array_equal(every_cut.evaluate(strided), every_cut.evaluate_reference(strided))
    assert every_cut.evaluate(batch.select(slice(0, 0))).shape == (0, len(SEEDS))


def test_program_tables_share_legs_and_conditions() -> None:
    leg = {"type": "jet", "pt_min": 30}
    menu = _menu([_seed("A", {"legs": [leg]}), _seed("B", {"legs": [leg, leg]}),
                  _seed("C", {"legs": [leg]}, {"sum": "htt", "min": 100}), _seed("D", {"sum": "htt", "min": 100})])
    program = MenuProgram(menu.hw_seeds)
    assert program.legs.shape == (1, LEG_FIELDS)  # one distinct leg
    assert len(program.cond_ptr) - 1 == 2  # single jet, double jet
    assert len(program.sum_rows) == 1  # the HTT condition, once
    assert program.args.tolist() == [0, 1, 0, 2, 2]  # conditions: jet, double jet, then the sum
    assert program.ops.tolist() == [OP_PUSH, OP_PUSH, OP_PUSH, OP_ANDC, OP_PUSH]


def test_errors_name_the_same_seed_and_condition(every_cut: Menu) -> None:
    full = random_batch(1, 5)
    batch = EventBatch({k: v for k, v in full.columns.items() if k != "int_score"})
    messages = []
    for fn in (every_cut.evaluate, every_cut.evaluate_reference):
        with pytest.raises(StageError, match=r"seed \d+ \(IntScore\) condition 0: score column 'int_score'") as err:
            fn(batch)
        messages.append(str(err.value))
    assert messages[0] == messages[1]


def test_shared_mass_searches_guards_and_nested_legs_decide_like_the_reference() -> None:
    """Seeds alike but for a mass minimum share one search; a search ANDed with a cheaper
    condition runs only where that one passed; nested legs check Hall's condition leg by leg."""
    from tests.test_menu_grammar_cuts import utm_menu

    menu = utm_menu(M7="mass_inv{JET10, JET10}[MASS_MIN_7]", M40="mass_inv{JET10, JET10}[MASS_MIN_40]",
                    G="JET50 AND dist{JET10, JET10}[DR_1p4]", O="JET50 OR dist{JET10, JET10}[DR_1p4]",
                    Q="comb{JET60, JET40, JET20, JET10}", H="comb{JET20, JET10[JET-SLICE_0to1], JET10}")  # fmt: skip
    program = menu._program
    assert sorted(program.cond_group.tolist()) == [-1] * (len(program.cond_group) - 2) + [0, 0]
    assert program.term_ptr[-1] == 0  # the ΔR search also stands alone under OR: no guard
    guarded = utm_menu(G="JET50 AND dist{JET10, JET10}[DR_1p4]")._program
    assert guarded.term_cond.tolist() == [0]  # decided after JET50 (condition 0), only where it passed
    # one check per pair condition (identical legs); nested quad: 3 leg checks; the slice breaks nesting: 4 subsets
    assert program.hall.shape[0] == 3 + 3 + 4
    for seed in range(4):
        batch = random_batch(seed, 300, max_objects=8)
        assert np.array_equal(menu.evaluate(batch), menu.evaluate_reference(batch))
        assert np.array_equal(guarded.evaluate(batch, "g")[:, 0], menu.evaluate(batch)[:, 2])
