"""Frozen config dataclasses to JSON-ready values and back, strictly.

Decoding checks every field's type and refuses unknown and missing fields, naming
the path of the offending field (``workers[1].endpoint.link.hwm``).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, TypeVar

from streams.errors import ConfigError

__all__ = ["decode", "encode"]

T = TypeVar("T")


def encode(value: Any) -> Any:
    """Dataclasses become objects, tuples lists; everything else must already be JSON."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    return value


def _fail(where: str, what: str) -> ConfigError:
    return ConfigError(f"field {where or '<top>'!r}: {what}")


def decode(cls: type[T], data: Any, where: str = "") -> T:
    """Build ``cls`` from ``data``: every field present, none unknown, each of its declared type."""
    if not isinstance(data, dict):
        raise _fail(where, f"expected an object, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise _fail(f"{where}.{unknown[0]}" if where else unknown[0], "unknown field")
    missing = sorted(set(fields) - set(data))
    if missing:
        raise _fail(f"{where}.{missing[0]}" if where else missing[0], "missing")
    hints = typing.get_type_hints(cls)
    kwargs = {name: _value(data[name], hints[name], f"{where}.{name}" if where else name) for name in fields}
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise _fail(where, str(exc)) from exc


def _value(value: Any, typ: Any, where: str) -> Any:
    origin = typing.get_origin(typ)
    if typ is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(typ)
        if value is None:
            if type(None) in args:
                return None
            raise _fail(where, "may not be null")
        (inner,) = [a for a in args if a is not type(None)]
        return _value(value, inner, where)
    if origin is typing.Literal:
        if value not in typing.get_args(typ):
            raise _fail(where, f"{value!r} is not one of {list(typing.get_args(typ))}")
        return value
    if origin is tuple:
        args = typing.get_args(typ)
        if not isinstance(value, list):
            raise _fail(where, f"expected a list, got {type(value).__name__}")
        return tuple(_value(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        _, vt = typing.get_args(typ)
        if not isinstance(value, dict):
            raise _fail(where, f"expected an object, got {type(value).__name__}")
        return {str(k): _value(v, vt, f"{where}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(typ):
        return decode(typ, value, where)  # type: ignore[arg-type]
    return _scalar(value, typ, where)


def _scalar(value: Any, typ: Any, where: str) -> Any:
    if typ is bool:
        ok = isinstance(value, bool)
    elif typ is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif typ is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif typ is str:
        ok = isinstance(value, str)
    else:
        raise _fail(where, f"cannot read a {typ!r}")
    if not ok:
        raise _fail(where, f"expected {typ.__name__}, got {value!r}")
    return value
