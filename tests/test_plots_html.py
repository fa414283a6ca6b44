"""The HTML page: sections in order, tables escaped, images embedded or linked relative to the page."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from emulator.plots import PlotFile, Table, write_html
from emulator.plots.html import SECTIONS

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


def _plot(d: Path, name: str, section: str) -> PlotFile:
    (d / f"{name}.png").write_bytes(PNG)
    (d / f"{name}.json").write_text("{}")
    return PlotFile(name, d / f"{name}.png", d / f"{name}.json", f"title <{name}>", section)


def test_embedded_images_decode_to_the_png_files(tmp_path: Path) -> None:
    plots = [_plot(tmp_path, "b", "Latency"), _plot(tmp_path, "a", "Rates")]
    page = write_html(tmp_path / "index.html", title="T & co", plots=plots, tables=[]).read_text()
    srcs = re.findall(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]+)"', page)
    assert [(base64.b64decode(s), alt) for s, alt in srcs] == [(PNG, "title &lt;a&gt;"), (PNG, "title &lt;b&gt;")]
    assert re.findall(r"<h2[^>]*>([^<]+)</h2>", page) == ["Rates", "Latency"]  # page order, not call order
    assert "T &amp; co" in page
    assert "title &lt;a&gt;" in page
    assert 'href="a.json"' in page


def test_linked_images_are_relative_to_the_page(tmp_path: Path) -> None:
    sub = tmp_path / "png"
    sub.mkdir()
    plots = [_plot(sub, "x", "Overlaps")]
    page = write_html(tmp_path / "index.html", title="t", plots=plots, tables=[], embed=False).read_text()
    assert '<img src="png/x.png"' in page


def test_tables_escape_cells_and_empty_sections_are_left_out(tmp_path: Path) -> None:
    t = Table("Rate vs pileup", "fit", ("seed", "rate"), [("<b>", "1 ± 2")])
    page = write_html(tmp_path / "i.html", title="t", plots=[], tables=[t]).read_text()
    assert "<td>&lt;b&gt;</td><td>1 ± 2</td>" in page
    headings = re.findall(r"<h2[^>]*>([^<]+)</h2>", page)
    assert headings == ["Rate vs pileup"]
    assert set(headings) <= set(SECTIONS)
