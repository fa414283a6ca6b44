"""Write a menu as l1emu YAML or uGT XML (tmxsd): ``l1emu menu convert`` underneath.

YAML keeps utm seeds as their expression with the menu's cut table, and l1emu seeds as
their conditions; XML keeps utm seeds verbatim and turns l1emu seeds into utm expressions
(:mod:`emulator.menu._utm_writer`; those without a utm form raise :class:`MenuError`, or are
left out with ``skip_inexpressible``). XML → YAML → XML keeps every seed's expression, index,
module, comment and cuts, and the menu's metadata; a ``<scale_set>`` is not written back.

>>> from emulator.menu import load_menu
>>> text = menu_to_yaml(load_menu("configs/menus/cms2024.yaml").config)
>>> text.startswith("name: cms2024")
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from emulator.errors import MenuError
from emulator.menu._conditions import KINDS, Condition
from emulator.menu._config import MenuConfig, SeedConfig
from emulator.menu._cuts import CutDef
from emulator.menu._grammar import atoms, functions, parse_expression
from emulator.menu._utm_writer import seed_expression
from emulator.menu._xml import XmlAlgorithm, write_tmxsd

__all__ = ["menu_to_mapping", "menu_to_xml", "menu_to_yaml", "write_menu"]

_KEY = {cls: key for key, cls in KINDS.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _fields(obj: Any) -> dict[str, Any]:
    """A dataclass's fields that differ from their defaults, in field order, as plain YAML data."""
    out = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if value != f.default:
            out[f.name] = [_fields(v) for v in value] if f.name in ("legs", "correlations") else _plain(value)
    return out


def _condition_mapping(cond: Condition) -> dict[str, Any]:
    """A condition's YAML mapping; its kind's key always comes first."""
    key = _KEY[type(cond)]
    out = _fields(cond)
    return {key: out.pop(key, _plain(getattr(cond, key)))} | out


def _prescale(seed: SeedConfig, columns: tuple[str, ...]) -> Any:
    values = [_plain(p) for p in seed.prescales]
    return values[0] if len(set(values)) == 1 else dict(zip(columns, values, strict=True))


def _seed(seed: SeedConfig, columns: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": seed.name, "prescale": _prescale(seed, columns)}
    if seed.utm is None:
        out["conditions"] = [_condition_mapping(c) for c in seed.conditions]
        return out
    u = seed.utm
    out["expression"] = u.expression
    out |= {k: v for k, v in (("index", u.index), ("module_id", u.module_id), ("module_index", u.module_index),
                               ("comment", u.comment)) if v not in (None, "")}  # fmt: skip
    return out


def menu_to_mapping(config: MenuConfig) -> dict[str, Any]:
    """The menu's YAML mapping (what :func:`emulator.menu._config.parse_menu` reads back)."""
    out: dict[str, Any] = {"name": config.name, "columns": list(config.columns)}
    out["default_column"] = config.default_column
    if config.meta:
        out["utm"] = dict(config.meta)
    if config.cuts:
        out["cuts"] = {c.name: c.as_dict() for c in config.cuts}
    out["seeds"] = [_seed(s, config.columns) for s in config.seeds]
    return out


def menu_to_yaml(config: MenuConfig) -> str:
    return yaml.safe_dump(menu_to_mapping(config), sort_keys=False, width=200, allow_unicode=True)


def _cut_names(expression: str, name: str) -> list[str]:
    tree = parse_expression(expression, where=f"seed {name}: expression")
    names = [c for a in atoms(tree) for c in a.cuts] + [c for f in functions(tree) for c in f.cuts]
    return list(dict.fromkeys(names))


def _algorithm(seed: SeedConfig, position: int, table: Mapping[str, CutDef]) -> XmlAlgorithm:
    if seed.utm is not None:
        u = seed.utm
        cuts = tuple(table[n] for n in _cut_names(u.expression, seed.name))
        return XmlAlgorithm(seed.name, u.expression, position if u.index is None else u.index, cuts,
                            u.module_id or 0, u.module_index or 0, u.comment)  # fmt: skip
    text, made = seed_expression(seed.name, seed.conditions)
    clash = [n for n, c in made.items() if n in table and table[n] != c]
    if clash:
        msg = f"seed {seed.name}: generated cut names {clash} clash with cuts of the menu"
        raise MenuError(msg)
    return XmlAlgorithm(seed.name, text, position, tuple(made.values()), 0, position)


def menu_to_xml(config: MenuConfig, *, skip_inexpressible: bool = False) -> tuple[str, list[str]]:
    """The tmxsd text of the menu and the seeds left out (only with ``skip_inexpressible``)."""
    table = {c.name: c for c in config.cuts}
    algos, skipped = [], []
    for i, seed in enumerate(config.seeds):
        try:
            algos.append(_algorithm(seed, i, table))
        except MenuError as exc:
            if not skip_inexpressible:
                raise
            skipped.append(f"{seed.name}: {exc}")
    used = [a.index for a in algos]
    clash = sorted({i for i in used if used.count(i) > 1})
    if clash:
        msg = f"{config.path}: algorithm indices repeat in the XML: {clash}"
        raise MenuError(msg)
    meta = {k: v for k, v in config.meta.items() if k != "scale_set"}
    return write_tmxsd(config.name, algos, meta), skipped


def write_menu(config: MenuConfig, path: str | Path, *, skip_inexpressible: bool = False) -> list[str]:
    """Write ``config`` as YAML or XML by ``path``'s suffix; returns the seeds left out of an XML."""
    p = Path(path)
    if p.suffix.lower() == ".xml":
        text, skipped = menu_to_xml(config, skip_inexpressible=skip_inexpressible)
    elif p.suffix.lower() in (".yaml", ".yml"):
        text, skipped = menu_to_yaml(config), []
    else:
        msg = f"{p}: write menus as .yaml/.yml (l1emu) or .xml (uGT tmxsd)"
        raise MenuError(msg)
    try:
        p.write_text(text, encoding="utf-8")
    except OSError as exc:
        msg = f"{p}: cannot write ({exc.strerror or exc})"
        raise MenuError(msg) from exc
    return skipped
