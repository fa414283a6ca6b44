"""Fill the template files under ``firmware/templates/`` with named parameters.

Templates use ``string.Template`` placeholders (``${name}``); every placeholder must be
given and every given parameter must be used, so a renamed field fails loudly.
"""

from __future__ import annotations

import re
from importlib import resources
from string import Template

from firmware.errors import FirmwareError

__all__ = ["render"]

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def render(name: str, **params: object) -> str:
    """The text of template ``name`` with every ``${key}`` replaced by ``params[key]``."""
    try:
        text = resources.files("firmware").joinpath("templates", name).read_text()
    except OSError as exc:
        msg = f"firmware template {name!r} cannot be read ({exc})"
        raise FirmwareError(msg) from exc
    wanted = set(_PLACEHOLDER.findall(text))
    missing, extra = sorted(wanted - params.keys()), sorted(params.keys() - wanted)
    if missing or extra:
        msg = f"template {name!r}: missing parameters {missing}, unused parameters {extra}"
        raise FirmwareError(msg)
    return Template(text).substitute({k: str(v) for k, v in params.items()})
