"""The layer-op contract and its neutral (json + npz) serialisation.

An op maps a feature-major block of int64 mantissas ``(n_features_in, n_events)`` of type
``in_type`` to ``(n_features_out, n_events)`` of type ``out_type``. Ops are dataclasses:
fields typed ``np.ndarray`` go to the npz, ``FixedType`` fields to their C++ spelling, the
rest to json. ``init=False`` fields are derived in ``__post_init__`` and never stored.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

import numpy as np

from emulator.fixedpoint.audit import Tally
from emulator.fixedpoint.cast import fixed_cast, float_cast
from emulator.fixedpoint.errors import FixedPointError
from emulator.fixedpoint.types import FixedType

__all__ = ["OPS", "LayerCost", "Op", "Run", "Scratch", "op_from_spec", "register_op", "single_threaded_blas"]

OPS: dict[str, type[Op]] = {}
_LIMIT = 1 << 62  # largest magnitude any intermediate may reach


def register_op(cls: type[Op]) -> type[Op]:
    OPS[cls.kind] = cls
    return cls


@cache
def _blas_controller() -> Any:
    """threadpoolctl's view of the loaded BLAS libraries (None without threadpoolctl)."""
    try:
        from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]
    except ImportError:  # optional: without it the engine is as fast as an idle machine allows
        return None
    return ThreadpoolController()


def single_threaded_blas() -> AbstractContextManager[Any]:
    """Run the engine's float GEMMs on one BLAS thread.

    The batches are small and the engine parallelises over events itself; a multi-threaded
    OpenBLAS on a loaded machine is 10-100x slower than one thread.
    """
    controller = _blas_controller()
    return nullcontext() if controller is None else controller.limit(limits=1, user_api="blas")


class Scratch:
    """Reusable work buffers of one thread, grown on demand.

    Fresh multi-100-kB numpy arrays per block cost page faults (glibc returns them to the
    kernel on free); reusing buffers across blocks keeps the engine at memory speed.
    """

    def __init__(self) -> None:
        self._bufs: dict[tuple[str, str], np.ndarray] = {}

    def get(self, key: tuple[str, str], shape: tuple[int, ...], dtype: type = np.int64) -> np.ndarray:
        n = math.prod(shape)
        buf = self._bufs.get(key)
        if buf is None or buf.size < n or buf.dtype != dtype:
            buf = np.empty(n, dtype)
            self._bufs[key] = buf
        return buf[:n].reshape(shape)


@dataclass(frozen=True, slots=True)
class Run:
    """What one forward pass carries: the overflow tally (audit only) and the scratch space."""

    tally: Tally | None
    scratch: Scratch

    def buf(self, op: Op, key: str, shape: tuple[int, ...], dtype: type = np.int64) -> np.ndarray:
        return self.scratch.get((op.name, key), shape, dtype)


@dataclass(frozen=True, slots=True)
class LayerCost:
    """What a latency/resource estimator needs to know about one layer."""

    name: str
    kind: str
    multiplications: int  # products per event (zero weights excluded)
    reuse_factor: int = 1
    table_lookups: int = 0

    @property
    def multipliers(self) -> int:
        """DSP-like multipliers in parallel: ``ceil(multiplications / reuse_factor)``."""
        return math.ceil(self.multiplications / max(self.reuse_factor, 1))


@dataclass(frozen=True, eq=False)
class Op:
    """Base of every layer op (see module docstring)."""

    kind: ClassVar[str] = ""
    name: str
    in_type: FixedType
    out_type: FixedType
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]

    @property
    def n_in(self) -> int:
        return math.prod(self.in_shape)

    @property
    def n_out(self) -> int:
        return math.prod(self.out_shape)

    accepts_float: ClassVar[bool] = False  # may receive exact float mantissas

    @property
    def float_input(self) -> type | None:
        """The float dtype whose exact mantissas save this op a conversion (a float GEMM)."""
        return None

    def forward(self, x: np.ndarray, run: Run, *, float_out: type | None = None) -> np.ndarray:
        """``(n_events, n_in)`` mantissas of ``in_type`` -> ``(n_events, n_out)`` of ``out_type``.

        Inputs are int64 (exact float mantissas too where ``accepts_float``); ``float_out``
        asks for float mantissas of that dtype when the next op wants them (a hint: int64 is
        always valid).
        """
        raise NotImplementedError

    def cost(self) -> LayerCost:
        return LayerCost(self.name, self.kind, 0)

    def describe(self) -> str:
        return f"{self.kind}: {self.in_shape} -> {self.out_shape}, out {self.out_type}"

    # -- helpers shared by ops ----------------------------------------------
    def _cast(
        self,
        m: np.ndarray,
        frac: int,
        t: FixedType,
        run: Run,
        site: str,
        *,
        check: bool = True,
        relu: bool = False,
        float_out: type | None = None,
    ) -> np.ndarray:
        """Cast mantissas at ``frac`` fractional bits to ``t`` into this op's ``site`` buffer,
        counting overflows (``check=False`` when the value range provably fits; ``relu``
        clips negatives first; ``float_out`` writes exact float mantissas of that dtype)."""
        buf = run.buf(self, site, m.shape, float_out or np.int64)
        if m.dtype.kind == "f":
            out, n_ovf, _ = float_cast(m, t, frac=frac, out=buf, relu=relu)
        else:
            out, n_ovf = fixed_cast(m, frac, t, check=check, relu=relu, out=buf)
        if run.tally is not None:
            run.tally.add(self.name, site, t.overflow.value, values=out.size, overflowed=n_ovf)
        return out

    @staticmethod
    def _cast_n(m: np.ndarray, frac: int, t: FixedType) -> tuple[np.ndarray, int]:
        return fixed_cast(m, frac, t)

    def _check_bits(self, what: str, magnitude: int) -> None:
        if magnitude > _LIMIT:
            msg = (
                f"layer {self.name!r} ({self.kind}): {what} needs {magnitude.bit_length() + 1} bits, "
                "beyond the 63 an int64 mantissa allows"
            )
            raise FixedPointError(msg)

    # -- serialisation --------------------------------------------------------
    def to_spec(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        spec: dict[str, Any] = {"kind": self.kind}
        arrays: dict[str, np.ndarray] = {}
        for f in dataclasses.fields(self):
            if not f.init:
                continue
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                arrays[f.name] = value
            elif isinstance(value, FixedType):
                spec[f.name] = str(value)
            elif isinstance(value, tuple):
                spec[f.name] = list(value)
            else:
                spec[f.name] = value
        return spec, arrays


def op_from_spec(spec: dict[str, Any], arrays: dict[str, np.ndarray], *, where: str) -> Op:
    """Rebuild an op from :meth:`Op.to_spec` output (``where`` names the file and layer)."""
    kind = spec.get("kind")
    cls = OPS.get(str(kind))
    if cls is None:
        msg = f"{where}: unknown layer kind {kind!r}; known: {sorted(OPS)}"
        raise FixedPointError(msg)
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        typ = hints[f.name]
        if typ is np.ndarray:
            if f.name not in arrays:
                msg = f"{where}: array {f.name!r} is missing"
                raise FixedPointError(msg)
            kwargs[f.name] = arrays[f.name]
            continue
        if f.name not in spec:
            if f.default is not dataclasses.MISSING:
                continue
            msg = f"{where}: field {f.name!r} is missing"
            raise FixedPointError(msg)
        value = spec[f.name]
        if typ is FixedType:
            value = FixedType.parse(value)
        elif typing.get_origin(typ) is tuple:
            value = tuple(value)
        kwargs[f.name] = value
    return cls(**kwargs)
