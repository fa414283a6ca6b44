"""CMS anomaly-detection seeds on l1emu's own models: operating points by name, never by score.

A CMS menu cuts ``AXO[AXO-MODEL_v4, AXO-SCORE_Nominal]`` on CMS's AXOL1TL v4 score (415 in that
model's units). l1emu's ``score_axol1tl`` is another network on another scale, so a CMS threshold
compared with it would mean nothing. What a trigger engineer asks for with such a seed is the
*operating point*: CMS defines its AXO points by their zero-bias rate, and l1emu calibrates points
of the same kind (``l1emu calibrate``: VLoose, Loose, Medium, Tight, VTight at 20, 10, 5, 2, 1 kHz,
written into the default menu ``configs/menus/cms2024.yaml``). So a CMS AXO cut resolves to the
l1emu threshold of the operating point of the same name (CMS ``Nominal`` is l1emu's ``Medium``),
for the CMS model versions listed in :data:`AXO_MODELS`; any other name or version is reported
unsupported, never guessed.

>>> resolve_axo("v4", "Nominal")[0]
'score_axol1tl'
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Final

import yaml

__all__ = ["AXO_MODELS", "AXO_POINTS", "DEFAULT_MENU", "resolve_axo"]

#: CMS AXOL1TL model versions whose operating points map to l1emu's calibrated AXOL1TL points.
AXO_MODELS: Final = ("v4",)
#: CMS operating-point name (``AXO-SCORE_<name>``) -> l1emu's seed ``L1_AXO_<name>`` of the default menu.
AXO_POINTS: Final = {"VLoose": "VLoose", "Loose": "Loose", "Nominal": "Medium", "Tight": "Tight", "VTight": "VTight"}
#: The menu ``l1emu calibrate`` writes the operating points into.
DEFAULT_MENU: Final = Path(__file__).resolve().parents[2] / "configs" / "menus" / "cms2024.yaml"


@cache
def _points(path: Path) -> dict[str, tuple[str, float]]:
    """``{seed name: (score column, min)}`` of the single-score seeds of an l1emu YAML menu."""
    raw: Any = yaml.safe_load(path.read_text()) if path.is_file() else {}
    out: dict[str, tuple[str, float]] = {}
    for seed in (raw or {}).get("seeds", ()):
        conds: list[Any] = list(seed.get("conditions") or [])
        if len(conds) == 1 and "score" in conds[0]:
            out[str(seed["name"])] = (str(conds[0]["score"]), float(conds[0]["min"]))
    return out


def resolve_axo(model: str, point: str, menu: Path = DEFAULT_MENU) -> tuple[str, float] | str:
    """(score column, l1emu threshold) of CMS's AXO ``model``/``point``, or why there is none."""
    if model not in AXO_MODELS:
        return f"CMS AXOL1TL model {model!r} has no l1emu counterpart (mapped: {', '.join(AXO_MODELS)})"
    name = AXO_POINTS.get(point)
    if name is None:
        return f"AXO operating point {point!r} has no l1emu counterpart (mapped: {', '.join(AXO_POINTS)})"
    found = _points(menu).get(f"L1_AXO_{name}")
    if found is None:
        return f"l1emu's operating point L1_AXO_{name} is not calibrated in {menu} (l1emu calibrate)"
    return found
