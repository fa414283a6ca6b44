"""The LHC filling scheme: which of the orbit's 3564 bunch slots hold beam 1, beam 2 or both,
and the BPTX signals the uGT receives as external conditions, derived from it.

Bunch-crossing numbers (the ``bx`` column) count the orbit's slots from 1 to 3564, as
CMS's BX counter does. The BPTX detectors see each beam's bunches; the uGT gets their
combinations as external conditions (``EXT_BPTX_…_VME``), and a seed may read one at
another crossing (``EXT_BPTX_OR_VME-2``: the slot two before this one), so every signal
here is a mask over the orbit, read at ``bx + offset`` (wrapping around the orbit).

:data:`STANDARD` is l1emu's default Run-3 fill: 2544 colliding bunches in 53 trains of 48
(25 ns spacing), trains 17–18 empty slots apart, and a 119-slot (3 µs) abort gap at the end of
the orbit; it has no unpaired or isolated bunches. Generated samples put every crossing in
one of its colliding slots.

>>> STANDARD.colliding_bx()[:3].tolist(), len(STANDARD.colliding_bx())
([1, 2, 3], 2544)
>>> int(STANDARD.signal("EXT_BPTX_FirstCollisionInTrain_VME").sum())
53
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np

from streams.errors import ConfigError

__all__ = ["BPTX_SIGNALS", "ORBIT_SLOTS", "STANDARD", "FillingScheme", "trains"]

ORBIT_SLOTS: Final = 3564  # 25 ns slots per LHC orbit


def _first_in_train(on: np.ndarray) -> np.ndarray:
    return np.asarray(on & ~np.roll(on, 1))


def _last_in_train(on: np.ndarray) -> np.ndarray:
    return np.asarray(on & ~np.roll(on, -1))


def _first_in_orbit(on: np.ndarray) -> np.ndarray:
    out = np.zeros_like(on)
    if on.any():
        out[int(np.argmax(on))] = True
    return out


def _signals(b1: np.ndarray, b2: np.ndarray) -> dict[str, np.ndarray]:
    both = b1 & b2
    return {
        "EXT_BPTX_B1_VME": b1,
        "EXT_BPTX_B2_VME": b2,
        "EXT_BPTX_OR_VME": b1 | b2,
        "EXT_BPTX_NotOR_VME": ~(b1 | b2),
        "EXT_ZeroBias_BPTX_AND_VME": both,
        "EXT_BPTX_B1NotB2_VME": b1 & ~b2,
        "EXT_BPTX_B2NotB1_VME": b2 & ~b1,
        "EXT_BPTX_FirstCollisionInTrain_VME": _first_in_train(both),
        "EXT_BPTX_LastCollisionInTrain_VME": _last_in_train(both),
        "EXT_BPTX_FirstCollidingBunch_VME": _first_in_orbit(both),
    }


#: The BPTX external conditions l1emu derives from a filling scheme (uGT names).
BPTX_SIGNALS: Final = tuple(_signals(np.zeros(1, bool), np.zeros(1, bool)))


@dataclass(frozen=True, eq=False)
class FillingScheme:
    """Beam 1 and beam 2 occupancy of the orbit's slots (bool, 3564 each; slot k is bx k + 1)."""

    name: str
    beam1: np.ndarray
    beam2: np.ndarray
    _signals: dict[str, np.ndarray] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        for label, mask in (("beam1", self.beam1), ("beam2", self.beam2)):
            if mask.shape != (ORBIT_SLOTS,) or mask.dtype != np.bool_:
                got = f"{mask.dtype}{mask.shape}"
                msg = f"filling scheme {self.name!r}: {label} must be {ORBIT_SLOTS} booleans, got {got}"
                raise ConfigError(msg)
        signals = _signals(self.beam1, self.beam2)
        for mask in signals.values():
            mask.flags.writeable = False
        object.__setattr__(self, "_signals", signals)

    def signal(self, name: str) -> np.ndarray:
        """The named BPTX signal over the orbit (bool, 3564; index bx − 1)."""
        try:
            return self._signals[name]
        except KeyError:
            msg = f"{name!r} is not a BPTX signal derived from the filling scheme (known: {', '.join(BPTX_SIGNALS)})"
            raise ConfigError(msg) from None

    def colliding_bx(self) -> np.ndarray:
        """Bunch-crossing numbers (1…3564) of the colliding slots, in orbit order."""
        return (np.flatnonzero(self.beam1 & self.beam2) + 1).astype(np.uint16)


def trains(n_trains: int, bunches: int, abort_gap: int = 119, *, name: str = "") -> FillingScheme:
    """Equal trains of colliding bunches (25 ns), the empty slots spread evenly between them, then
    the abort gap at the end of the orbit."""
    filled = n_trains * bunches
    spare = ORBIT_SLOTS - abort_gap - filled
    if n_trains < 1 or bunches < 1 or abort_gap < 0 or spare < n_trains - 1:
        msg = f"{n_trains} trains of {bunches} and a {abort_gap}-slot abort gap do not fit the {ORBIT_SLOTS}-slot orbit"
        raise ConfigError(msg)
    on = np.zeros(ORBIT_SLOTS, bool)
    gaps = np.diff(np.round(np.linspace(0, spare, max(n_trains, 2))).astype(np.int64))
    start = 0
    for k in range(n_trains):
        on[start : start + bunches] = True
        start += bunches + (int(gaps[k]) if k < n_trains - 1 else 0)
    return FillingScheme(name or f"{filled}b_{n_trains}x{bunches}", on, on.copy())


#: l1emu's default fill (see the module docstring); ``lhc.n_bunches`` of the default chain.
STANDARD: Final = trains(53, 48, name="l1emu_2544b_53x48")
