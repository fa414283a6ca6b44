"""Typed, frozen configs built from YAML mappings, with errors that say where.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Cut:
...     pt_min: float
...     eta_max: float = 2.5
>>> from_mapping(Cut, {"pt_min": 20}, where="menu.yaml: seeds[0]")
Cut(pt_min=20.0, eta_max=2.5)
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

from streams.errors import ConfigError

__all__ = ["from_mapping", "load_yaml"]

T = TypeVar("T")


def load_yaml(path: str | Path) -> Any:
    """``yaml.safe_load`` a file; missing files and syntax errors become ConfigError."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        msg = f"{p}: cannot read config ({exc.strerror or exc})"
        raise ConfigError(msg) from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        msg = f"{p}:{line} invalid YAML ({getattr(exc, 'problem', exc)})"
        raise ConfigError(msg) from exc


def _coerce(value: Any, typ: Any, where: str) -> Any:
    origin = typing.get_origin(typ)
    if typ is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(typ)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where)
            except ConfigError as exc:
                errors.append(str(exc))
        msg = f"{where}: {value!r} matches none of {typ}"
        raise ConfigError(msg)
    if origin is typing.Literal:
        if value not in typing.get_args(typ):
            msg = f"{where}: {value!r} is not one of {list(typing.get_args(typ))}"
            raise ConfigError(msg)
        return value
    if origin is tuple:
        args = typing.get_args(typ)
        if not isinstance(value, list | tuple):
            msg = f"{where}: expected a list, got {type(value).__name__}"
            raise ConfigError(msg)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
        if len(args) != len(value):
            msg = f"{where}: expected {len(args)} values, got {len(value)}"
            raise ConfigError(msg)
        return tuple(
            _coerce(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args, strict=True))
        )
    if origin in (dict, Mapping) or typ in (dict, Mapping):
        if not isinstance(value, dict):
            msg = f"{where}: expected a mapping, got {type(value).__name__}"
            raise ConfigError(msg)
        return dict(value)
    if dataclasses.is_dataclass(typ):
        return from_mapping(typ, value, where=where)  # type: ignore[arg-type]
    if typ is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            msg = f"{where}: expected a number, got {value!r}"
            raise ConfigError(msg)
        if value != value or value in (float("inf"), float("-inf")):
            msg = f"{where}: {value!r} is not a finite number"
            raise ConfigError(msg)
        return float(value)
    if typ is int:
        if isinstance(value, bool) or not isinstance(value, int):
            msg = f"{where}: expected an integer, got {value!r}"
            raise ConfigError(msg)
        return value
    if typ is bool:
        if not isinstance(value, bool):
            msg = f"{where}: expected true/false, got {value!r}"
            raise ConfigError(msg)
        return value
    if typ is str:
        if not isinstance(value, str):
            msg = f"{where}: expected a string, got {value!r}"
            raise ConfigError(msg)
        return value
    return value


def from_mapping(cls: type[T], data: Any, *, where: str) -> T:
    """Build frozen dataclass ``cls`` from ``data``; unknown/missing/mistyped keys raise."""
    if not isinstance(data, Mapping):
        msg = f"{where}: expected a mapping, got {type(data).__name__}"
        raise ConfigError(msg)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        msg = f"{where}: unknown field(s) {unknown}; known: {sorted(fields)}"
        raise ConfigError(msg)
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                msg = f"{where}: missing required field {name!r}"
                raise ConfigError(msg)
            continue
        kwargs[name] = _coerce(data[name], hints[name], f"{where}.{name}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        msg = f"{where}: {exc}"
        raise ConfigError(msg) from exc
