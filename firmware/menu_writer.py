"""Write a menu's seeds as synthesizable HLS C++ (from ``firmware/templates/menu*.tpl``).

>>> import tempfile
>>> from emulator.menu import load_menu
>>> prj = write_menu_hls(load_menu("configs/menus/cms2024.yaml"), tempfile.mkdtemp())
>>> sorted(p.name for p in prj.directory.iterdir())
['build_prj.tcl', 'l1emu_menu.cpp', 'l1emu_menu.h', 'l1emu_menu_tb.cpp']
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from emulator.menu import Menu
from emulator.menu.hardware import (
    NO_MAX,
    HwAlways,
    HwCondition,
    HwLeg,
    HwObjects,
    HwScore,
    HwSeed,
    HwSum,
)
from firmware import _menu_cpp as cpp
from firmware._menu_layout import Field, ScoreKind, check_board_inputs, menu_fields
from firmware._templates import render
from firmware.errors import UnsupportedError

__all__ = ["DEFAULT_PART", "MenuProject", "write_menu_hls"]

log = logging.getLogger(__name__)

DEFAULT_PART = "xcvu9p-flga2104-2L-e"


@dataclass(frozen=True, slots=True)
class MenuProject:
    """The files of a generated menu project and the event record they read."""

    directory: Path
    top: str
    fields: tuple[Field, ...]
    n_seeds: int

    @property
    def header(self) -> Path:
        return self.directory / f"{self.top}.h"

    @property
    def source(self) -> Path:
        return self.directory / f"{self.top}.cpp"

    @property
    def testbench(self) -> Path:
        return self.directory / f"{self.top}_tb.cpp"

    @property
    def n_words(self) -> int:
        return sum(f.count for f in self.fields)


class _Emitter:
    """Collects one C++ function per distinct leg, correlation and condition."""

    def __init__(self, scores: dict[str, ScoreKind]) -> None:
        self.scores = scores
        self.legs: dict[HwLeg, str] = {}
        self.leg_code: list[str] = []
        self.corr_code: list[str] = []
        self.conds: dict[HwCondition, str] = {}
        self.cond_code: list[str] = []

    def leg(self, leg: HwLeg) -> str:
        if leg not in self.legs:
            self.legs[leg] = name = f"leg_{len(self.legs)}"
            self.leg_code.append(cpp.leg_cpp(leg, name))
        return self.legs[leg]

    def condition(self, cond: HwCondition) -> str:
        if cond in self.conds:
            return self.conds[cond]
        name = f"cond_{len(self.conds)}"
        if isinstance(cond, HwAlways):
            self.conds[cond] = "true"
            return "true"
        if isinstance(cond, HwSum):
            code = cpp.sum_cpp(cond, name)
        elif isinstance(cond, HwScore):
            code = cpp.score_cpp(cond, name, self.scores[cond.column])
        else:
            assert isinstance(cond, HwObjects)  # external conditions are refused by _check_hls_form
            code = self._objects(cond, name)
        self.conds[cond] = f"{name}(in)"
        self.cond_code.append(code)
        return self.conds[cond]

    def _objects(self, cond: HwObjects, name: str) -> str:
        if not 1 <= len(cond.legs) <= 4:
            msg = f"{len(cond.legs)} legs: the HLS menu supports 1 to 4 legs per condition"
            raise UnsupportedError(msg)
        legs = {leg: self.leg(leg) for leg in cond.legs}
        corrs = []
        for k, c in enumerate(cond.correlations):
            fn = f"{name}_corr{k}"
            colls = (cond.legs[c.legs[0]].collection, cond.legs[c.legs[1]].collection)
            self.corr_code.append(cpp.correlation_cpp(c, colls, fn))
            corrs.append(fn)
        return cpp.objects_cpp(cond, name, legs, corrs)


def _score_kinds(menu: Menu, scores: dict[str, ScoreKind] | None) -> dict[str, ScoreKind]:
    used = sorted({c.column for s in menu.hw_seeds for c in s.conditions if isinstance(c, HwScore)})
    given = scores or {}
    return {col: given.get(col, "float") for col in used}


def _members(fields: tuple[Field, ...]) -> str:
    return "\n".join(
        f"    {f.cpp_type} {f.member}{f'[{f.count}]' if f.count > 1 else ''};" for f in fields
    )


def _unpack(fields: tuple[Field, ...]) -> str:
    lines = []
    for f in fields:
        conv = {"float": "as_float(w[k++])", "double": "as_double(w[k++])"}.get(f.kind, f"{f.cpp_type}(w[k++])")
        if f.count == 1:
            lines.append(f"    in.{f.member} = {conv};")
        else:
            lines.append(f"    for (int i = 0; i < {f.count}; ++i) in.{f.member}[i] = {conv};")
    return "\n".join(lines)


def _partitions(fields: tuple[Field, ...]) -> str:
    return "\n".join(
        f"#pragma HLS ARRAY_PARTITION variable=in.{f.member} complete" for f in fields if f.count > 1
    )


def _uncovered_leg(leg: HwLeg) -> str:
    """What of a leg the HLS writer has no C++ for ("" when it covers all of it)."""
    parts = [("signed η windows", bool(leg.eta_windows)), ("φ windows", bool(leg.phi_windows)),
             ("a charge cut", leg.charge != 0), ("an upper pT cut", leg.pt_max != NO_MAX),
             ("object slices", leg.slots != (0, 11))]  # fmt: skip
    return ", ".join(name for name, used in parts if used)


def _check_hls_form(seed: HwSeed) -> None:
    """Raise UnsupportedError for what :func:`write_menu_hls` would otherwise drop silently."""
    check_board_inputs(seed, "HLS")
    for cond in seed.conditions:
        if isinstance(cond, HwSum) and cond.phi_windows:
            msg = f"φ windows on {cond.sum} have no HLS form yet"
            raise UnsupportedError(msg)
        if not isinstance(cond, HwObjects):
            continue
        for leg in cond.legs:
            if what := _uncovered_leg(leg):
                msg = f"{leg.collection} leg with {what}: no HLS form yet"
                raise UnsupportedError(msg)
        if cond.charge or cond.mass3 != (0, NO_MAX):
            msg = "all-legs charge or three-body mass: no HLS form yet"
            raise UnsupportedError(msg)
        for c in cond.correlations:
            if c.veto or c.tbpt2 or c.transverse or c.massdr != (0, NO_MAX):
                msg = "overlap-removal veto, two-body pT, transverse mass or M/ΔR: no HLS form yet"
                raise UnsupportedError(msg)


def write_menu_hls(
    menu: Menu, out_dir: str | Path, *, scores: dict[str, ScoreKind] | None = None,
    part: str = DEFAULT_PART, clock_mhz: float = 480.0, top: str = "l1emu_menu",
) -> MenuProject:  # fmt: skip
    """Write ``top``.h/.cpp, the g++ harness ``top``_tb.cpp and ``build_prj.tcl`` into ``out_dir``.

    ``scores`` gives the storage kind of each score column (default ``float``, i.e. float32).
    An unsupported condition raises :class:`UnsupportedError` naming the seed.
    """
    kinds = _score_kinds(menu, scores)
    fields = menu_fields(kinds)
    em = _Emitter(kinds)
    seed_lines = []
    for s, seed in enumerate(menu.hw_seeds):
        try:
            _check_hls_form(seed)
            terms = [em.condition(c) for c in seed.conditions] or ["true"]
        except UnsupportedError as exc:
            msg = f"menu {menu.name!r}: seed {s} ({seed.name}): {exc}"
            raise UnsupportedError(msg) from exc
        seed_lines.append(f"    bits[{s}] = {' && '.join(terms)};  // {seed.name}")
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    prj = MenuProject(root, top, fields, len(menu.hw_seeds))
    common = {"menu_name": menu.name, "top": top}
    files = {
        prj.header: render("menu.h.tpl", **common, n_seeds=prj.n_seeds, members=_members(fields)),
        prj.source: render(
            "menu.cpp.tpl", **common, header=prj.header.name, luts=cpp.lut_tables_cpp(),
            legs="\n".join(em.leg_code), correlations="\n".join(em.corr_code),
            conditions="\n".join(em.cond_code), partitions=_partitions(fields), seeds="\n".join(seed_lines),
        ),
        prj.testbench: render(
            "menu_tb.cpp.tpl", **common, header=prj.header.name, n_words=prj.n_words, unpack=_unpack(fields)
        ),
        root / "build_prj.tcl": render(
            "menu_build_prj.tcl.tpl", **common, source=prj.source.name, testbench=prj.testbench.name,
            part=part, clock_period_ns=f"{1000.0 / clock_mhz:.3f}",
        ),
    }
    for path, text in files.items():
        path.write_text(text)
    log.info("menu %s: %d seeds written as HLS C++ to %s", menu.name, prj.n_seeds, root)
    return prj
