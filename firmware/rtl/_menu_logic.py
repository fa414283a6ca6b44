"""Building blocks of the menu's Verilog, each cut to fit one 480 MHz cycle of the logic-depth rule.

One cycle at 480 MHz holds 2.98 LUT levels of :mod:`firmware.rtl.depth` (2.08 ns: a LUT and its net
0.7 ns, a carry bit 0.025 ns). Every register stage written with these helpers holds at most

* one add, or one compare of two values, of up to 34 bits (a LUT and its carry chain, ≤ 1.6 ns) with
  a mux before or after it; or one compare with a constant alone (Yosys' ``cmp2lcu`` makes it two LUTs
  and a shorter carry chain): its bit is registered before any AND; or
* two LUT levels of plain logic: an AND/OR of up to 36 bits, a 6-input table (a popcount
  threshold, a mask bit), a ROM of up to 10 address bits (a LUT6 with its MUXF7/F8, then a 4:1 mux);
* a product in one DSP48E2 whose output register (``PREG``) holds it (:data:`DSP_MODULE`: Yosys 0.23 infers
  a DSP48E2 for ``*`` but packs none of its registers, so the primitive is instantiated, configured as
  Yosys' own multiply, ``xcu_dsp_map.v``, with ``PREG=1``; simulators see the same registered product).

A compare never feeds an add in the same stage, and popcounts are tables, not adders (Yosys maps
an add onto a carry chain before ABC sees it).

>>> cmp_const("w", 16, ">=", 30), cmp_const("w", 16, ">=", -40000), cmp_const("w", 16, "<=", 40000)
("($signed(w) >= 17'sd30)", "1'b1", "1'b1")
>>> f"{ge_table(2):016x}"  # bit v: popcount(v) >= 2, for a 6-bit v
'fffffffefffefee8'
>>> split_const(-1, 34), split_const((5 << 34) + 7, 34)
((-1, 17179869183), (5, 7))
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from firmware.errors import UnsupportedError

__all__ = ["DSP_MODULE", "MAX_FANIN", "Pipe", "and_all", "cmp_const", "ge_table", "lit", "signed_width", "split_const"]

MAX_FANIN = 36  # inputs of an AND/OR that two LUT6 levels hold


def signed_width(lo: int, hi: int) -> int:
    """Bits of the narrowest two's-complement word holding every integer in ``[lo, hi]``."""
    return max(1 + (v.bit_length() if v >= 0 else (-v - 1).bit_length()) for v in (lo, hi))


def lit(v: int, width: int) -> str:
    """A signed Verilog literal of ``v`` at ``width`` bits (``v`` must fit)."""
    return f"{'-' if v < 0 else ''}{width}'sd{abs(v)}"


def cmp_const(word: str, width: int, op: str, bound: int) -> str:
    """``$signed(word) op bound`` for a ``width``-bit signed word; a bound outside the word's range folds
    to ``1'b1`` or ``1'b0``. The compare is one bit wider than the word (the bound always fits)."""
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    if op == ">=":
        folded = "1'b1" if bound <= lo else "1'b0" if bound > hi else ""
    elif op == "<=":
        folded = "1'b1" if bound >= hi else "1'b0" if bound < lo else ""
    else:
        msg = f"compare {op!r}: only >= and <="
        raise ValueError(msg)
    return folded or f"($signed({word}) {op} {lit(bound, width + 1)})"


def ge_table(k: int) -> int:
    """The 64-bit constant whose bit ``v`` says ``popcount(v) >= k`` (a 6-input table: one LUT6)."""
    return sum(1 << v for v in range(64) if v.bit_count() >= k)


def split_const(c: int, low_bits: int) -> tuple[int, int]:
    """``c = hi·2^low_bits + lo`` with ``0 ≤ lo < 2^low_bits``."""
    return c >> low_bits, c & ((1 << low_bits) - 1)


def and_all(terms: Iterable[str], what: str) -> str:
    """The AND of ``terms`` (``1'b1`` when there are none): at most :data:`MAX_FANIN` non-constant inputs."""
    terms = [t for t in terms if t != "1'b1"]
    if "1'b0" in terms:
        return "1'b0"
    if len(terms) > MAX_FANIN:
        msg = f"{what}: an AND of {len(terms)} bits is deeper than one 480 MHz cycle (at most {MAX_FANIN})"
        raise UnsupportedError(msg)
    return " && ".join(terms) or "1'b1"


DSP_MODULE = """\
// p = a * b, registered: one DSP48E2 with its output register (PREG) in synthesis, the same in simulation
module l1emu_dsp_mul #(parameter WA = 27, parameter WB = 18) (
    input wire clk, input wire signed [WA-1:0] a, input wire signed [WB-1:0] b, output wire signed [WA+WB-1:0] p);
`ifdef SYNTHESIS
    wire signed [29:0] a30 = a;
    wire signed [17:0] b18 = b;
    wire [47:0] p48;
    DSP48E2 #(.ACASCREG(0), .ADREG(0), .A_INPUT("DIRECT"), .ALUMODEREG(0), .AREG(0), .BCASCREG(0), .B_INPUT("DIRECT"),
              .BREG(0), .CARRYINREG(0), .CARRYINSELREG(0), .CREG(0), .DREG(0), .INMODEREG(0), .MREG(0), .OPMODEREG(0),
              .PREG(1), .USE_MULT("MULTIPLY"), .USE_SIMD("ONE48"), .AMULTSEL("A"), .BMULTSEL("B")) dsp (
        .CLK(clk), .A(a30), .B(b18), .C(48'b0), .D(27'b0), .P(p48), .INMODE(5'b00000), .ALUMODE(4'b0000),
        .OPMODE(9'b000000101), .CARRYINSEL(3'b000), .ACIN(30'b0), .BCIN(18'b0), .PCIN(48'b0), .CARRYIN(1'b0),
        .CEA1(1'b0), .CEA2(1'b0), .CEAD(1'b0), .CEALUMODE(1'b0), .CEB1(1'b0), .CEB2(1'b0), .CEC(1'b0),
        .CECARRYIN(1'b0), .CECTRL(1'b0), .CED(1'b0), .CEINMODE(1'b0), .CEM(1'b0), .CEP(1'b1), .RSTA(1'b0),
        .RSTALLCARRYIN(1'b0), .RSTALUMODE(1'b0), .RSTB(1'b0), .RSTC(1'b0), .RSTCTRL(1'b0), .RSTD(1'b0),
        .RSTINMODE(1'b0), .RSTM(1'b0), .RSTP(1'b0));
    assign p = p48[WA+WB-1:0];
`else
    reg signed [WA+WB-1:0] r;
    always @(posedge clk) r <= a * b;
    assign p = r;
`endif
endmodule
"""


class Pipe:
    """The registers of a pipelined module: declarations and, per stage, their updates.

    A register updated in stage ``k`` holds the event that entered ``k`` cycles ago; an update in
    stage ``k`` reads only registers of stage ``k − 1`` (or delays made with :meth:`delay`).
    """

    def __init__(self) -> None:
        self.decl: list[str] = []
        self.stages: dict[int, list[str]] = {}
        self.instances: list[str] = []  # registered DSP products
        self._delays: dict[tuple[str, int], str] = {}
        self._shared: dict[tuple[int, str, int], str] = {}

    def reg(self, stage: int, name: str, expr: str, width: int = 1, *, signed: bool = False,
            comment: str = "") -> str:  # fmt: skip
        """Declare ``name`` and update it with ``expr`` in ``stage``; returns ``name``."""
        kind = "reg signed" if signed else "reg"
        span = f" [{width - 1}:0]" if width > 1 or signed else ""
        self.decl.append(f"{kind}{span} {name};{f'  // {comment}' if comment else ''}")
        self.at(stage, f"{name} <= {expr};")
        return name

    def product(self, stage: int, name: str, a: tuple[str, int], b: tuple[str, int]) -> str:
        """``name`` = ``a·b`` (signed expressions and their widths, at most 27 and 18 bits) from a DSP48E2
        whose output register holds it, as a register updated in ``stage``; ``name`` is ``wa + wb`` bits."""
        (xa, wa), (xb, wb) = a, b
        if wa > 27 or wb > 18:
            msg = f"{name}: a {wa} x {wb}-bit product does not fit one DSP48E2 (27 x 18)"
            raise UnsupportedError(msg)
        self.decl.append(f"wire signed [{wa + wb - 1}:0] {name};  // stage {stage}: a DSP48E2 with PREG")
        self.instances.append(f"l1emu_dsp_mul #({wa}, {wb}) {name}_dsp (.clk(clk), .a({xa}), .b({xb}), .p({name}));")
        return name

    def shared(self, stage: int, prefix: str, expr: str, width: int = 1) -> str:
        """A register ``<prefix><n>`` updated with ``expr`` in ``stage``, one per distinct expression;
        a constant ``expr`` (``1'b0``, ``1'b1``) is returned as it is."""
        if expr in ("1'b0", "1'b1"):
            return expr
        key = (stage, expr, width)
        if key not in self._shared:
            self._shared[key] = self.reg(stage, f"{prefix}{len(self._shared)}", expr, width)
        return self._shared[key]

    def at(self, stage: int, line: str) -> None:
        self.stages.setdefault(stage, []).append(line)

    def delay(self, name: str, ready: int, stage: int, width: int = 1, *, signed: bool = False) -> str:
        """``name`` (updated in stage ``ready``) as a register updated in ``stage`` (``≥ ready``), shared."""
        prev = name
        for k in range(ready + 1, stage + 1):
            key = (name, k)
            if key not in self._delays:
                self._delays[key] = self.reg(k, f"{name}_d{k}", prev, width, signed=signed)
            prev = self._delays[key]
        return prev

    def or_tree(self, stage: int, name: str, bits: Sequence[str]) -> tuple[str, int]:
        """The OR of ``bits`` (updated in ``stage − 1``) in registers from ``stage``: groups of
        :data:`MAX_FANIN` per stage; returns the register and the stage that updates it."""
        level, k = list(bits), stage
        while True:
            groups = [level[i : i + MAX_FANIN] for i in range(0, len(level), MAX_FANIN)] or [["1'b0"]]
            if len(groups) == 1:
                return self.reg(k, name, f"|{{{', '.join(groups[0])}}}"), k
            level = [self.reg(k, f"{name}_or{k}_{g}", f"|{{{', '.join(grp)}}}") for g, grp in enumerate(groups)]
            k += 1
