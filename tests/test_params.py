from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pytest

from emulator.params import from_mapping
from streams.errors import ConfigError


@dataclass(frozen=True)
class Inner:
    x: int


@dataclass(frozen=True)
class Outer:
    name: str
    pair: tuple[int, float]
    many: tuple[int, ...] = ()
    mode: Literal["a", "b"] = "a"
    inner: Inner = field(default_factory=lambda: Inner(0))
    opt: float | None = None
    flag: bool = False


def test_builds_nested_typed_config() -> None:
    cfg = from_mapping(Outer, {"name": "n", "pair": [1, 2], "many": [3, 4], "mode": "b", "inner": {"x": 5},
                               "opt": 1, "flag": True}, where="f.yaml")
    assert cfg == Outer("n", (1, 2.0), (3, 4), "b", Inner(5), 1.0, True)


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"pair": [1, 2]}, "f.yaml: missing required field 'name'"),
        ({"name": "n", "pair": [1]}, "f.yaml.pair: expected 2 values, got 1"),
        ({"name": "n", "pair": [1.5, 2]}, "f.yaml.pair[0]: expected an integer, got 1.5"),
        ({"name": "n", "pair": [1, 2], "mode": "c"}, "f.yaml.mode: 'c' is not one of ['a', 'b']"),
        ({"name": "n", "pair": [1, 2], "inner": {"y": 1}}, "f.yaml.inner: unknown field(s) ['y']"),
        ({"name": "n", "pair": [1, 2], "opt": float("nan")}, "matches none of"),
        ({"name": "n", "pair": [1, 2], "flag": "yes"}, "f.yaml.flag: expected true/false"),
        ({"name": 3, "pair": [1, 2]}, "f.yaml.name: expected a string"),
        ([1, 2], "f.yaml: expected a mapping, got list"),
    ],
    ids=["missing", "tuple-length", "tuple-type", "literal", "nested-unknown", "nan", "bool", "str", "not-map"],
)
def test_errors_say_where(data: object, needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        from_mapping(Outer, data, where="f.yaml")
    assert needle in str(err.value)
