"""The utm expression grammar of uGT menus (grammar 0.13): tokenizer, parser, formatter.

A seed's expression combines *atoms* (objects, sums, counts, signals) and *functions*
of objects with ``AND``, ``OR``, ``NOT`` and parentheses::

    comb{MU5[MU-QLTY_SNGL], MU3p5[MU-QLTY_DBLE]} AND mass_inv{MU5, MU2p5}[MASS_MASS_5to17, CHGCOR_OS]
    ( NOT EXT_BPTX_OR_VME-1) AND JET43[JET-ETA_2p52]

An atom is ``TYPE[.ge.|.eq.]THRESHOLD[±BX][CUT, ...]`` (threshold ``2p5`` = 2.5 GeV) or a
signal ``NAME[±BX][CUT, ...]``. Mixing ``AND`` and ``OR`` at one level without parentheses is
rejected rather than given a precedence (the VHDL the menu compiles to needs them too);
``NOT`` binds to the next atom, function or parenthesis. Errors are :class:`MenuError`
naming the seed, the character position and what was expected.

>>> tree = parse_expression("comb{MU0[MU-QLTY_SNGL], MU0[MU-QLTY_SNGL]}[CHGCOR_OS] AND ( NOT EXT_X+1)")
>>> format_expression(tree)
'comb{MU0[MU-QLTY_SNGL], MU0[MU-QLTY_SNGL]}[CHGCOR_OS] AND NOT EXT_X+1'
>>> parse_expression(format_expression(tree)) == tree
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from emulator.errors import MenuError

__all__ = [
    "COUNTS",
    "FUNCTIONS",
    "OBJECTS",
    "SIGNALS_RE",
    "SUMS",
    "And",
    "Atom",
    "Function",
    "Node",
    "Not",
    "Or",
    "atoms",
    "format_expression",
    "functions",
    "parse_expression",
]

#: Object types with a pT threshold and object cuts.
OBJECTS: Final = ("MU", "EG", "TAU", "JET")
#: Energy sums (threshold in GeV).
SUMS: Final = ("ETT", "HTT", "ETM", "HTM", "ETTEM", "ETMHF", "HTMHF")
#: Counts (integer threshold).
COUNTS: Final = ("ASYMET", "ASYMHT", "ASYMETHF", "ASYMHTHF", "MBT0HFP", "MBT0HFM", "MBT1HFP", "MBT1HFM",
                 "TOWERCOUNT", "ZDCP", "ZDCM")  # fmt: skip
#: Signals: no threshold, optional cuts (AXO, TOPO, CICADA, ADT) and bx offset.
SIGNALS_RE: Final = re.compile(r"CENT[0-7]|MUSOOT[01]|MUS[0-2]|ADT|AXO|TOPO|CICADA|EXT_[A-Za-z0-9_]*[A-Za-z0-9]")
#: Function name -> (minimum, maximum) number of objects.
FUNCTIONS: Final = {
    "comb": (1, 4), "dist": (2, 2), "mass_inv": (2, 2), "mass_inv_3": (3, 3), "mass_trv": (2, 2),
    "mass_inv_upt": (2, 2), "mass_inv_dr": (2, 2), "comb_orm": (2, 5), "dist_orm": (2, 3),
    "mass_inv_orm": (2, 3),
}  # fmt: skip

_TYPES: Final = tuple(sorted((*OBJECTS, *SUMS, *COUNTS), key=len, reverse=True))
_THRESHOLD_ATOM: Final = re.compile(
    rf"(?P<type>{'|'.join(_TYPES)})(?:\.(?P<cmp>ge|eq)\.)?(?P<thr>\d+(?:p\d+)?)(?P<bx>[+-]\d+)?"
)
_SIGNAL_ATOM: Final = re.compile(rf"(?P<sig>{SIGNALS_RE.pattern})(?P<bx>[+-]\d+)?")
_CUT_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*")
_TOKEN: Final = re.compile(r"\s*(?:(?P<punct>[(){}\[\],])|(?P<word>[A-Za-z0-9_.+\-]+)|(?P<bad>\S))")
_MAX_BX: Final = 2  # the uGT pipelines ±2 bunch crossings


@dataclass(frozen=True, slots=True)
class Atom:
    """``MU4p5-1[MU-QLTY_SNGL]``: ``name`` MU, threshold ``"4p5"``, bx −1; signals have no threshold."""

    name: str
    threshold: str | None = None
    comparison: Literal["ge", "eq"] = "ge"
    bx: int = 0
    cuts: tuple[str, ...] = ()

    @property
    def value(self) -> float:
        """The threshold in GeV (or counts); 0 for signals."""
        return 0.0 if self.threshold is None else float(self.threshold.replace("p", "."))


@dataclass(frozen=True, slots=True)
class Function:
    """``dist{MU3, JET16[JET-ETA_2p52]}[DR_MAX_0p4]``."""

    name: str
    objects: tuple[Atom, ...]
    cuts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Node, ...]  # two or more


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Node, ...]  # two or more


Node = Atom | Function | Not | And | Or


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: Literal["punct", "word", "end"]
    text: str
    pos: int


def _tokens(text: str, where: str) -> list[_Tok]:
    out: list[_Tok] = []
    i = 0
    while i < len(text):
        m = _TOKEN.match(text, i)
        if m is None:  # only trailing whitespace is left
            break
        if m.group("bad") is not None:
            _fail(text, m.start("bad"), where, "a name, number or one of ( ) { } [ ] ,", repr(m.group("bad")))
        kind: Literal["punct", "word"] = "punct" if m.group("punct") is not None else "word"
        out.append(_Tok(kind, m.group(kind), m.start(kind)))
        i = m.end()
    out.append(_Tok("end", "", len(text)))
    return out


def _fail(text: str, pos: int, where: str, expected: str, got: str) -> None:
    msg = f"{where}: character {pos + 1}: expected {expected}, got {got}\n    {text}\n    {' ' * pos}^"
    raise MenuError(msg)


class _Parser:
    def __init__(self, text: str, where: str) -> None:
        self.text, self.where = text, where
        self.toks = _tokens(text, where)
        self.i = 0

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def fail(self, expected: str, tok: _Tok | None = None) -> None:
        t = tok or self.tok
        _fail(self.text, t.pos, self.where, expected, "the end" if t.kind == "end" else repr(t.text))

    def take(self, text: str, expected: str) -> None:
        if self.tok.text != text or self.tok.kind == "end":
            self.fail(expected)
        self.i += 1

    def expression(self) -> Node:
        first = self.unary()
        ops: list[str] = []
        operands = [first]
        while self.tok.kind == "word" and self.tok.text in ("AND", "OR"):
            if ops and self.tok.text != ops[0]:
                self.fail(f"{ops[0]} (AND and OR mixed at one level need parentheses)")
            ops.append(self.tok.text)
            self.i += 1
            operands.append(self.unary())
        if not ops:
            return first
        return And(tuple(operands)) if ops[0] == "AND" else Or(tuple(operands))

    def unary(self) -> Node:
        if self.tok.kind == "word" and self.tok.text == "NOT":
            self.i += 1
            return Not(self.unary())
        if self.tok.text == "(" and self.tok.kind == "punct":
            self.i += 1
            inner = self.expression()
            self.take(")", "')' or AND/OR")
            return inner
        return self.primary()

    def primary(self) -> Node:
        tok = self.tok
        if tok.kind != "word" or tok.text in ("AND", "OR"):
            self.fail("an object, a function, NOT or '('")
        nxt = self.toks[self.i + 1]
        if nxt.kind == "punct" and nxt.text == "{":
            return self.function()
        return self.atom()

    def function(self) -> Function:
        tok = self.tok
        if tok.text not in FUNCTIONS:
            self.fail(f"a function name ({', '.join(FUNCTIONS)})")
        self.i += 1
        self.take("{", "'{'")
        objects = [self.atom()]
        while self.tok.text == "," and self.tok.kind == "punct":
            self.i += 1
            objects.append(self.atom())
        self.take("}", "',' or '}' after an object")
        lo, hi = FUNCTIONS[tok.text]
        if not lo <= len(objects) <= hi:
            count = str(lo) if lo == hi else f"{lo}..{hi}"
            self.fail(f"{count} objects in {tok.text}{{...}}, not {len(objects)}", tok)
        return Function(tok.text, tuple(objects), self.cuts())

    def atom(self) -> Atom:
        tok = self.tok
        if tok.kind != "word":
            self.fail("an object (e.g. MU5, JET30, ETMHF90) or a signal (e.g. EXT_..., MUS0)")
        thr = _THRESHOLD_ATOM.fullmatch(tok.text)
        sig = None if thr else _SIGNAL_ATOM.fullmatch(tok.text)
        if thr is None and sig is None:
            self.fail("an object (e.g. MU5, JET30, ETMHF90) or a signal (e.g. EXT_..., MUS0)")
        m = thr or sig
        assert m is not None
        bx = int(m.group("bx") or 0)
        if abs(bx) > _MAX_BX:
            self.fail(f"a bx offset within ±{_MAX_BX}", tok)
        self.i += 1
        cuts = self.cuts()
        if thr is not None:
            cmp: Literal["ge", "eq"] = "eq" if thr.group("cmp") == "eq" else "ge"
            return Atom(thr.group("type"), thr.group("thr"), cmp, bx, cuts)
        return Atom(m.group("sig"), None, "ge", bx, cuts)

    def cuts(self) -> tuple[str, ...]:
        if not (self.tok.kind == "punct" and self.tok.text == "["):
            return ()
        self.i += 1
        names: list[str] = []
        while True:
            tok = self.tok
            if tok.kind != "word" or not _CUT_NAME.fullmatch(tok.text):
                self.fail("a cut name (e.g. MU-QLTY_SNGL, DR_MAX_0p4)")
            names.append(tok.text)
            self.i += 1
            if self.tok.text == "," and self.tok.kind == "punct":
                self.i += 1
                continue
            self.take("]", "',' or ']' after a cut name")
            return tuple(names)


def parse_expression(text: str, *, where: str = "expression") -> Node:
    """Parse one seed expression; ``where`` (e.g. ``"seed L1_X"``) starts error messages."""
    p = _Parser(text, where)
    if p.tok.kind == "end":
        p.fail("an expression")
    tree = p.expression()
    if p.tok.kind != "end":
        p.fail("AND, OR or the end of the expression")
    return tree


def _format_atom(a: Atom) -> str:
    head = a.name if a.threshold is None else f"{a.name}{'.eq.' if a.comparison == 'eq' else ''}{a.threshold}"
    bx = f"{a.bx:+d}" if a.bx else ""
    return head + bx + (f"[{', '.join(a.cuts)}]" if a.cuts else "")


def format_expression(node: Node) -> str:
    """Canonical text of a tree: ``parse_expression(format_expression(t)) == t``."""
    if isinstance(node, Atom):
        return _format_atom(node)
    if isinstance(node, Function):
        objs = ", ".join(_format_atom(o) for o in node.objects)
        return f"{node.name}{{{objs}}}" + (f"[{', '.join(node.cuts)}]" if node.cuts else "")
    if isinstance(node, Not):
        inner = format_expression(node.operand)
        return f"NOT ({inner})" if isinstance(node.operand, And | Or) else f"NOT {inner}"
    op = " AND " if isinstance(node, And) else " OR "
    parts = (f"({format_expression(o)})" if isinstance(o, And | Or) else format_expression(o) for o in node.operands)
    return op.join(parts)


def atoms(node: Node) -> list[Atom]:
    """Every atom of a tree, function objects included, in text order."""
    if isinstance(node, Atom):
        return [node]
    if isinstance(node, Function):
        return list(node.objects)
    if isinstance(node, Not):
        return atoms(node.operand)
    return [a for o in node.operands for a in atoms(o)]


def functions(node: Node) -> list[Function]:
    """Every function of a tree, in text order."""
    if isinstance(node, Function):
        return [node]
    if isinstance(node, Atom):
        return []
    if isinstance(node, Not):
        return functions(node.operand)
    return [f for o in node.operands for f in functions(o)]
