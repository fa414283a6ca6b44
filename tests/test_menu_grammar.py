"""The utm grammar: parse ∘ format is the identity, the real 2024 expressions parse, errors point."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.errors import MenuError
from emulator.menu._grammar import (
    COUNTS,
    FUNCTIONS,
    OBJECTS,
    SUMS,
    And,
    Atom,
    Function,
    Node,
    Not,
    Or,
    atoms,
    format_expression,
    functions,
    parse_expression,
)
from tests.helpers import CMS_MENU_DATA

SHARED = CMS_MENU_DATA
ALGORITHMS = SHARED / "L1Menu_Collisions2024_v1_3_0.algorithms.json"

# -- random trees -------------------------------------------------------------------------------

_cut = st.from_regex(r"[A-Z]{1,6}(-[A-Z]{2,5})?_[A-Za-z0-9]{1,8}", fullmatch=True)
_cuts = st.lists(_cut, max_size=3).map(tuple)
_thr = st.from_regex(r"(0|[1-9][0-9]{0,3})(p[0-9]{1,2})?", fullmatch=True)
_bx = st.integers(-2, 2)
_threshold_atom = st.builds(Atom, st.sampled_from((*OBJECTS, *SUMS, *COUNTS)), _thr,
                            st.sampled_from(("ge", "eq")), _bx, _cuts)  # fmt: skip
_signal = st.sampled_from(("MUS0", "MUS2", "MUSOOT1", "CENT3", "ADT", "AXO", "TOPO", "CICADA", "EXT_BPTX_OR_VME",
                           "EXT_ZeroBias_BPTX_AND_VME", "EXT_TOTEM_1"))  # fmt: skip
_signal_atom = st.builds(Atom, _signal, st.none(), st.just("ge"), _bx, _cuts)
_atom = st.one_of(_threshold_atom, _signal_atom)


@st.composite
def _function(draw: st.DrawFn) -> Function:
    name = draw(st.sampled_from(sorted(FUNCTIONS)))
    lo, hi = FUNCTIONS[name]
    objects = draw(st.lists(_threshold_atom, min_size=lo, max_size=hi).map(tuple))
    return Function(name, objects, draw(_cuts))


_leaf = st.one_of(_atom, _function())


def _extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    many = st.lists(children, min_size=2, max_size=4).map(tuple)
    return st.one_of(st.builds(Not, children), st.builds(And, many), st.builds(Or, many))


_tree = st.recursive(_leaf, _extend, max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(tree=_tree)
def test_parse_of_format_is_the_identity(tree: Node) -> None:
    text = format_expression(tree)
    assert parse_expression(text) == tree, text


@settings(max_examples=100, deadline=None)
@given(tree=_tree)
def test_format_is_stable_and_whitespace_does_not_matter(tree: Node) -> None:
    text = format_expression(tree)
    spaced = text.replace("{", " { ").replace("}", " } ").replace(",", " , ").replace("(", "( ")
    assert format_expression(parse_expression(spaced)) == text


# -- the real menu ------------------------------------------------------------------------------


def test_every_2024_expression_parses_and_round_trips() -> None:
    algos = json.loads(ALGORITHMS.read_text())
    assert len(algos) == 408
    used = {"functions": set(), "objects": set()}
    for name, entry in algos.items():
        tree = parse_expression(entry["expression"], where=f"seed {name}")
        assert parse_expression(format_expression(tree)) == tree, name
        used["functions"] |= {f.name for f in functions(tree)}
        used["objects"] |= {a.name if not a.name.startswith("EXT_") else "EXT" for a in atoms(tree)}
    assert used["functions"] == {"comb", "dist", "mass_inv", "mass_inv_3", "mass_trv", "comb_orm", "mass_inv_orm"}
    assert {"MU", "EG", "TAU", "JET", "EXT", "HTT", "ETMHF", "HTMHF", "AXO", "CICADA", "ETM", "MBT0HFP",
            "MUS0", "ETT"} <= used["objects"]  # fmt: skip


def test_atoms_carry_threshold_comparison_bx_and_cuts() -> None:
    tree = parse_expression("dist{MU3-1[MU-ETA_1p2, MU-QLTY_SNGL], MU.eq.3p5}[DPHI_X] OR NOT EXT_BPTX_OR_VME+2")
    assert isinstance(tree, Or)
    fn, neg = tree.operands
    assert isinstance(fn, Function)
    assert isinstance(neg, Not)
    assert fn.objects[0] == Atom("MU", "3", "ge", -1, ("MU-ETA_1p2", "MU-QLTY_SNGL"))
    assert fn.objects[1] == Atom("MU", "3p5", "eq")
    assert fn.objects[1].value == 3.5
    assert neg.operand == Atom("EXT_BPTX_OR_VME", None, "ge", 2)
    assert parse_expression("MU.ge.10") == Atom("MU", "10")
    assert parse_expression("((MBT0HFP1))") == Atom("MBT0HFP", "1")
    assert parse_expression("ETMHF90") == Atom("ETMHF", "90")  # the longest type name wins over ETM
    assert parse_expression("MUS0") == Atom("MUS0")  # a signal, not a muon


def test_brackets_keep_nesting_and_not_binds_tightly() -> None:
    inner = And((Atom("EG", "5"), Atom("JET", "5")))
    assert parse_expression("MU0 AND (EG5 AND JET5)") == And((Atom("MU", "0"), inner))
    assert parse_expression("NOT MU0 AND EG5") == And((Not(Atom("MU", "0")), Atom("EG", "5")))
    assert format_expression(parse_expression("NOT (MU0 OR EG5)")) == "NOT (MU0 OR EG5)"


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "expected"),
    [
        ("comb{MU0, MU0", 14, "',' or '}' after an object"),
        ("MU0[MU-QLTY", 12, "',' or ']' after a cut name"),
        ("MU0 AND OR JET5", 9, "an object, a function, NOT or '('"),
        ("MU0 AND JET5 OR EG5", 14, "AND (AND and OR mixed at one level need parentheses)"),
        ("combo{MU0}", 1, "a function name"),
        ("MU0[MU-X] JET5", 11, "AND, OR or the end"),
        ("dist{MU0}[DR_1]", 1, "2 objects in dist"),
        ("comb{MU0, MU0, MU0, MU0, MU0}", 1, "1..4 objects in comb"),
        ("MU0+3", 1, "a bx offset within ±2"),
        ("NOT", 4, "an object, a function, NOT or '('"),
        ("MU0 $ JET", 5, "a name, number or one of"),
        ("(MU0 AND EG5", 13, "')' or AND/OR"),
        ("PHOTON20", 1, "an object (e.g. MU5"),
        ("", 1, "an expression"),
        ("MU0[]", 5, "a cut name"),
    ],
)
def test_errors_name_seed_position_and_what_was_expected(text: str, position: int, expected: str) -> None:
    with pytest.raises(MenuError) as err:
        parse_expression(text, where="seed L1_Bad")
    msg = str(err.value)
    assert msg.startswith(f"seed L1_Bad: character {position}: expected "), msg
    assert expected in msg, msg
    assert msg.splitlines()[-1] == "    " + " " * (position - 1) + "^"
