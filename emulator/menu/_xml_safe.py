"""Parse untrusted XML: no document type declarations, no entities, so no entity expansion.

Menu and run-settings files never need a DTD. :mod:`defusedxml` is used when it is
installed; otherwise the standard library parses the text after a check that rejects any
``<!DOCTYPE`` or ``<!ENTITY`` (the only ways to declare entities, internal or external).

>>> parse_xml("<a><b>1</b></a>", source="x.xml").findtext("b")
'1'
>>> parse_xml('<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>', source="x.xml")
Traceback (most recent call last):
...
streams.errors.MenuError: x.xml: document type / entity declarations are not accepted (line 1)
"""

from __future__ import annotations

import importlib
import re
import xml.etree.ElementTree as ET
from typing import Any, Final

from emulator.errors import MenuError

__all__ = ["parse_xml"]

_DECL: Final = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _defused() -> Any:
    try:
        return importlib.import_module("defusedxml.ElementTree")
    except ImportError:
        return None


def parse_xml(text: str, *, source: str) -> ET.Element:
    """The root element of ``text``; DTDs, entities and malformed XML raise :class:`MenuError`."""
    m = _DECL.search(text)
    if m is not None:
        line = text.count("\n", 0, m.start()) + 1
        msg = f"{source}: document type / entity declarations are not accepted (line {line})"
        raise MenuError(msg)
    defused = _defused()
    try:
        root: ET.Element = (defused.fromstring(text) if defused is not None else ET.fromstring(text))
    except ET.ParseError as exc:
        msg = f"{source}: invalid XML ({exc})"
        raise MenuError(msg) from exc
    except Exception as exc:  # defusedxml's own refusals
        if defused is None or "defusedxml" not in type(exc).__module__:
            raise
        msg = f"{source}: refused XML ({exc})"
        raise MenuError(msg) from exc
    for el in root.iter():  # namespaces: keep local names (tmxsd:menu -> menu)
        if isinstance(el.tag, str) and "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]
    return root
